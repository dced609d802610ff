/**
 * Reading the head of a blob source: blob stores that treat small content specially (inline
 * in the Store, one round trip to PostgreSQL) read up to their limit first, then either have
 * the whole content or hand the part read plus the rest to their streaming path.
 */

import type { BlobSource } from './blob-store.ts';

/** The whole content when it fits the limit, else all of it as a stream again. */
export type BlobHead =
  | { readonly whole: Buffer; readonly stream?: undefined }
  | { readonly whole?: undefined; readonly stream: AsyncIterable<Uint8Array> };

/** Read `source` until it ends or passes `limit` bytes. */
export async function readHead(source: BlobSource, limit: number): Promise<BlobHead> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const iterator = chunksOf(source)[Symbol.asyncIterator]();
  for (;;) {
    const next = await iterator.next();
    if (next.done) return { whole: Buffer.concat(chunks, size) };
    chunks.push(next.value);
    size += next.value.byteLength;
    if (size > limit) return { stream: replay(chunks, iterator) };
  }
}

/** The source as a sequence of byte chunks (strings are UTF-8). */
export async function* chunksOf(source: BlobSource): AsyncIterable<Uint8Array> {
  if (typeof source === 'string') {
    yield Buffer.from(source, 'utf8');
    return;
  }
  if (source instanceof Uint8Array) {
    yield source;
    return;
  }
  for await (const chunk of source as AsyncIterable<Uint8Array | string>) {
    yield typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
  }
}

/** The chunks already read, then the rest of the iterator. */
async function* replay(
  read: readonly Uint8Array[],
  rest: AsyncIterator<Uint8Array>,
): AsyncIterable<Uint8Array> {
  yield* read;
  for (;;) {
    const next = await rest.next();
    if (next.done) return;
    yield next.value;
  }
}
