/**
 * DKIM signing of submitted mail (RFC 6376 §5): the key of the From domain signs the message,
 * relaxed/relaxed canonicalisation, rsa-sha256, the usual header set; the DKIM-Signature field
 * is prepended. A domain without a key is sent unsigned.
 */

import { dkimSign } from 'mailauth';
import type { Logger } from '../../core/log.ts';
import type { DkimKeys } from '../../storage/dkim/dkim-keys.ts';
import { prependHeaders } from './message-headers.ts';
import { addressDomain } from './recipient-router.ts';

export class DkimSigner {
  readonly #keys: DkimKeys;
  readonly #log: Logger;

  constructor(keys: DkimKeys, log: Logger) {
    this.#keys = keys;
    this.#log = log;
  }

  /** The message signed with the key of `fromAddress`'s domain, or as it is without a key. */
  async sign(message: Uint8Array, fromAddress: string, now = new Date()): Promise<Uint8Array> {
    const domain = addressDomain(fromAddress);
    const key = domain === undefined ? undefined : await this.#keys.get(domain);
    if (key === undefined) return message;
    const signature = {
      signingDomain: key.domain,
      selector: key.selector,
      privateKey: key.privateKey,
      algorithm: key.algorithm,
      canonicalization: 'relaxed/relaxed',
    };
    // step: mailauth signs what `signatureData` lists (the top-level fields are its typing)
    const result = await dkimSign(
      Buffer.from(message.buffer, message.byteOffset, message.byteLength),
      { ...signature, signTime: now, signatureData: [signature] },
    );
    if (result.errors.length > 0 || result.signatures.trim() === '') {
      this.#log.error(
        { protocol: 'smtp', domain: key.domain, err: result.errors[0] },
        'DKIM signing failed; sending unsigned',
      );
      return message;
    }
    return prependHeaders([result.signatures], message);
  }
}
