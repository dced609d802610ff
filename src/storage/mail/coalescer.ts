/**
 * Coalescing of concurrent requests per key: requests submitted while a batch of the same key
 * is being committed wait together and go as the next batch, so N concurrent deliveries to
 * one account cost a few commits (and fsyncs) instead of N in a row. One batch per key runs
 * at a time; batches keep submission order.
 */

interface Waiter<I, R> {
  readonly item: I;
  readonly resolve: (value: R) => void;
  readonly reject: (reason: unknown) => void;
}

/** Runs one batch: an outcome per item, in order (an Error rejects that item alone). */
export type BatchRunner<K, I, R> = (key: K, items: readonly I[]) => Promise<(R | Error)[]>;

export class Coalescer<K, I, R> {
  readonly #queues = new Map<K, Waiter<I, R>[]>();
  readonly #run: BatchRunner<K, I, R>;
  readonly #maxBatch: number;

  constructor(run: BatchRunner<K, I, R>, maxBatch = 256) {
    this.#run = run;
    this.#maxBatch = maxBatch;
  }

  submit(key: K, item: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const waiting = this.#queues.get(key);
      if (waiting !== undefined) {
        waiting.push({ item, resolve, reject });
        return;
      }
      const queue = [{ item, resolve, reject }];
      this.#queues.set(key, queue);
      void this.#drain(key, queue);
    });
  }

  async #drain(key: K, queue: Waiter<I, R>[]): Promise<void> {
    while (queue.length > 0) {
      const batch = queue.splice(0, this.#maxBatch);
      try {
        const outcomes = await this.#run(
          key,
          batch.map((w) => w.item),
        );
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
    // Same synchronous turn as the emptiness check: nothing can be pushed in between.
    this.#queues.delete(key);
  }
}
