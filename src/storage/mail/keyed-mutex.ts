/**
 * One FIFO lock per key (here: per account): mail mutations of an account run one at a time
 * in this process, so they never conflict with each other and UIDs are given in commit
 * order. Other nodes are kept out by `expect` preconditions (optimistic, retried).
 */

export class KeyedMutex<K> {
  readonly #tails = new Map<K, Promise<void>>();

  run<T>(key: K, fn: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    const result = previous.then(fn);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return result;
  }
}
