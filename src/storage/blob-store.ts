/**
 * Blob storage contract: immutable content-addressed byte strings (SHA-256, lower-case hex),
 * deduplicated, streamed in and out. Message bodies, attachments, iCalendar/vCard text and
 * files live here; records in the Store refer to them by hash.
 */

import type { Readable } from 'node:stream';

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

export interface BlobStore {
  /**
   * Store content, streamed; durable when the promise resolves. Storing content that is
   * already present is a no-op that returns the same ref. `maxSize` aborts (and stores
   * nothing) when the source turns out larger: CommuneError 'too-large'.
   */
  put(source: BlobSource, options?: { maxSize?: number }): Promise<BlobRef>;
  /** Stream the content (or a range of it); undefined when absent. */
  get(hash: string, range?: ByteRange): Promise<Readable | undefined>;
  /** The whole content in memory; for small blobs only. */
  getBytes(hash: string): Promise<Uint8Array | undefined>;
  /** Size in bytes, or undefined when absent. */
  size(hash: string): Promise<number | undefined>;
  has(hash: string): Promise<boolean>;
  /** Remove content (callers are responsible for reference counting). */
  delete(hash: string): Promise<void>;
  close(): Promise<void>;
}
