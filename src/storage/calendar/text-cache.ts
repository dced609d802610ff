/**
 * Decoded text of small content-addressed blobs (calendar objects, vCards), least recently
 * used dropped first past a byte budget. A blob's hash names its content, so an entry is
 * never stale: no invalidation is needed.
 */

export class TextCache {
  readonly #maxBytes: number;
  /** In least-recently-used order (a Map keeps insertion order). */
  readonly #texts = new Map<string, string>();
  #bytes = 0;

  constructor(options: { maxBytes?: number } = {}) {
    this.#maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
  }

  get(hash: string): string | undefined {
    const text = this.#texts.get(hash);
    if (text !== undefined) {
      this.#texts.delete(hash);
      this.#texts.set(hash, text);
    }
    return text;
  }

  set(hash: string, text: string): void {
    // Two bytes a UTF-16 code unit, roughly what the string costs
    const size = text.length * 2;
    if (size > this.#maxBytes / 16 || this.#texts.has(hash)) return;
    this.#texts.set(hash, text);
    this.#bytes += size;
    for (const [old, value] of this.#texts) {
      if (this.#bytes <= this.#maxBytes) break;
      this.#texts.delete(old);
      this.#bytes -= value.length * 2;
    }
  }
}
