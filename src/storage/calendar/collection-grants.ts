/**
 * Sharing of calendar and address-book collections, and delegation of whole homes, kept in
 * the CollectionStore's subspace beside the collections:
 *
 *   ('grant', account, collection)        -> Grant[] JSON: who may use the collection
 *   ('sharee', grantee, account, coll.)   -> marker: reverse index ("shared with me")
 *   ('homegrant', account)                -> Grant[] JSON: delegates of the whole home
 *   ('delegate', grantee, account)        -> marker: reverse index ("I am a delegate of")
 *
 * A grantee is a principal or a group (every member then holds the grant). Each change
 * writes the forward record and its reverse index entries in one commit; a collection grant
 * also expects the collection record, so it cannot outlive a concurrent removal (and the
 * store removes the grants with the collection, see `removalOps`). Reverse entries are only
 * hints: readers confirm each against the forward record.
 */

import type { AccessContext, Right } from '../../core/principal.ts';
import { CommuneError } from '../../core/errors.ts';
import { granteesOf, normalizeGrants, rightsFrom, withGrant, type Grant } from '../grants.ts';

/** What the owner of a home may do in it. */
const OWNER_RIGHTS: readonly Right[] = ['read', 'write', 'delete', 'share', 'admin'];
import { decodeJson, encodeJson, pack, prefixRange, unpack, type SubspaceId } from '../keys.ts';
import type { ChangeEntry, Op } from '../store.ts';
import type { Storage } from '../storage.ts';

/** A collection someone shared with (one of) the asking principals. */
export interface SharedCollection {
  readonly owner: number;
  readonly collection: string;
  /** Union of the rights granted to any of the asking ids. */
  readonly rights: readonly Right[];
}

/** A home whose owner made (one of) the asking principals a delegate. */
export interface Delegation {
  readonly owner: number;
  readonly rights: readonly Right[];
}

const MAX_ATTEMPTS = 16;
const MARKER = new Uint8Array([1]);

export class CollectionGrants {
  readonly #storage: Storage;
  readonly #subspace: SubspaceId;
  readonly #family: string;

  constructor(options: { storage: Storage; subspace: SubspaceId; family: string }) {
    this.#storage = options.storage;
    this.#subspace = options.subspace;
    this.#family = options.family;
  }

  #key(...elements: (string | number)[]): Uint8Array {
    return pack(this.#subspace, ...elements);
  }

  async #read(key: Uint8Array): Promise<{ grants: Grant[]; raw: Uint8Array | undefined }> {
    const raw = await this.#storage.store.get(key);
    return { grants: raw ? decodeJson<Grant[]>(raw) : [], raw };
  }

  // ---- collections ----

  /** The grants on a collection (empty when none, or no such collection). */
  async grantsOf(account: number, collection: string): Promise<Grant[]> {
    return (await this.#read(this.#key('grant', account, collection))).grants;
  }

  /** Replace the grants on a collection; 'not-found' when the collection does not exist. */
  setGrants(account: number, collection: string, grants: readonly Grant[]): Promise<void> {
    return this.updateGrants(account, collection, () => grants);
  }

  /** Give `principal` these rights on a collection (none or empty: revoke). */
  async setGrant(
    account: number,
    collection: string,
    principal: number,
    rights: readonly Right[] | undefined,
  ): Promise<void> {
    if (principal === account) {
      throw new CommuneError('invalid-argument', 'the owner cannot be given a grant');
    }
    return this.updateGrants(account, collection, (current) =>
      withGrant(current, principal, rights),
    );
  }

  /** Change the grants on a collection from the current ones, atomically. */
  async updateGrants(
    account: number,
    collection: string,
    edit: (current: readonly Grant[]) => readonly Grant[],
  ): Promise<void> {
    const colKey = this.#key('col', account, collection);
    const key = this.#key('grant', account, collection);
    await this.#transact(async () => {
      const col = await this.#storage.store.get(colKey);
      if (!col) throw new CommuneError('not-found', 'no such collection');
      const { grants: current, raw } = await this.#read(key);
      const next = normalizeGrants(edit(current)).filter((g) => g.principal !== account);
      const ops: Op[] = [
        { type: 'expect', key: colKey, value: col },
        { type: 'expect', key, value: raw },
        next.length > 0 ? { type: 'put', key, value: encodeJson(next) } : { type: 'del', key },
      ];
      const reverse = (g: Grant) => this.#key('sharee', g.principal, account, collection);
      const dropped = current.filter((g) => !next.some((n) => n.principal === g.principal));
      for (const g of dropped) ops.push({ type: 'del', key: reverse(g) });
      for (const g of next) ops.push({ type: 'put', key: reverse(g), value: MARKER });
      return {
        ops,
        changes: [{ account, collection: this.#family, id: collection, kind: 'updated' }],
      };
    });
  }

  /** Ops that remove a collection's grants with it (the caller commits them). */
  async removalOps(account: number, collection: string): Promise<Op[]> {
    const key = this.#key('grant', account, collection);
    const { grants, raw } = await this.#read(key);
    if (!raw) return [{ type: 'expect', key, value: undefined }];
    return [
      { type: 'expect', key, value: raw },
      { type: 'del', key },
      ...grants.map((g): Op => ({
        type: 'del',
        key: this.#key('sharee', g.principal, account, collection),
      })),
    ];
  }

  /**
   * Collections shared with any of `ids` (a principal and its groups), one entry per
   * collection with the union of the rights; collections owned by one of `ids` are left out.
   */
  async sharedWith(ids: readonly number[]): Promise<SharedCollection[]> {
    const found = new Map<string, { owner: number; collection: string }>();
    for (const id of ids) {
      for await (const [k] of this.#storage.store.scan(prefixRange(this.#key('sharee', id)))) {
        const [, , owner, collection] = unpack(k).elements as [string, number, number, string];
        if (!ids.includes(owner)) found.set(`${owner}\0${collection}`, { owner, collection });
      }
    }
    const who = new Set(ids);
    const out: SharedCollection[] = [];
    for (const { owner, collection } of found.values()) {
      const rights = rightsFrom(await this.grantsOf(owner, collection), who);
      if (rights.size > 0) out.push({ owner, collection, rights: [...rights] });
    }
    return out.sort((a, b) => a.owner - b.owner || a.collection.localeCompare(b.collection));
  }

  // ---- access decisions ----

  /**
   * The rights of `access` on `owner`'s whole home: every right for the owner, else what the
   * delegations give the principal or one of its groups.
   */
  async homeRights(access: AccessContext, owner: number): Promise<Set<Right>> {
    if (owner === access.principalId) return new Set(OWNER_RIGHTS);
    return rightsFrom(await this.homeGrants(owner), granteesOf(access));
  }

  /**
   * The rights of `access` on one of `owner`'s collections: the home rights (`home`, when
   * already known) plus the collection's grants. No grant at all: none.
   */
  async collectionRights(
    access: AccessContext,
    owner: number,
    collection: string,
    home?: ReadonlySet<Right>,
  ): Promise<Set<Right>> {
    const onHome = home ?? (await this.homeRights(access, owner));
    if (owner === access.principalId) return new Set(onHome);
    const granted = rightsFrom(await this.grantsOf(owner, collection), granteesOf(access));
    return new Set([...onHome, ...granted]);
  }

  // ---- homes (delegation) ----

  /** The delegates of a home. */
  async homeGrants(account: number): Promise<Grant[]> {
    return (await this.#read(this.#key('homegrant', account))).grants;
  }

  /** Replace the delegates of a home. */
  setHomeGrants(account: number, grants: readonly Grant[]): Promise<void> {
    return this.updateHomeGrants(account, () => grants);
  }

  /** Change the delegates of a home from the current ones, atomically. */
  async updateHomeGrants(
    account: number,
    edit: (current: readonly Grant[]) => readonly Grant[],
  ): Promise<void> {
    const key = this.#key('homegrant', account);
    await this.#transact(async () => {
      const { grants: current, raw } = await this.#read(key);
      const next = normalizeGrants(edit(current)).filter((g) => g.principal !== account);
      const ops: Op[] = [
        { type: 'expect', key, value: raw },
        next.length > 0 ? { type: 'put', key, value: encodeJson(next) } : { type: 'del', key },
      ];
      const reverse = (g: Grant) => this.#key('delegate', g.principal, account);
      const dropped = current.filter((g) => !next.some((n) => n.principal === g.principal));
      for (const g of dropped) ops.push({ type: 'del', key: reverse(g) });
      for (const g of next) ops.push({ type: 'put', key: reverse(g), value: MARKER });
      return { ops, changes: [] };
    });
  }

  /** Homes whose owners made any of `ids` a delegate, with the union of the rights. */
  async delegationsOf(ids: readonly number[]): Promise<Delegation[]> {
    const owners = new Set<number>();
    for (const id of ids) {
      for await (const [k] of this.#storage.store.scan(prefixRange(this.#key('delegate', id)))) {
        const owner = unpack(k).elements[2] as number;
        if (!ids.includes(owner)) owners.add(owner);
      }
    }
    const who = new Set(ids);
    const out: Delegation[] = [];
    for (const owner of [...owners].sort((a, b) => a - b)) {
      const rights = rightsFrom(await this.homeGrants(owner), who);
      if (rights.size > 0) out.push({ owner, rights: [...rights] });
    }
    return out;
  }

  async #transact(build: () => Promise<{ ops: Op[]; changes: ChangeEntry[] }>): Promise<void> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      if (attempt > 0) await sleep(Math.random() * Math.min(50, 2 ** attempt));
      const plan = await build();
      if ((await this.#storage.commit(plan)).ok) return;
    }
    throw new CommuneError('conflict', 'too much concurrent activity, try again');
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
