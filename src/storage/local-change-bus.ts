/** The in-process change bus: synchronous fan-out to listeners of this process. */

import type { ChangeBus, ChangeListener, ChangeNudge } from './change-bus.ts';

export class LocalChangeBus implements ChangeBus {
  #listeners = new Set<ChangeListener>();
  readonly #onError: (err: unknown) => void;

  constructor(onError: (err: unknown) => void = () => {}) {
    this.#onError = onError;
  }

  publish(nudge: ChangeNudge): void {
    for (const listener of [...this.#listeners]) {
      // A failing listener must not stop the others, nor the committer.
      try {
        listener(nudge);
      } catch (err) {
        this.#onError(err);
      }
    }
  }

  subscribe(listener: ChangeListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.#listeners.clear();
  }
}
