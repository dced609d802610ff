/**
 * Storing a message while indexing it: the source streams once into the blob store, each
 * chunk handed to the MIME indexer on the way, so a message is never held whole in memory
 * (unless it came as bytes) and never read back to be parsed.
 */

import type { BlobRef, BlobSource, BlobStore } from '../blob-store.ts';
import type { Op } from '../store.ts';
import { MimeIndexer } from './mime/mime-indexer.ts';
import type { MessageIndex, MimeLimits } from './mime/mime-indexer.ts';

async function* tee(
  source: BlobSource,
  sink: (chunk: Uint8Array) => void,
): AsyncIterable<Uint8Array> {
  if (typeof source === 'string' || source instanceof Uint8Array) {
    const bytes = typeof source === 'string' ? Buffer.from(source, 'utf8') : source;
    sink(bytes);
    yield bytes;
    return;
  }
  for await (const chunk of source as AsyncIterable<Uint8Array | string>) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    sink(bytes);
    yield bytes;
  }
}

/**
 * Store `source` (at most `maxSize` bytes, else CommuneError 'too-large') and index it.
 * `blobOps` are the blob's own writes when the blob store stages it into the caller's commit
 * (BlobStore.stage): they must be committed with the message records.
 */
export async function storeAndIndex(
  blobs: BlobStore,
  source: BlobSource,
  maxSize: number,
  limits: Partial<MimeLimits>,
): Promise<{ ref: BlobRef; index: MessageIndex; blobOps: readonly Op[] }> {
  const indexer = new MimeIndexer(limits);
  const teed = tee(source, (chunk) => indexer.write(chunk));
  if (blobs.stage !== undefined) {
    const { ref, ops } = await blobs.stage(teed, { maxSize });
    return { ref, index: indexer.finish(), blobOps: ops };
  }
  const ref = await blobs.put(teed, { maxSize });
  return { ref, index: indexer.finish(), blobOps: [] };
}
