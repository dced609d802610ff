/**
 * Abuse limits per key (a client address, a user): at most `limit` events per window, counted
 * with the sliding-window approximation (the previous window's count weighted by how much of it
 * still overlaps). In-memory and node-local, bounded: the least recently used keys are evicted.
 */

interface Counter {
  start: number;
  current: number;
  previous: number;
}

export class RateLimiter {
  readonly #limit: number;
  readonly #windowMs: number;
  readonly #maxKeys: number;
  readonly #now: () => number;
  readonly #counters = new Map<string, Counter>();

  /** `limit` 0 means unlimited. */
  constructor(options: { limit: number; windowMs: number; maxKeys?: number; now?: () => number }) {
    this.#limit = options.limit;
    this.#windowMs = options.windowMs;
    this.#maxKeys = options.maxKeys ?? 100_000;
    this.#now = options.now ?? Date.now;
  }

  get unlimited(): boolean {
    return this.#limit <= 0;
  }

  /** Count one event for `key`; false (and nothing counted) when it is over the limit. */
  take(key: string): boolean {
    if (this.unlimited) return true;
    const now = this.#now();
    let c = this.#counters.get(key);
    if (c === undefined) {
      c = { start: now - (now % this.#windowMs), current: 0, previous: 0 };
    } else {
      this.#counters.delete(key);
      const elapsed = Math.floor((now - c.start) / this.#windowMs);
      if (elapsed >= 1) {
        c.previous = elapsed === 1 ? c.current : 0;
        c.current = 0;
        c.start += elapsed * this.#windowMs;
      }
    }
    // step: Map order = recency; re-insert and evict the oldest beyond the bound
    this.#counters.set(key, c);
    if (this.#counters.size > this.#maxKeys) {
      const oldest = this.#counters.keys().next().value;
      if (oldest !== undefined) this.#counters.delete(oldest);
    }
    const overlap = 1 - (now - c.start) / this.#windowMs;
    if (c.current + c.previous * overlap >= this.#limit) return false;
    c.current++;
    return true;
  }
}
