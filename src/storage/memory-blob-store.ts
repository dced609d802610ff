/**
 * The in-memory BlobStore: same behaviour as FsBlobStore (content addressing, dedup, ranges,
 * size limits), nothing survives the process. For tests and ephemeral runs.
 */

import { Readable } from 'node:stream';
import type { BlobRef, BlobSource, BlobStore, ByteRange } from './blob-store.ts';
import { assertBlobHash, assertByteRange, hashBlobSource } from './hash-blob-source.ts';
import { CommuneError } from '../core/errors.ts';

export class MemoryBlobStore implements BlobStore {
  #blobs = new Map<string, Buffer>();
  #closed = false;

  #check(): void {
    if (this.#closed) throw new CommuneError('unavailable', 'blob store is closed');
  }

  async put(source: BlobSource, options: { maxSize?: number } = {}): Promise<BlobRef> {
    this.#check();
    const chunks: Uint8Array[] = [];
    const ref = await hashBlobSource(source, {
      maxSize: options.maxSize,
      sink: (chunk) => void chunks.push(chunk),
    });
    // Buffer.concat copies, so later changes to the caller's bytes do not reach the store.
    if (!this.#blobs.has(ref.hash)) this.#blobs.set(ref.hash, Buffer.concat(chunks, ref.size));
    return ref;
  }

  async get(hash: string, range?: ByteRange): Promise<Readable | undefined> {
    this.#check();
    assertBlobHash(hash);
    if (range) assertByteRange(range);
    const blob = this.#blobs.get(hash);
    if (!blob) return undefined;
    const part = range ? blob.subarray(range.start, range.end) : blob;
    return Readable.from(part.length === 0 ? [] : [Buffer.from(part)], { objectMode: false });
  }

  async getBytes(hash: string): Promise<Uint8Array | undefined> {
    this.#check();
    assertBlobHash(hash);
    const blob = this.#blobs.get(hash);
    return blob && Uint8Array.from(blob);
  }

  async size(hash: string): Promise<number | undefined> {
    this.#check();
    assertBlobHash(hash);
    return this.#blobs.get(hash)?.byteLength;
  }

  async has(hash: string): Promise<boolean> {
    this.#check();
    assertBlobHash(hash);
    return this.#blobs.has(hash);
  }

  async delete(hash: string): Promise<void> {
    this.#check();
    assertBlobHash(hash);
    this.#blobs.delete(hash);
  }

  async *list(): AsyncIterable<string> {
    this.#check();
    yield* [...this.#blobs.keys()];
  }

  async close(): Promise<void> {
    this.#closed = true;
  }
}
