/**
 * The memory backend: a sorted array of entries. For tests and ephemeral runs; nothing
 * survives the process.
 */

import type { Batch, CommitResult, KeyRange, Store } from '../store.ts';
import { Mutex, keysToRead, planCommit } from '../commit-plan.ts';
import { compareKeys, keyHex } from '../keys.ts';

interface Entry {
  readonly key: Uint8Array;
  value: Uint8Array;
}

export class MemoryStore implements Store {
  readonly name = 'memory';
  #entries: Entry[] = [];
  #mutex = new Mutex();
  #closed = false;

  /** Index of the first entry whose key is >= key. */
  #lowerBound(key: Uint8Array): number {
    let lo = 0;
    let hi = this.#entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareKeys((this.#entries[mid] as Entry).key, key) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  #get(key: Uint8Array): Uint8Array | undefined {
    const i = this.#lowerBound(key);
    const e = this.#entries[i];
    return e && compareKeys(e.key, key) === 0 ? e.value : undefined;
  }

  #check(): void {
    if (this.#closed) throw new Error('store is closed');
  }

  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    this.#check();
    const v = this.#get(key);
    return v && Uint8Array.from(v);
  }

  async getMany(keys: readonly Uint8Array[]): Promise<(Uint8Array | undefined)[]> {
    this.#check();
    return keys.map((k) => {
      const v = this.#get(k);
      return v && Uint8Array.from(v);
    });
  }

  async *scan(range: KeyRange): AsyncIterable<readonly [Uint8Array, Uint8Array]> {
    this.#check();
    // Snapshot the matching slice now, so concurrent commits do not disturb the scan.
    let start = 0;
    if (range.gte) start = this.#lowerBound(range.gte);
    else if (range.gt) {
      start = this.#lowerBound(range.gt);
      const e = this.#entries[start];
      if (e && compareKeys(e.key, range.gt) === 0) start++;
    }
    let end = this.#entries.length;
    if (range.lt) end = this.#lowerBound(range.lt);
    else if (range.lte) {
      end = this.#lowerBound(range.lte);
      const e = this.#entries[end];
      if (e && compareKeys(e.key, range.lte) === 0) end++;
    }
    if (end <= start) return;
    let slice = this.#entries.slice(start, end).map((e) => [e.key, e.value] as const);
    if (range.reverse) slice.reverse();
    if (range.limit !== undefined) slice = slice.slice(0, Math.max(0, range.limit));
    for (const [k, v] of slice) yield [Uint8Array.from(k), Uint8Array.from(v)] as const;
  }

  async commit(batch: Batch): Promise<CommitResult> {
    this.#check();
    return this.#mutex.run(async () => {
      const reads = new Map(keysToRead(batch).map((k) => [keyHex(k), this.#get(k)]));
      const plan = planCommit(batch, (k) => reads.get(keyHex(k)));
      if (!plan.ok) return plan;
      for (const w of plan.writes) {
        const i = this.#lowerBound(w.key);
        const e = this.#entries[i];
        const exists = e !== undefined && compareKeys(e.key, w.key) === 0;
        if (w.value === undefined) {
          if (exists) this.#entries.splice(i, 1);
        } else if (exists) {
          e.value = Uint8Array.from(w.value);
        } else {
          this.#entries.splice(i, 0, {
            key: Uint8Array.from(w.key),
            value: Uint8Array.from(w.value),
          });
        }
      }
      return { ok: true, counters: plan.counters, changeIds: plan.changeIds };
    });
  }

  async healthCheck(): Promise<boolean> {
    return !this.#closed;
  }

  async close(): Promise<void> {
    this.#closed = true;
  }
}
