/**
 * Recently read small message blobs, kept by the IMAP server so that FETCH of a body section
 * read a moment ago (BODY.PEEK[HEADER.FIELDS ...] then BODY[], or the same new message on
 * every device of a user) is served from memory instead of another store read. Blobs are
 * content-addressed and immutable, so an entry never goes stale; the cache is bounded in
 * bytes and evicts the least recently used.
 */

export interface BlobCacheOptions {
  /** Bytes kept at most. Default 16 MiB. */
  readonly maxBytes?: number;
  /** Largest blob kept. Default 64 KiB (the size of blobs stored inline). */
  readonly maxItem?: number;
}

export class BlobCache {
  readonly maxItem: number;
  readonly #maxBytes: number;
  readonly #entries = new Map<string, Uint8Array>();
  #bytes = 0;

  constructor(options: BlobCacheOptions = {}) {
    this.#maxBytes = options.maxBytes ?? 16 * 1024 * 1024;
    this.maxItem = options.maxItem ?? 64 * 1024;
  }

  /** Bytes currently kept. */
  get size(): number {
    return this.#bytes;
  }

  get(hash: string): Uint8Array | undefined {
    const bytes = this.#entries.get(hash);
    if (bytes !== undefined) {
      // step: most recently used last
      this.#entries.delete(hash);
      this.#entries.set(hash, bytes);
    }
    return bytes;
  }

  /** Keep `bytes` (the whole blob `hash`) unless it is larger than maxItem. */
  set(hash: string, bytes: Uint8Array): void {
    if (bytes.length > this.maxItem || this.#entries.has(hash)) return;
    this.#entries.set(hash, bytes);
    this.#bytes += bytes.length;
    for (const [oldest, old] of this.#entries) {
      if (this.#bytes <= this.#maxBytes) break;
      this.#entries.delete(oldest);
      this.#bytes -= old.length;
    }
  }
}
