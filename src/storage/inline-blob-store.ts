/**
 * Small blobs inline in the Store, large ones in another BlobStore. Most mail messages and
 * every iCalendar/vCard resource are a few KiB: keeping them as store values makes their write
 * part of the store's (group-committed) batches instead of a file, an fsync of it and an fsync
 * of its directory each. Content addressing, dedup and ranges behave as in any BlobStore; a
 * hash is looked up inline first, then in the large store.
 */

import { Readable } from 'node:stream';
import type { BlobRef, BlobSource, BlobStore, ByteRange, StagedBlob } from './blob-store.ts';
import { readHead } from './blob-head.ts';
import { assertBlobHash, assertByteRange, hashBlobSource } from './hash-blob-source.ts';
import { Subspace, pack, prefixRange, unpack } from './keys.ts';
import type { KeyRange, Store } from './store.ts';

/** Blobs up to this size are kept inline by default. */
export const DEFAULT_INLINE_MAX = 64 * 1024;

const inlineKey = (hash: string): Uint8Array => pack(Subspace.blob, 'inline', hash);

/**
 * The store keys holding inline blob content. Tools that copy or compare records (migrate)
 * leave this range to the blob API, since another blob store keeps the same blobs elsewhere.
 */
export function inlineBlobRange(): KeyRange {
  return prefixRange(pack(Subspace.blob, 'inline'));
}

export class InlineBlobStore implements BlobStore {
  readonly #store: Store;
  readonly #large: BlobStore;
  readonly #inlineMax: number;

  constructor(options: { store: Store; large: BlobStore; inlineMax?: number }) {
    this.#store = options.store;
    this.#large = options.large;
    this.#inlineMax = options.inlineMax ?? DEFAULT_INLINE_MAX;
  }

  async put(source: BlobSource, options: { maxSize?: number } = {}): Promise<BlobRef> {
    const { ref, ops } = await this.stage(source, options);
    // Same content from two writers: both puts write the same bytes, so no expect is needed.
    if (ops.length > 0) await this.#store.commit({ ops: [...ops] });
    return ref;
  }

  async stage(source: BlobSource, options: { maxSize?: number } = {}): Promise<StagedBlob> {
    // Read up to the inline limit; past it, all of it goes to the large store.
    const head = await readHead(source, Math.min(this.#inlineMax, options.maxSize ?? Infinity));
    if (head.stream !== undefined)
      return { ref: await this.#large.put(head.stream, options), ops: [] };
    const bytes = head.whole;
    const ref = await hashBlobSource(bytes, { maxSize: options.maxSize });
    const key = inlineKey(ref.hash);
    const present = (await this.#store.get(key)) !== undefined;
    return { ref, ops: present ? [] : [{ type: 'put', key, value: bytes }] };
  }

  async get(hash: string, range?: ByteRange): Promise<Readable | undefined> {
    assertBlobHash(hash);
    if (range) assertByteRange(range);
    const inline = await this.#store.get(inlineKey(hash));
    if (inline === undefined) return this.#large.get(hash, range);
    const part = range ? inline.subarray(range.start, range.end) : inline;
    return Readable.from(part.length === 0 ? [] : [Buffer.from(part)], { objectMode: false });
  }

  async getBytes(hash: string): Promise<Uint8Array | undefined> {
    assertBlobHash(hash);
    return (await this.#store.get(inlineKey(hash))) ?? this.#large.getBytes(hash);
  }

  async size(hash: string): Promise<number | undefined> {
    assertBlobHash(hash);
    const inline = await this.#store.get(inlineKey(hash));
    return inline !== undefined ? inline.byteLength : this.#large.size(hash);
  }

  async has(hash: string): Promise<boolean> {
    assertBlobHash(hash);
    return (await this.#store.get(inlineKey(hash))) !== undefined || this.#large.has(hash);
  }

  async delete(hash: string): Promise<void> {
    assertBlobHash(hash);
    await this.#store.commit({ ops: [{ type: 'del', key: inlineKey(hash) }] });
    await this.#large.delete(hash);
  }

  /** Inline blobs in key order, then the large store's (those not also inline). */
  async *list(): AsyncIterable<string> {
    for await (const [key] of this.#store.scan(inlineBlobRange())) {
      const hash = unpack(key).elements[1];
      if (typeof hash === 'string') yield hash;
    }
    for await (const hash of this.#large.list()) {
      if ((await this.#store.get(inlineKey(hash))) === undefined) yield hash;
    }
  }

  /** Closes the large store; the Store belongs to the Storage that owns both. */
  async close(): Promise<void> {
    await this.#large.close();
  }
}
