/**
 * A read-through cache of directory records (principals by id, domains by name): every SMTP
 * message, IMAP command and DAV request looks up the same few principals several times. It is
 * emptied by every nudge of the directory's change-log account (and the resync-all nudge
 * after a bus reconnect), which Storage publishes synchronously after each local directory
 * commit and the cross-node bus relays from other nodes: a node may serve a record changed
 * elsewhere for the few milliseconds a nudge takes to arrive, never after.
 *
 * A read that began before an invalidation does not fill the cache (generation check), so a
 * value read before a commit is never kept after it. Cached values are frozen: callers share
 * them.
 */

import type { ChangeBus } from '../change-bus.ts';
import { RESYNC_ALL_ACCOUNTS } from '../change-bus.ts';

/** Entries kept at most; past it the cache starts over (directories are read-mostly). */
const MAX_ENTRIES = 50_000;

export class RecordCache<K, V> {
  readonly #entries = new Map<K, V | undefined>();
  #generation = 0;

  /** Empty the cache on every nudge of `account` on `bus`. */
  constructor(bus: ChangeBus, account: number) {
    bus.subscribe((nudge) => {
      if (nudge.account === account || nudge.account === RESYNC_ALL_ACCOUNTS) this.clear();
    });
  }

  clear(): void {
    this.#generation++;
    this.#entries.clear();
  }

  /** The cached value of `key` (absent records are cached too), else `load`'s. */
  async get(key: K, load: () => Promise<V | undefined>): Promise<V | undefined> {
    if (this.#entries.has(key)) return this.#entries.get(key);
    const generation = this.#generation;
    const value = await load();
    if (generation === this.#generation) {
      if (this.#entries.size >= MAX_ENTRIES) this.#entries.clear();
      this.#entries.set(key, value === undefined ? undefined : deepFreeze(value));
    }
    return value;
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
