/**
 * Coalescing of concurrent requests per key: requests submitted while a batch of the same key
 * is being committed wait together and go as the next batch, so N concurrent deliveries to
 * one account cost a few commits (and fsyncs) instead of N in a row. Batches keep submission
 * order.
 *
 * By default one batch per key runs at a time. With `pipeline` (at most that many batches in
 * flight per key) a batch may start while another commits, so its commit joins the store's
 * next group commit instead of waiting a whole round; `conflicts` keeps a request out of a
 * batch while an earlier request it must follow is still in flight (it then waits, and so do
 * the requests behind it).
 */

interface Waiter<I, R> {
  readonly item: I;
  readonly resolve: (value: R) => void;
  readonly reject: (reason: unknown) => void;
}

/** Runs one batch: an outcome per item, in order (an Error rejects that item alone). */
export type BatchRunner<K, I, R> = (key: K, items: readonly I[]) => Promise<(R | Error)[]>;

export interface CoalescerOptions<I> {
  /** Requests per batch at most (default 256). */
  readonly maxBatch?: number;
  /** Batches in flight per key at most (default 1). */
  readonly pipeline?: number;
  /** Whether `item` must wait for `earlier` (in flight) to finish; default never. */
  readonly conflicts?: (item: I, earlier: I) => boolean;
}

interface KeyState<I, R> {
  readonly queue: Waiter<I, R>[];
  readonly inFlight: Set<readonly I[]>;
}

export class Coalescer<K, I, R> {
  readonly #keys = new Map<K, KeyState<I, R>>();
  readonly #run: BatchRunner<K, I, R>;
  readonly #maxBatch: number;
  readonly #pipeline: number;
  readonly #conflicts: (item: I, earlier: I) => boolean;

  constructor(run: BatchRunner<K, I, R>, options: CoalescerOptions<I> = {}) {
    this.#run = run;
    this.#maxBatch = options.maxBatch ?? 256;
    this.#pipeline = options.pipeline ?? 1;
    this.#conflicts = options.conflicts ?? (() => false);
  }

  submit(key: K, item: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      let state = this.#keys.get(key);
      if (state === undefined) {
        state = { queue: [], inFlight: new Set() };
        this.#keys.set(key, state);
      }
      state.queue.push({ item, resolve, reject });
      this.#pump(key, state);
    });
  }

  /** Start batches while there is room in flight and work that may go. */
  #pump(key: K, state: KeyState<I, R>): void {
    while (state.inFlight.size < this.#pipeline && state.queue.length > 0) {
      const busy = [...state.inFlight].flat();
      let take = 0;
      while (
        take < state.queue.length &&
        take < this.#maxBatch &&
        !busy.some((earlier) => this.#conflicts((state.queue[take] as Waiter<I, R>).item, earlier))
      ) {
        take++;
      }
      if (take === 0) return;
      const batch = state.queue.splice(0, take);
      const items = batch.map((w) => w.item);
      state.inFlight.add(items);
      void this.#runBatch(key, batch, items).finally(() => {
        state.inFlight.delete(items);
        if (state.inFlight.size === 0 && state.queue.length === 0) this.#keys.delete(key);
        else this.#pump(key, state);
      });
    }
  }

  async #runBatch(key: K, batch: Waiter<I, R>[], items: readonly I[]): Promise<void> {
    try {
      const outcomes = await this.#run(key, items);
      batch.forEach((w, i) => {
        const outcome = outcomes[i];
        if (outcome instanceof Error) w.reject(outcome);
        else if (outcome === undefined) w.reject(new Error('batch gave no outcome'));
        else w.resolve(outcome);
      });
    } catch (err) {
      for (const w of batch) w.reject(err);
    }
  }
}
