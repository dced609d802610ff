/**
 * Reads for one optimistic transaction: every value read is remembered and turned into an
 * `expect` precondition, so the commit only applies if nothing it was planned from changed
 * meanwhile (on another node; this process serialises an account's mutations).
 */

import type { ExpectOp, Store } from '../store.ts';
import { keyHex } from '../keys.ts';

export class TxnReader {
  readonly #store: Store;
  readonly #reads = new Map<string, { key: Uint8Array; value: Uint8Array | undefined }>();

  constructor(store: Store) {
    this.#store = store;
  }

  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    const value = await this.#store.get(key);
    this.#note(key, value);
    return value;
  }

  async getMany(keys: readonly Uint8Array[]): Promise<(Uint8Array | undefined)[]> {
    if (keys.length === 0) return [];
    const values = await this.#store.getMany(keys);
    keys.forEach((key, i) => this.#note(key, values[i]));
    return values;
  }

  /** Preconditions for everything read, to put first in the batch. */
  expects(): ExpectOp[] {
    return [...this.#reads.values()].map(({ key, value }) => ({ type: 'expect', key, value }));
  }

  #note(key: Uint8Array, value: Uint8Array | undefined): void {
    const hex = keyHex(key);
    if (!this.#reads.has(hex)) this.#reads.set(hex, { key, value });
  }
}
