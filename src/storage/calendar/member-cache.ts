/**
 * An in-process cache of the members of collections (resource records and their index
 * records, e.g. occurrences), so that listing a 10,000-event calendar or answering a time
 * range reads one change counter instead of every record. Kept current from the change log
 * (DESIGN rule 5: readers re-read with a cursor): each read compares the account's change id
 * with the one the entry was read at and re-reads only the members changed since; a removed
 * or re-made collection, or a long stretch of changes, reloads the entry whole. Any process
 * sees the others' commits the same way, through the store. Bounded: the least recently
 * used collections are dropped past a number of cached members.
 */

import type { ResourceRecord, Versioned } from './collection-store.ts';

/** What the cache reads its entries from (the collection store's records). */
export interface MemberSource {
  /** The account's current change id. */
  version(account: number): Promise<bigint>;
  /**
   * Names of the collection's members changed after `since`; undefined when the collection
   * itself was removed or made since, or more than `limit` commits passed.
   */
  changedSince(
    account: number,
    collection: string,
    since: bigint,
    limit: number,
  ): Promise<readonly string[] | undefined>;
  /** Every member with its index record. */
  loadAll(account: number, collection: string): Promise<MemberRecords>;
  /** Some members (absent ones are missing from the result). */
  loadSome(account: number, collection: string, names: readonly string[]): Promise<MemberRecords>;
}

export interface MemberRecords {
  readonly resources: ReadonlyMap<string, Versioned<ResourceRecord>>;
  readonly indexes: ReadonlyMap<string, unknown>;
}

/** A collection's members as of `version`; it never changes once handed out. */
export interface MemberSnapshot {
  readonly version: bigint;
  readonly resources: ReadonlyMap<string, Versioned<ResourceRecord>>;
  readonly indexes: ReadonlyMap<string, unknown>;
  /** The resources in name order. */
  sorted(): readonly Versioned<ResourceRecord>[];
}

interface Entry {
  version: bigint;
  readonly resources: Map<string, Versioned<ResourceRecord>>;
  readonly indexes: Map<string, unknown>;
  sortedCache: Versioned<ResourceRecord>[] | undefined;
}

/** Commits read from the log to catch an entry up before reloading it whole instead. */
const CATCH_UP_LIMIT = 2000;

export class MemberCache {
  readonly #source: MemberSource;
  readonly #maxMembers: number;
  /** In least-recently-used order (a Map keeps insertion order). */
  readonly #entries = new Map<string, Entry>();
  readonly #refreshing = new Map<string, Promise<Entry>>();
  #members = 0;

  constructor(source: MemberSource, options: { maxMembers?: number } = {}) {
    this.#source = source;
    this.#maxMembers = options.maxMembers ?? 200_000;
  }

  /** The members of a collection as of now (or later). */
  async snapshot(account: number, collection: string): Promise<MemberSnapshot> {
    const key = `${account}/${collection}`;
    // One refresh per collection at a time; the others wait for it and check again
    for (;;) {
      const running = this.#refreshing.get(key);
      if (running) {
        await running.catch(() => undefined);
        continue;
      }
      const version = await this.#source.version(account);
      if (this.#refreshing.has(key)) continue;
      const cached = this.#entries.get(key);
      if (cached && cached.version >= version) return this.#view(key, cached);
      const refresh = this.#refresh(key, account, collection, version, cached);
      this.#refreshing.set(key, refresh);
      try {
        return this.#view(key, await refresh);
      } finally {
        this.#refreshing.delete(key);
      }
    }
  }

  async #refresh(
    key: string,
    account: number,
    collection: string,
    version: bigint,
    cached: Entry | undefined,
  ): Promise<Entry> {
    const changed =
      cached &&
      (await this.#source.changedSince(account, collection, cached.version, CATCH_UP_LIMIT));
    if (cached && changed) {
      if (changed.length === 0) {
        cached.version = version;
        return cached;
      }
      // Read after `version`: the records are at least that new. Snapshots handed out stay
      // as they were: the entry is copied, then changed.
      const fresh = await this.#source.loadSome(account, collection, changed);
      const next: Entry = {
        version,
        resources: new Map(cached.resources),
        indexes: new Map(cached.indexes),
        sortedCache: undefined,
      };
      for (const name of changed) {
        const r = fresh.resources.get(name);
        if (r) next.resources.set(name, r);
        else next.resources.delete(name);
        const idx = fresh.indexes.get(name);
        if (idx === undefined) next.indexes.delete(name);
        else next.indexes.set(name, idx);
      }
      this.#put(key, next);
      return next;
    }
    const all = await this.#source.loadAll(account, collection);
    const entry: Entry = {
      version,
      resources: new Map(all.resources),
      indexes: new Map(all.indexes),
      sortedCache: undefined,
    };
    this.#put(key, entry);
    return entry;
  }

  #put(key: string, entry: Entry): void {
    this.#drop(key);
    this.#entries.set(key, entry);
    this.#members += entry.resources.size;
    this.#evict(key);
  }

  #view(key: string, entry: Entry): MemberSnapshot {
    // Most recently used last
    if (this.#entries.get(key) === entry) {
      this.#entries.delete(key);
      this.#entries.set(key, entry);
    }
    return {
      version: entry.version,
      resources: entry.resources,
      indexes: entry.indexes,
      sorted: () => {
        entry.sortedCache ??= [...entry.resources.values()].sort((a, b) =>
          a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
        );
        return entry.sortedCache;
      },
    };
  }

  #drop(key: string): void {
    const old = this.#entries.get(key);
    if (!old) return;
    this.#members -= old.resources.size;
    this.#entries.delete(key);
  }

  /** Drop least recently used entries (never `keep`) while over the bound. */
  #evict(keep: string): void {
    for (const key of this.#entries.keys()) {
      if (this.#members <= this.#maxMembers) return;
      if (key !== keep) this.#drop(key);
    }
  }
}
