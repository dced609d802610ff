/**
 * DKIM signing keys, one per mail domain (RFC 6376 §3.1 selector, §3.6.1 key record), kept in
 * the store under Subspace.meta:
 *
 *   ('dkim', domain) -> DkimKey (JSON: selector, algorithm, PEM private key, public key)
 *
 * `generate` makes an RSA-2048 key pair (rsa-sha256, RFC 8301 §3.2: at least 1024 bits,
 * 2048 recommended) and replaces any previous key of the domain; `dnsRecord` is the TXT record
 * to publish at `<selector>._domainkey.<domain>`.
 */

import { generateKeyPair } from 'node:crypto';
import { promisify } from 'node:util';
import { CommuneError } from '../../core/errors.ts';
import { normalizeDomain } from '../directory/directory.ts';
import { Subspace, decodeJson, encodeJson, pack, prefixRange } from '../keys.ts';
import type { Storage } from '../storage.ts';

const generateKeyPairAsync = promisify(generateKeyPair);

export interface DkimKey {
  /** Lower-case ASCII domain (the d= tag). */
  readonly domain: string;
  /** The s= tag. */
  readonly selector: string;
  readonly algorithm: 'rsa-sha256';
  /** PKCS#8 PEM. */
  readonly privateKey: string;
  /** Base64 DER SubjectPublicKeyInfo: the p= tag of the key record. */
  readonly publicKey: string;
  readonly createdAt: string;
}

/** The DNS record that publishes a key. */
export interface DkimDnsRecord {
  /** Owner name, e.g. commune._domainkey.example.org */
  readonly name: string;
  readonly type: 'TXT';
  /** Record text (RFC 6376 §3.6.1). */
  readonly value: string;
}

/** RFC 6376 §3.1: a selector is one or more dot-separated DNS labels. */
const SELECTOR =
  /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;

const keyOf = (domain: string): Uint8Array => pack(Subspace.meta, 'dkim', domain);

export function dnsRecordOf(key: DkimKey): DkimDnsRecord {
  return {
    name: `${key.selector}._domainkey.${key.domain}`,
    type: 'TXT',
    value: `v=DKIM1; k=rsa; p=${key.publicKey}`,
  };
}

export class DkimKeys {
  readonly #storage: Storage;
  readonly #now: () => Date;

  constructor(storage: Storage, options: { now?: () => Date } = {}) {
    this.#storage = storage;
    this.#now = options.now ?? (() => new Date());
  }

  /** Make a new key for `domain` (replacing the old one) and return it. */
  async generate(domain: string, options: { selector: string; bits?: number }): Promise<DkimKey> {
    const name = normalizeDomain(domain);
    const selector = options.selector.trim().toLowerCase();
    if (!SELECTOR.test(selector)) throw new CommuneError('invalid-argument', 'invalid selector');
    const bits = options.bits ?? 2048;
    if (!Number.isInteger(bits) || bits < 1024 || bits > 4096) {
      throw new CommuneError('invalid-argument', 'key size must be 1024-4096 bits');
    }
    const { privateKey, publicKey } = await generateKeyPairAsync('rsa', {
      modulusLength: bits,
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'der' },
    });
    const key: DkimKey = {
      domain: name,
      selector,
      algorithm: 'rsa-sha256',
      privateKey,
      publicKey: Buffer.from(publicKey).toString('base64'),
      createdAt: this.#now().toISOString(),
    };
    const result = await this.#storage.commit({
      ops: [{ type: 'put', key: keyOf(name), value: encodeJson(key) }],
    });
    if (!result.ok) throw new CommuneError('conflict', 'could not store the DKIM key');
    return key;
  }

  async get(domain: string): Promise<DkimKey | undefined> {
    let name: string;
    try {
      name = normalizeDomain(domain);
    } catch {
      return undefined;
    }
    const raw = await this.#storage.store.get(keyOf(name));
    return raw && decodeJson<DkimKey>(raw);
  }

  async list(): Promise<DkimKey[]> {
    const out: DkimKey[] = [];
    for await (const [, raw] of this.#storage.store.scan(
      prefixRange(pack(Subspace.meta, 'dkim')),
    )) {
      out.push(decodeJson<DkimKey>(raw));
    }
    return out;
  }

  /** Remove the key of `domain`; false when there was none. */
  async remove(domain: string): Promise<boolean> {
    const name = normalizeDomain(domain);
    const key = keyOf(name);
    if ((await this.#storage.store.get(key)) === undefined) return false;
    const result = await this.#storage.commit({ ops: [{ type: 'del', key }] });
    return result.ok;
  }
}
