/**
 * The Directory: domains, principals (individuals, groups, resources, rooms), their addresses
 * and aliases, group membership, passwords and app passwords, and authentication for every
 * protocol. Records live under Subspace.directory as JSON:
 *
 *   ('domain', name)                  -> DomainRecord
 *   ('domainCount', name)             -> int64, addresses in the domain (guards removeDomain)
 *   ('principal', id)                 -> Principal
 *   ('rev', id)                       -> int64, bumped by membership changes (guards removal)
 *   ('address', address)              -> id (unique index: primary addresses and aliases)
 *   ('domainAddress', domain, address) -> id
 *   ('member', groupId, memberId)     -> ''
 *   ('memberOf', memberId, groupId)   -> ''
 *
 * Every mutation is one atomic commit guarded by `expect` preconditions (optimistic
 * concurrency: retried on a lost race, or turned into 'already-exists' for a taken address),
 * and appends change entries for account 0, collection 'directory' (id = principal id or
 * 'domain:<name>'), which LDAP and the global address books follow.
 */

import { createHash, randomBytes } from 'node:crypto';
import { domainToASCII } from 'node:url';
import type {
  AccessContext,
  ApiToken,
  AppPassword,
  AuthAttempt,
  AuthMethod,
  Principal,
  PrincipalKind,
  PrincipalProfile,
} from '../../core/principal.ts';
import { PROFILE_FIELDS } from '../../core/principal.ts';
import { CommuneError } from '../../core/errors.ts';
import type { ChangeEntry, ChangeKind, Op } from '../store.ts';
import type { Storage } from '../storage.ts';
import {
  Subspace,
  decodeCounter,
  decodeJson,
  encodeJson,
  keysEqual,
  pack,
  prefixRange,
  unpack,
} from '../keys.ts';
import { Argon2idHasher } from './password-hasher.ts';
import type { PasswordHasher } from './password-hasher.ts';
import { AuthRateLimiter } from './auth-rate-limiter.ts';
import { RecordCache } from './record-cache.ts';

/** The change-log account that carries directory changes (the system account). */
export const DIRECTORY_ACCOUNT = 0;
/** The change-log collection of directory changes. */
export const DIRECTORY_COLLECTION = 'directory';

export const PRINCIPAL_KINDS: readonly PrincipalKind[] = [
  'individual',
  'group',
  'resource',
  'room',
];

export interface DomainRecord {
  /** Lower-case ASCII (IDNA) domain name. */
  readonly name: string;
  readonly createdAt: string;
}

export interface CreatePrincipalInput {
  readonly address: string;
  readonly kind?: PrincipalKind;
  readonly displayName?: string;
  /** Only individuals have passwords. */
  readonly password?: string;
  /** Bytes; 0 = unlimited. */
  readonly quota?: number;
  readonly admin?: boolean;
  /** Create the address's domain when it does not exist yet. */
  readonly createDomain?: boolean;
}

/** A resolved recipient: the principal and the `+detail` of a subaddress, if any. */
export interface Recipient {
  readonly principal: Principal;
  /** `tag` for `alice+tag@example.test` (RFC 5233 detail); undefined otherwise. */
  readonly detail: string | undefined;
}

export interface NewAppPassword {
  readonly id: string;
  readonly label: string;
  /** The secret, shown once; only its hash is stored. */
  readonly secret: string;
}

export interface DirectoryOptions {
  readonly storage: Storage;
  /** Domain of bare local parts (`alice` = `alice@<primaryDomain>`). */
  readonly primaryDomain: string;
  readonly hasher?: PasswordHasher;
  readonly limiter?: AuthRateLimiter;
  readonly now?: () => Date;
}

/** RFC 5233 subaddress separator. */
const DETAIL_SEPARATOR = '+';
const MAX_PASSWORD = 1024;
const MAX_DISPLAY_NAME = 256;
const MAX_LABEL = 100;
const MAX_ATTEMPTS = 16;
/** RFC 5321 §4.5.3.1: local part <= 64 octets, path <= 256 (address <= 254). */
const MAX_LOCAL = 64;
const MAX_ADDRESS = 254;
const ATEXT = /^[a-z0-9!#$%&'*/=?^_`{|}~+-]+$/;
const DNS_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
/** App password alphabet: 32 symbols, no look-alikes (0/o, 1/l). */
const APP_ALPHABET = 'abcdefghijkmnpqrstuvwxyz23456789';
const APP_LENGTH = 16;

const key = {
  domain: (name: string) => pack(Subspace.directory, 'domain', name),
  domains: () => pack(Subspace.directory, 'domain'),
  domainCount: (name: string) => pack(Subspace.directory, 'domainCount', name),
  principal: (id: number) => pack(Subspace.directory, 'principal', id),
  principals: () => pack(Subspace.directory, 'principal'),
  rev: (id: number) => pack(Subspace.directory, 'rev', id),
  address: (address: string) => pack(Subspace.directory, 'address', address),
  domainAddress: (domain: string, address: string) =>
    pack(Subspace.directory, 'domainAddress', domain, address),
  domainAddresses: (domain: string) => pack(Subspace.directory, 'domainAddress', domain),
  member: (group: number, member: number) => pack(Subspace.directory, 'member', group, member),
  members: (group: number) => pack(Subspace.directory, 'member', group),
  memberOf: (member: number, group: number) => pack(Subspace.directory, 'memberOf', member, group),
  memberOfs: (member: number) => pack(Subspace.directory, 'memberOf', member),
  principalCounter: () => pack(Subspace.counter, 'principal'),
  token: (hash: string) => pack(Subspace.directory, 'token', hash),
};

/** Prefix of issued bearer tokens (helps secret scanners and humans recognise them). */
const TOKEN_PREFIX = 'cmn_';
const MAX_TOKEN = 256;

function tokenHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

const EMPTY = new Uint8Array(0);

/** What one optimistic transaction wants to commit. */
interface Plan<T> {
  readonly ops: Op[];
  readonly changes: ChangeEntry[];
  readonly result: T;
  /** A failed expectation on one of these keys is final (mapped to an error), not retried. */
  readonly final?: readonly (readonly [Uint8Array, () => CommuneError])[];
}

export interface ParsedAddress {
  readonly local: string;
  readonly domain: string;
  /** `local@domain`, lower-case. */
  readonly address: string;
}

/**
 * Parse and normalise `local@domain` (RFC 5321 §4.1.2 dot-atom local parts only; the domain
 * lower-cased and IDNA-encoded). Throws 'invalid-argument'. `+` is reserved as the detail
 * separator, so it is refused unless `allowDetail`.
 */
export function parseAddress(
  input: string,
  options: { allowDetail?: boolean } = {},
): ParsedAddress {
  const at = input.lastIndexOf('@');
  if (at <= 0) throw new CommuneError('invalid-argument', 'address must be local@domain');
  const local = input.slice(0, at).trim().toLowerCase();
  const domain = normalizeDomain(input.slice(at + 1));
  const address = `${local}@${domain}`;
  if (
    local.length > MAX_LOCAL ||
    address.length > MAX_ADDRESS ||
    !ATEXT.test(local.replaceAll('.', '')) ||
    local.startsWith('.') ||
    local.endsWith('.') ||
    local.includes('..') ||
    (!options.allowDetail && local.includes(DETAIL_SEPARATOR))
  ) {
    throw new CommuneError('invalid-argument', 'invalid address local part');
  }
  return { local, domain, address };
}

/** Lower-case, IDNA-encode and check a domain name (RFC 1035 §2.3.1 labels). */
export function normalizeDomain(input: string): string {
  const ascii = domainToASCII(input.trim().toLowerCase().replace(/\.$/, ''));
  if (ascii === '' || ascii.length > 253 || !ascii.split('.').every((l) => DNS_LABEL.test(l))) {
    throw new CommuneError('invalid-argument', 'invalid domain name');
  }
  return ascii;
}

export class Directory {
  readonly primaryDomain: string;
  readonly #storage: Storage;
  readonly #hasher: PasswordHasher;
  readonly #limiter: AuthRateLimiter;
  readonly #now: () => Date;
  readonly #principals: RecordCache<number, Principal>;
  readonly #domains: RecordCache<string, DomainRecord>;
  #dummyHash: Promise<string> | undefined;

  constructor(options: DirectoryOptions) {
    this.#storage = options.storage;
    this.#principals = new RecordCache(options.storage.bus, DIRECTORY_ACCOUNT);
    this.#domains = new RecordCache(options.storage.bus, DIRECTORY_ACCOUNT);
    this.primaryDomain = normalizeDomain(options.primaryDomain);
    this.#hasher = options.hasher ?? new Argon2idHasher();
    this.#limiter = options.limiter ?? new AuthRateLimiter();
    this.#now = options.now ?? (() => new Date());
  }

  /** The shared login rate limiter (other auth paths, e.g. SIP digest, report to it too). */
  get limiter(): AuthRateLimiter {
    return this.#limiter;
  }

  // ---- domains ----

  async addDomain(name: string): Promise<DomainRecord> {
    const domain = normalizeDomain(name);
    const record: DomainRecord = { name: domain, createdAt: this.#timestamp() };
    return this.#transact(async () => ({
      ops: [
        { type: 'expect', key: key.domain(domain), value: undefined },
        { type: 'put', key: key.domain(domain), value: encodeJson(record) },
      ],
      changes: [domainChange(domain, 'created')],
      result: record,
      final: [
        [key.domain(domain), () => new CommuneError('already-exists', `domain ${domain} exists`)],
      ],
    }));
  }

  async getDomain(name: string): Promise<DomainRecord | undefined> {
    let domain: string;
    try {
      domain = normalizeDomain(name);
    } catch {
      return undefined;
    }
    return this.#domains.get(domain, async () => {
      const raw = await this.#storage.store.get(key.domain(domain));
      return raw && decodeJson<DomainRecord>(raw);
    });
  }

  async listDomains(): Promise<DomainRecord[]> {
    const out: DomainRecord[] = [];
    for await (const [, raw] of this.#storage.store.scan(prefixRange(key.domains()))) {
      out.push(decodeJson<DomainRecord>(raw));
    }
    return out;
  }

  /** Remove an empty domain; 'conflict' while any address (primary or alias) is in it. */
  async removeDomain(name: string): Promise<void> {
    const domain = normalizeDomain(name);
    await this.#transact(async () => {
      const [raw, count] = await this.#storage.store.getMany([
        key.domain(domain),
        key.domainCount(domain),
      ]);
      if (raw === undefined) throw new CommuneError('not-found', 'no such domain');
      if (count !== undefined && decodeCounter(count) > 0) {
        throw new CommuneError('conflict', 'domain still has addresses');
      }
      return {
        ops: [
          { type: 'expect', key: key.domain(domain), value: raw },
          { type: 'expect', key: key.domainCount(domain), value: count },
          { type: 'del', key: key.domain(domain) },
          { type: 'del', key: key.domainCount(domain) },
        ],
        changes: [domainChange(domain, 'destroyed')],
        result: undefined,
      };
    });
  }

  // ---- principals ----

  async createPrincipal(input: CreatePrincipalInput): Promise<Principal> {
    // 1. Validate everything before touching the store.
    const { local, domain, address } = parseAddress(input.address);
    const kind = input.kind ?? 'individual';
    if (!PRINCIPAL_KINDS.includes(kind)) throw new CommuneError('invalid-argument', 'invalid kind');
    const displayName = checkDisplayName(input.displayName ?? local);
    const quota = checkQuota(input.quota ?? 0);
    if (input.password !== undefined && kind !== 'individual') {
      throw new CommuneError('invalid-argument', `a ${kind} cannot have a password`);
    }
    if ((await this.#storage.store.get(key.address(address))) !== undefined) {
      throw new CommuneError('already-exists', `address ${address} is taken`);
    }
    const passwordHash =
      input.password === undefined
        ? undefined
        : await this.#hasher.hash(checkPassword(input.password));

    // 2. Allocate the id, then create everything in one guarded commit.
    const id = await this.#allocateId();
    return this.#transact(async () => {
      const ops: Op[] = [];
      const changes: ChangeEntry[] = [];
      const domainRaw = await this.#storage.store.get(key.domain(domain));
      if (domainRaw === undefined) {
        if (input.createDomain !== true) throw new CommuneError('not-found', 'no such domain');
        const record: DomainRecord = { name: domain, createdAt: this.#timestamp() };
        ops.push(
          { type: 'expect', key: key.domain(domain), value: undefined },
          { type: 'put', key: key.domain(domain), value: encodeJson(record) },
        );
        changes.push(domainChange(domain, 'created'));
      } else {
        ops.push({ type: 'expect', key: key.domain(domain), value: domainRaw });
      }
      const principal: Principal = {
        id,
        kind,
        address,
        domain,
        displayName,
        addresses: [address],
        ...(passwordHash === undefined ? {} : { passwordHash }),
        appPasswords: [],
        quota,
        admin: input.admin ?? false,
        disabled: false,
        createdAt: this.#timestamp(),
      };
      ops.push(
        { type: 'expect', key: key.principal(id), value: undefined },
        { type: 'put', key: key.principal(id), value: encodeJson(principal) },
        ...addAddressOps(id, address, domain),
      );
      changes.push(principalChange(id, 'created'));
      return {
        ops,
        changes,
        result: principal,
        final: [
          [
            key.address(address),
            () => new CommuneError('already-exists', `address ${address} is taken`),
          ],
        ],
      };
    });
  }

  async getPrincipal(id: number): Promise<Principal | undefined> {
    if (!Number.isSafeInteger(id) || id <= 0) return undefined;
    return this.#principals.get(id, async () => {
      const raw = await this.#storage.store.get(key.principal(id));
      return raw && decodeJson<Principal>(raw);
    });
  }

  /**
   * Find the principal an address reaches: an exact address or alias, a bare local part in the
   * primary domain, or a subaddress `local+detail@domain` (RFC 5233). Case-insensitive.
   */
  async findByAddress(address: string): Promise<Principal | undefined> {
    return (await this.resolveRecipient(address))?.principal;
  }

  /**
   * Resolve a recipient address (SMTP RCPT TO, iMIP, sharing): as findByAddress, also
   * returning the subaddress detail. An exact match wins over detail stripping.
   */
  async resolveRecipient(address: string): Promise<Recipient | undefined> {
    const parsed = this.#parseLookup(address);
    if (parsed === undefined) return undefined;
    const exact = await this.#principalAt(parsed.address);
    if (exact) return { principal: exact, detail: undefined };
    const plus = parsed.local.indexOf(DETAIL_SEPARATOR);
    if (plus <= 0) return undefined;
    const base = await this.#principalAt(`${parsed.local.slice(0, plus)}@${parsed.domain}`);
    return base && { principal: base, detail: parsed.local.slice(plus + 1) };
  }

  async listPrincipals(
    filter: { domain?: string; kind?: PrincipalKind } = {},
  ): Promise<Principal[]> {
    const out: Principal[] = [];
    if (filter.domain === undefined) {
      for await (const [, raw] of this.#storage.store.scan(prefixRange(key.principals()))) {
        const p = decodeJson<Principal>(raw);
        if (filter.kind === undefined || p.kind === filter.kind) out.push(p);
      }
      return out;
    }
    // Principals whose primary address is in the domain, via the domain's address index.
    let domain: string;
    try {
      domain = normalizeDomain(filter.domain);
    } catch {
      return [];
    }
    const ids = new Set<number>();
    for await (const [, raw] of this.#storage.store.scan(
      prefixRange(key.domainAddresses(domain)),
    )) {
      ids.add(decodeJson<number>(raw));
    }
    const sorted = [...ids].sort((a, b) => a - b);
    const raws = await this.#storage.store.getMany(sorted.map((id) => key.principal(id)));
    for (const raw of raws) {
      if (raw === undefined) continue;
      const p = decodeJson<Principal>(raw);
      if (p.domain === domain && (filter.kind === undefined || p.kind === filter.kind)) out.push(p);
    }
    return out;
  }

  /** Remove a principal, freeing its addresses and dropping its memberships (both ways). */
  async removePrincipal(id: number): Promise<void> {
    await this.#transact(async () => {
      const { raw, principal } = await this.#require(id);
      const rev = await this.#storage.store.get(key.rev(id));
      const ops: Op[] = [
        { type: 'expect', key: key.principal(id), value: raw },
        { type: 'expect', key: key.rev(id), value: rev },
        { type: 'del', key: key.principal(id) },
        { type: 'del', key: key.rev(id) },
      ];
      const changes = [principalChange(id, 'destroyed')];
      for (const t of principal.tokens ?? []) ops.push({ type: 'del', key: key.token(t.hash) });
      for (const address of principal.addresses) {
        ops.push(...removeAddressOps(address, domainOf(address)));
      }
      for (const group of await this.#related(key.memberOfs(id))) {
        ops.push(
          { type: 'del', key: key.memberOf(id, group) },
          { type: 'del', key: key.member(group, id) },
        );
        changes.push(principalChange(group, 'updated'));
      }
      for (const member of await this.#related(key.members(id))) {
        ops.push(
          { type: 'del', key: key.member(id, member) },
          { type: 'del', key: key.memberOf(member, id) },
        );
        changes.push(principalChange(member, 'updated'));
      }
      return { ops, changes, result: undefined };
    });
  }

  async setPassword(id: number, password: string): Promise<void> {
    const passwordHash = await this.#hasher.hash(checkPassword(password));
    await this.#modify(id, (p) => {
      if (p.kind !== 'individual') {
        throw new CommuneError('invalid-argument', `a ${p.kind} cannot have a password`);
      }
      return { ...p, passwordHash };
    });
  }

  async setDisplayName(id: number, displayName: string): Promise<Principal> {
    const name = checkDisplayName(displayName);
    return this.#modify(id, (p) => ({ ...p, displayName: name }));
  }

  /**
   * Set or clear (empty string) profile attributes; fields not named are kept. Values are
   * single lines of at most 256 characters.
   */
  async setProfile(id: number, changes: PrincipalProfile): Promise<Principal> {
    const updates: Partial<Record<(typeof PROFILE_FIELDS)[number], string>> = {};
    for (const field of PROFILE_FIELDS) {
      const value = changes[field];
      if (value === undefined) continue;
      const trimmed = value.trim();
      if (trimmed.length > MAX_PROFILE_VALUE || /[\p{Cc}]/u.test(trimmed)) {
        throw new CommuneError('invalid-argument', `invalid ${field}`);
      }
      updates[field] = trimmed;
    }
    return this.#modify(id, (p) => {
      const profile: Record<string, string> = { ...(p.profile ?? {}) };
      for (const [field, value] of Object.entries(updates)) {
        if (value === '') delete profile[field];
        else profile[field] = value;
      }
      return { ...p, profile };
    });
  }

  async setQuota(id: number, quota: number): Promise<Principal> {
    const bytes = checkQuota(quota);
    return this.#modify(id, (p) => ({ ...p, quota: bytes }));
  }

  /** Disable or re-enable login (mail delivery and data are unaffected). */
  async setDisabled(id: number, disabled: boolean): Promise<Principal> {
    return this.#modify(id, (p) => ({ ...p, disabled }));
  }

  async setAdmin(id: number, admin: boolean): Promise<Principal> {
    return this.#modify(id, (p) => ({ ...p, admin }));
  }

  // ---- aliases ----

  async addAlias(id: number, alias: string): Promise<Principal> {
    const { domain, address } = parseAddress(alias);
    if ((await this.#storage.store.get(key.address(address))) !== undefined) {
      throw new CommuneError('already-exists', `address ${address} is taken`);
    }
    return this.#transact(async () => {
      const { raw, principal } = await this.#require(id);
      const domainRaw = await this.#storage.store.get(key.domain(domain));
      if (domainRaw === undefined) throw new CommuneError('not-found', 'no such domain');
      const next: Principal = { ...principal, addresses: [...principal.addresses, address] };
      return {
        ops: [
          { type: 'expect', key: key.principal(id), value: raw },
          { type: 'expect', key: key.domain(domain), value: domainRaw },
          { type: 'put', key: key.principal(id), value: encodeJson(next) },
          ...addAddressOps(id, address, domain),
        ],
        changes: [principalChange(id, 'updated')],
        result: next,
        final: [
          [
            key.address(address),
            () => new CommuneError('already-exists', `address ${address} is taken`),
          ],
        ],
      };
    });
  }

  /** Remove an alias; the primary address is not an alias and cannot be removed. */
  async removeAlias(alias: string): Promise<Principal> {
    const { domain, address } = parseAddress(alias, { allowDetail: true });
    return this.#transact(async () => {
      const indexRaw = await this.#storage.store.get(key.address(address));
      if (indexRaw === undefined) throw new CommuneError('not-found', 'no such alias');
      const id = decodeJson<number>(indexRaw);
      const { raw, principal } = await this.#require(id);
      if (principal.address === address) {
        throw new CommuneError('invalid-argument', 'the primary address is not an alias');
      }
      const next: Principal = {
        ...principal,
        addresses: principal.addresses.filter((a) => a !== address),
      };
      return {
        ops: [
          { type: 'expect', key: key.address(address), value: indexRaw },
          { type: 'expect', key: key.principal(id), value: raw },
          { type: 'put', key: key.principal(id), value: encodeJson(next) },
          ...removeAddressOps(address, domain),
        ],
        changes: [principalChange(id, 'updated')],
        result: next,
      };
    });
  }

  // ---- groups ----

  /** Add `memberId` (any kind, groups included) to group `groupId`; no-op when already in. */
  async addMember(groupId: number, memberId: number): Promise<void> {
    if (groupId === memberId)
      throw new CommuneError('invalid-argument', 'a group cannot contain itself');
    await this.#transact(async () => {
      const group = await this.#require(groupId);
      if (group.principal.kind !== 'group') {
        throw new CommuneError('invalid-argument', 'not a group');
      }
      const member = await this.#require(memberId);
      if ((await this.#storage.store.get(key.member(groupId, memberId))) !== undefined) {
        return { ops: [], changes: [], result: undefined };
      }
      return {
        ops: [
          { type: 'expect', key: key.principal(groupId), value: group.raw },
          { type: 'expect', key: key.principal(memberId), value: member.raw },
          { type: 'put', key: key.member(groupId, memberId), value: EMPTY },
          { type: 'put', key: key.memberOf(memberId, groupId), value: EMPTY },
          { type: 'incr', key: key.rev(groupId), delta: 1n },
          { type: 'incr', key: key.rev(memberId), delta: 1n },
        ],
        changes: [principalChange(groupId, 'updated'), principalChange(memberId, 'updated')],
        result: undefined,
      };
    });
  }

  /** Remove a direct membership; false when there was none. */
  async removeMember(groupId: number, memberId: number): Promise<boolean> {
    const raw = await this.#storage.store.get(key.member(groupId, memberId));
    if (raw === undefined) return false;
    const result = await this.#storage.commit({
      ops: [
        { type: 'del', key: key.member(groupId, memberId) },
        { type: 'del', key: key.memberOf(memberId, groupId) },
      ],
      changes: [principalChange(groupId, 'updated'), principalChange(memberId, 'updated')],
    });
    return result.ok;
  }

  /** Direct members of a group, by id order. */
  async members(groupId: number): Promise<Principal[]> {
    const ids = await this.#related(key.members(groupId));
    const raws = await this.#storage.store.getMany(ids.map((id) => key.principal(id)));
    return raws.flatMap((raw) => (raw === undefined ? [] : [decodeJson<Principal>(raw)]));
  }

  /** Ids of every group `id` belongs to, directly or through other groups (cycle-safe). */
  async groupsOf(id: number): Promise<number[]> {
    const seen = new Set<number>();
    const queue = [id];
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
      for (const group of await this.#related(key.memberOfs(next))) {
        if (group === id || seen.has(group)) continue;
        seen.add(group);
        queue.push(group);
      }
    }
    return [...seen].sort((a, b) => a - b);
  }

  // ---- app passwords ----

  /** Create an app password; the returned secret is shown once, only its hash is kept. */
  async addAppPassword(id: number, label: string): Promise<NewAppPassword> {
    const name = label.trim();
    if (name === '' || name.length > MAX_LABEL) {
      throw new CommuneError('invalid-argument', 'app password label must be 1-100 characters');
    }
    const secret = generateAppSecret();
    const appPassword: AppPassword = {
      id: randomBytes(9).toString('base64url'),
      label: name,
      hash: await this.#hasher.hash(secret),
      createdAt: this.#timestamp(),
    };
    await this.#modify(id, (p) => {
      if (p.kind !== 'individual') {
        throw new CommuneError('invalid-argument', `a ${p.kind} cannot have app passwords`);
      }
      return { ...p, appPasswords: [...p.appPasswords, appPassword] };
    });
    return { id: appPassword.id, label: name, secret: formatAppSecret(secret) };
  }

  async removeAppPassword(id: number, appId: string): Promise<void> {
    await this.#modify(id, (p) => {
      if (!p.appPasswords.some((a) => a.id === appId)) {
        throw new CommuneError('not-found', 'no such app password');
      }
      return { ...p, appPasswords: p.appPasswords.filter((a) => a.id !== appId) };
    });
  }

  // ---- bearer tokens ----

  /**
   * Issue a bearer token for HTTP APIs (RFC 6750). The secret is returned once; only its
   * SHA-256 is kept. `ttlSeconds` bounds its life (absent = until revoked).
   */
  async createToken(
    id: number,
    label: string,
    ttlSeconds?: number,
  ): Promise<{ id: string; label: string; token: string; expiresAt?: string }> {
    const name = label.trim();
    if (name === '' || name.length > MAX_LABEL) {
      throw new CommuneError('invalid-argument', 'token label must be 1-100 characters');
    }
    if (ttlSeconds !== undefined && (!Number.isSafeInteger(ttlSeconds) || ttlSeconds <= 0)) {
      throw new CommuneError(
        'invalid-argument',
        'token lifetime must be a positive number of seconds',
      );
    }
    const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
    const created = this.#now();
    const record: ApiToken = {
      id: randomBytes(9).toString('base64url'),
      label: name,
      hash: tokenHash(token),
      createdAt: created.toISOString(),
      ...(ttlSeconds !== undefined
        ? { expiresAt: new Date(created.getTime() + ttlSeconds * 1000).toISOString() }
        : {}),
    };
    await this.#transact(async () => {
      const { raw, principal } = await this.#require(id);
      if (principal.kind !== 'individual') {
        throw new CommuneError('invalid-argument', `a ${principal.kind} cannot have tokens`);
      }
      const next: Principal = { ...principal, tokens: [...(principal.tokens ?? []), record] };
      return {
        ops: [
          { type: 'expect', key: key.principal(id), value: raw },
          { type: 'expect', key: key.token(record.hash), value: undefined },
          { type: 'put', key: key.principal(id), value: encodeJson(next) },
          { type: 'put', key: key.token(record.hash), value: encodeJson(id) },
        ],
        changes: [principalChange(id, 'updated')],
        result: undefined,
      };
    });
    return {
      id: record.id,
      label: name,
      token,
      ...(record.expiresAt !== undefined ? { expiresAt: record.expiresAt } : {}),
    };
  }

  async revokeToken(id: number, tokenId: string): Promise<void> {
    await this.#transact(async () => {
      const { raw, principal } = await this.#require(id);
      const token = (principal.tokens ?? []).find((t) => t.id === tokenId);
      if (!token) throw new CommuneError('not-found', 'no such token');
      const next: Principal = {
        ...principal,
        tokens: (principal.tokens ?? []).filter((t) => t.id !== tokenId),
      };
      return {
        ops: [
          { type: 'expect', key: key.principal(id), value: raw },
          { type: 'put', key: key.principal(id), value: encodeJson(next) },
          { type: 'del', key: key.token(token.hash) },
        ],
        changes: [principalChange(id, 'updated')],
        result: undefined,
      };
    });
  }

  /**
   * Authenticate a bearer token. Failures count against the client address in the shared
   * rate limiter; an unknown, revoked or expired token is the same 'auth-failed'.
   */
  async authenticateToken(token: string, remoteAddress = ''): Promise<AccessContext> {
    const login = `token:${remoteAddress}`;
    const verdict = this.#limiter.check(login, remoteAddress);
    if (!verdict.allowed) {
      throw new CommuneError('rate-limited', 'too many failed logins, try again later', {
        retryAfter: verdict.retryAfter,
      });
    }
    const fail = (): never => {
      this.#limiter.recordFailure(login, remoteAddress);
      throw new CommuneError('auth-failed', 'invalid token');
    };
    if (!token.startsWith(TOKEN_PREFIX) || token.length > MAX_TOKEN) return fail();
    const hash = tokenHash(token);
    const raw = await this.#storage.store.get(key.token(hash));
    if (raw === undefined) return fail();
    const principal = await this.getPrincipal(decodeJson<number>(raw));
    const record = principal?.tokens?.find((t) => t.hash === hash);
    if (!principal || !record || principal.disabled) return fail();
    if (record.expiresAt !== undefined && Date.parse(record.expiresAt) <= this.#now().getTime()) {
      return fail();
    }
    return this.accessContext(principal, 'token');
  }

  // ---- authentication ----

  /**
   * Authenticate a login for any protocol. The login is the primary address or, in the
   * primary domain, the bare local part (case-insensitive); the password is the main password
   * or an app password. Every failure is the same 'auth-failed', and unknown logins still
   * cost one hash verification so timing does not tell whether an account exists.
   */
  async authenticate(attempt: AuthAttempt): Promise<AccessContext> {
    const login = this.#loginName(attempt.login);
    const remote = attempt.remoteAddress ?? '';
    const verdict = this.#limiter.check(login, remote);
    if (!verdict.allowed) {
      throw new CommuneError('rate-limited', 'too many failed logins, try again later', {
        retryAfter: verdict.retryAfter,
      });
    }
    const principal = await this.#loginPrincipal(login);
    const method = await this.#verify(principal, attempt.password);
    if (principal === undefined || method === undefined) {
      this.#limiter.recordFailure(login, remote);
      throw new CommuneError('auth-failed', 'invalid credentials');
    }
    this.#limiter.recordSuccess(login);
    return this.accessContext(principal, method);
  }

  /** The AccessContext of a principal already authenticated some other way (tokens, internal). */
  async accessContext(principal: Principal, method: AuthMethod): Promise<AccessContext> {
    return {
      principalId: principal.id,
      address: principal.address,
      displayName: principal.displayName,
      kind: principal.kind,
      memberOf: await this.groupsOf(principal.id),
      admin: principal.admin,
      method,
    };
  }

  /** Which password matched, or undefined; always at least one hash verification. */
  async #verify(
    principal: Principal | undefined,
    password: string,
  ): Promise<AuthMethod | undefined> {
    const usable = password.length > 0 && password.length <= MAX_PASSWORD;
    const hash = principal?.passwordHash;
    if (
      principal === undefined ||
      principal.kind !== 'individual' ||
      principal.disabled ||
      hash === undefined ||
      !usable
    ) {
      this.#dummyHash ??= this.#hasher.hash(randomBytes(18).toString('base64url'));
      await this.#hasher.verify(await this.#dummyHash, usable ? password : 'x');
      return undefined;
    }
    if (await this.#hasher.verify(hash, password)) return 'password';
    // App passwords are tried only for input shaped like one, so cost does not reveal them.
    const secret = normalizeAppSecret(password);
    if (secret === undefined) return undefined;
    for (const app of principal.appPasswords) {
      if (await this.#hasher.verify(app.hash, secret)) return 'app-password';
    }
    return undefined;
  }

  /** Lower-cased login with a bare local part completed to the primary domain. */
  #loginName(login: string): string {
    const name = login.trim().toLowerCase();
    return name.includes('@') ? name : `${name}@${this.primaryDomain}`;
  }

  async #loginPrincipal(login: string): Promise<Principal | undefined> {
    let parsed: ParsedAddress;
    try {
      parsed = parseAddress(login, { allowDetail: true });
    } catch {
      return undefined;
    }
    const principal = await this.#principalAt(parsed.address);
    // Logins use the primary address only, never an alias.
    return principal?.address === parsed.address ? principal : undefined;
  }

  // ---- internals ----

  #parseLookup(address: string): ParsedAddress | undefined {
    const input = address.trim();
    try {
      return parseAddress(input.includes('@') ? input : `${input}@${this.primaryDomain}`, {
        allowDetail: true,
      });
    } catch {
      return undefined;
    }
  }

  async #principalAt(address: string): Promise<Principal | undefined> {
    const raw = await this.#storage.store.get(key.address(address));
    return raw && this.getPrincipal(decodeJson<number>(raw));
  }

  async #require(id: number): Promise<{ raw: Uint8Array; principal: Principal }> {
    const raw =
      Number.isSafeInteger(id) && id > 0
        ? await this.#storage.store.get(key.principal(id))
        : undefined;
    if (raw === undefined) throw new CommuneError('not-found', 'no such principal');
    return { raw, principal: decodeJson<Principal>(raw) };
  }

  /** The last tuple element (a principal id) of every key under `prefix`. */
  async #related(prefix: Uint8Array): Promise<number[]> {
    const out: number[] = [];
    for await (const [k] of this.#storage.store.scan(prefixRange(prefix))) {
      out.push(unpack(k).elements.at(-1) as number);
    }
    return out;
  }

  async #allocateId(): Promise<number> {
    const result = await this.#storage.commit({
      ops: [{ type: 'incr', key: key.principalCounter(), delta: 1n }],
    });
    if (!result.ok || result.counters[0] === undefined) {
      throw new CommuneError('unavailable', 'could not allocate a principal id');
    }
    return Number(result.counters[0]);
  }

  /** Read-modify-write of one principal record. */
  #modify(id: number, change: (p: Principal) => Principal): Promise<Principal> {
    return this.#transact(async () => {
      const { raw, principal } = await this.#require(id);
      const next = change(principal);
      return {
        ops: [
          { type: 'expect', key: key.principal(id), value: raw },
          { type: 'put', key: key.principal(id), value: encodeJson(next) },
        ],
        changes: [principalChange(id, 'updated')],
        result: next,
      };
    });
  }

  /** Build and commit a plan, rebuilding it from fresh reads when it lost a race. */
  async #transact<T>(build: () => Promise<Plan<T>>): Promise<T> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const plan = await build();
      if (plan.ops.length === 0 && plan.changes.length === 0) return plan.result;
      const result = await this.#storage.commit({ ops: plan.ops, changes: plan.changes });
      if (result.ok) return plan.result;
      const final = plan.final?.find(([k]) => keysEqual(k, result.conflict));
      if (final) throw final[1]();
    }
    throw new CommuneError('conflict', 'too much concurrent directory activity, try again');
  }

  #timestamp(): string {
    return this.#now().toISOString();
  }
}

function addAddressOps(id: number, address: string, domain: string): Op[] {
  return [
    { type: 'expect', key: key.address(address), value: undefined },
    { type: 'put', key: key.address(address), value: encodeJson(id) },
    { type: 'put', key: key.domainAddress(domain, address), value: encodeJson(id) },
    { type: 'incr', key: key.domainCount(domain), delta: 1n },
  ];
}

function removeAddressOps(address: string, domain: string): Op[] {
  return [
    { type: 'del', key: key.address(address) },
    { type: 'del', key: key.domainAddress(domain, address) },
    { type: 'incr', key: key.domainCount(domain), delta: -1n },
  ];
}

function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1);
}

function principalChange(id: number, kind: ChangeKind): ChangeEntry {
  return { account: DIRECTORY_ACCOUNT, collection: DIRECTORY_COLLECTION, id: String(id), kind };
}

function domainChange(name: string, kind: ChangeKind): ChangeEntry {
  return {
    account: DIRECTORY_ACCOUNT,
    collection: DIRECTORY_COLLECTION,
    id: `domain:${name}`,
    kind,
  };
}

function checkPassword(password: string): string {
  if (password.length === 0 || password.length > MAX_PASSWORD) {
    throw new CommuneError('invalid-argument', `password must be 1-${MAX_PASSWORD} characters`);
  }
  return password;
}

const MAX_PROFILE_VALUE = 256;

function checkDisplayName(name: string): string {
  const trimmed = name.trim();
  if (trimmed.length > MAX_DISPLAY_NAME || /[\p{Cc}]/u.test(trimmed)) {
    throw new CommuneError('invalid-argument', 'invalid display name');
  }
  return trimmed;
}

function checkQuota(quota: number): number {
  if (!Number.isSafeInteger(quota) || quota < 0) {
    throw new CommuneError('invalid-argument', 'quota must be a non-negative integer');
  }
  return quota;
}

/** 16 symbols from APP_ALPHABET (80 bits); 256 is a multiple of 32, so no modulo bias. */
function generateAppSecret(): string {
  return [...randomBytes(APP_LENGTH)].map((b) => APP_ALPHABET[b & 31]).join('');
}

/** Shown as `abcd-efgh-jkmn-pqrs`. */
function formatAppSecret(secret: string): string {
  return secret.match(/.{4}/g)?.join('-') ?? secret;
}

/** The canonical secret for input shaped like an app password (any case, dashes/spaces). */
function normalizeAppSecret(input: string): string | undefined {
  const s = input.toLowerCase().replace(/[-\s]/g, '');
  if (s.length !== APP_LENGTH) return undefined;
  for (const c of s) if (!APP_ALPHABET.includes(c)) return undefined;
  return s;
}
