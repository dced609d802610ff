/**
 * WebDAV write locks (RFC 4918 §6-7) kept in the Store, so every node of a cluster sees the
 * same locks. Locks are grouped in lock spaces (one per DAV tree and account, e.g.
 * `files:12`); a space's locks are read with one prefix scan and changed in one commit guarded
 * by the space's revision counter, so two nodes can never both grant conflicting locks.
 *
 *   ('lock', space, token) -> LockRecord JSON
 *   ('lockrev', space)     -> int64, bumped by every change of the space
 *
 * Expired locks are invisible to readers and deleted by the next change of their space.
 */

import { CommuneError } from '../../core/errors.ts';
import { Subspace, decodeJson, encodeJson, keysEqual, pack, prefixRange } from '../keys.ts';
import type { Op } from '../store.ts';
import type { Storage } from '../storage.ts';

export type LockScope = 'exclusive' | 'shared';

export interface LockRecord {
  /** The lock token (a URI: `urn:uuid:...`). */
  readonly token: string;
  /** Decoded absolute DAV path of the lock root (collections end with '/'). */
  readonly root: string;
  readonly depth: 0 | 'infinity';
  readonly scope: LockScope;
  /** The client's DAV:owner element, serialized; undefined when none was given. */
  readonly owner: string | undefined;
  /** Principal id that created the lock. */
  readonly principal: number;
  /** Seconds granted at creation or last refresh. */
  readonly timeout: number;
  /** Epoch ms at which the lock lapses. */
  readonly expires: number;
}

export interface LockChange<T> {
  readonly add?: readonly LockRecord[];
  /** Tokens to remove. */
  readonly remove?: readonly string[];
  readonly result: T;
}

const MAX_ATTEMPTS = 16;
/** Locks one space may hold, so a client cannot fill the store with them. */
const MAX_LOCKS_PER_SPACE = 1000;

const key = {
  lock: (space: string, token: string) => pack(Subspace.files, 'lock', space, token),
  locks: (space: string) => pack(Subspace.files, 'lock', space),
  rev: (space: string) => pack(Subspace.files, 'lockrev', space),
};

export class LockStore {
  readonly #storage: Storage;
  readonly #now: () => number;

  constructor(storage: Storage, now: () => number = Date.now) {
    this.#storage = storage;
    this.#now = now;
  }

  /** The unexpired locks of a space. */
  async list(space: string): Promise<LockRecord[]> {
    return (await this.#scan(space)).filter((l) => l.expires > this.#now());
  }

  /**
   * Read the space's live locks, let `decide` choose what to add and remove, and commit that
   * atomically; `decide` runs again on fresh locks when another change won the race.
   */
  async update<T>(space: string, decide: (locks: LockRecord[]) => LockChange<T>): Promise<T> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const rev = await this.#storage.store.get(key.rev(space));
      const all = await this.#scan(space);
      const now = this.#now();
      const live = all.filter((l) => l.expires > now);
      const change = decide(live);
      const expired = all.filter((l) => l.expires <= now).map((l) => l.token);
      const removals = new Set([...(change.remove ?? []), ...expired]);
      const adds = change.add ?? [];
      if (adds.length === 0 && removals.size === 0) return change.result;
      if (live.length - (change.remove?.length ?? 0) + adds.length > MAX_LOCKS_PER_SPACE) {
        throw new CommuneError('over-quota', 'too many locks');
      }
      const ops: Op[] = [
        { type: 'expect', key: key.rev(space), value: rev },
        { type: 'incr', key: key.rev(space), delta: 1n },
      ];
      for (const token of removals) ops.push({ type: 'del', key: key.lock(space, token) });
      for (const lock of adds)
        ops.push({ type: 'put', key: key.lock(space, lock.token), value: encodeJson(lock) });
      const result = await this.#storage.commit({ ops });
      if (result.ok) return change.result;
      if (!keysEqual(result.conflict, key.rev(space))) break;
    }
    throw new CommuneError('conflict', 'too much concurrent locking, try again');
  }

  async #scan(space: string): Promise<LockRecord[]> {
    const out: LockRecord[] = [];
    for await (const [, raw] of this.#storage.store.scan(prefixRange(key.locks(space)))) {
      out.push(decodeJson<LockRecord>(raw));
    }
    return out;
  }
}
