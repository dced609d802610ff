/**
 * Blob storage contract: immutable content-addressed byte strings (SHA-256, lower-case hex),
 * deduplicated, streamed in and out. Message bodies, attachments, iCalendar/vCard text and
 * files live here; records in the Store refer to them by hash.
 */

import type { Readable } from 'node:stream';
import type { Op } from './store.ts';

export interface BlobRef {
  /** SHA-256 of the content, lower-case hex. */
  readonly hash: string;
  readonly size: number;
}

/** A byte range, inclusive start, exclusive end (end absent = to the end). */
export interface ByteRange {
  readonly start: number;
  readonly end?: number;
}

export type BlobSource = Uint8Array | string | AsyncIterable<Uint8Array> | Readable;

/** A blob whose durability rides on the caller's commit: `ops` must go into that commit. */
export interface StagedBlob {
  readonly ref: BlobRef;
  readonly ops: readonly Op[];
}

export interface BlobStore {
  /**
   * Store content, streamed; durable when the promise resolves. Storing content that is
   * already present is a no-op that returns the same ref. `maxSize` aborts (and stores
   * nothing) when the source turns out larger: CommuneError 'too-large'.
   */
  put(source: BlobSource, options?: { maxSize?: number }): Promise<BlobRef>;
  /**
   * Like put, for a caller about to commit records that refer to the blob: a store that
   * keeps (small) blobs in the Store returns the write as `ops` for that commit instead of
   * committing it alone (one commit, one fsync; no blob without its referrer); otherwise the
   * blob is durable on return and `ops` is empty. Optional: callers fall back to put.
   */
  stage?(source: BlobSource, options?: { maxSize?: number }): Promise<StagedBlob>;
  /** Stream the content (or a range of it); undefined when absent. */
  get(hash: string, range?: ByteRange): Promise<Readable | undefined>;
  /** The whole content in memory; for small blobs only. */
  getBytes(hash: string): Promise<Uint8Array | undefined>;
  /** Size in bytes, or undefined when absent. */
  size(hash: string): Promise<number | undefined>;
  has(hash: string): Promise<boolean>;
  /** Remove content (callers are responsible for reference counting). */
  delete(hash: string): Promise<void>;
  /**
   * The hash of every blob present, each once, in no particular order (for migration and
   * verification). Blobs put or deleted while the listing runs may or may not appear.
   */
  list(): AsyncIterable<string>;
  close(): Promise<void>;
}
