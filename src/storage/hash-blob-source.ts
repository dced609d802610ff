/**
 * Helpers shared by every BlobStore: normalise a BlobSource into byte chunks while hashing
 * it (SHA-256) and enforcing a size limit, validate hash strings, check byte ranges.
 */

import { createHash } from 'node:crypto';
import type { BlobRef, BlobSource, ByteRange } from './blob-store.ts';
import { CommuneError } from '../core/errors.ts';
import { chunksOf } from './blob-head.ts';

const HASH_RE = /^[0-9a-f]{64}$/;

/** True for a SHA-256 hash in the canonical form (64 lower-case hex digits). */
export function isBlobHash(hash: unknown): hash is string {
  return typeof hash === 'string' && HASH_RE.test(hash);
}

/** Reject anything but a canonical hash, so a hash can never name another path. */
export function assertBlobHash(hash: string): void {
  if (!isBlobHash(hash)) throw new CommuneError('invalid-argument', 'invalid blob hash');
}

/** Check a byte range: integers, 0 <= start, start <= end. */
export function assertByteRange(range: ByteRange): void {
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || start < 0) {
    throw new CommuneError('invalid-argument', `invalid byte range start ${start}`);
  }
  if (end !== undefined && (!Number.isSafeInteger(end) || end < start)) {
    throw new CommuneError('invalid-argument', `invalid byte range end ${end}`);
  }
}

/**
 * Stream `source` through SHA-256, handing each chunk to `sink` in order. When the running
 * size exceeds `maxSize`, reading stops (a Readable source is destroyed) and CommuneError
 * 'too-large' is thrown; the sink has then seen only part of the content.
 */
export async function hashBlobSource(
  source: BlobSource,
  options: { maxSize?: number | undefined; sink?: (chunk: Uint8Array) => Promise<void> | void },
): Promise<BlobRef> {
  const { maxSize, sink } = options;
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of chunksOf(source)) {
    if (chunk.byteLength === 0) continue;
    size += chunk.byteLength;
    if (maxSize !== undefined && size > maxSize) {
      throw new CommuneError('too-large', `content exceeds the limit of ${maxSize} bytes`);
    }
    hash.update(chunk);
    if (sink) await sink(chunk);
  }
  return { hash: hash.digest('hex'), size };
}
