/**
 * FsBlobStore's writes on a thread of their own (blob-writer-thread.ts). Hashing a large blob
 * and the eight file calls of a durable put (open, write, fsync, close, rename, and the
 * directory's open, fsync, close) cost the main event loop about 3 ms per 1 MiB message, the
 * largest share of an SMTP delivery. Here the main thread only counts bytes against the limit
 * and hands over the content: chunks in shared memory as they are (SMTP assembles large
 * messages there), others copied into 1 MiB shared batches from a pool, reused once the
 * thread has written them (fresh memory costs a page fault per 4 KiB). The thread answers
 * with the content hash once the file is in place and durable.
 *
 * Flow control: at most MAX_IN_FLIGHT bytes per put wait on the thread, so a 20 MB upload is
 * never held in memory whole. The thread is started on first use, keeps the process alive only
 * while a put is pending, and is started again if it dies (its pending puts fail).
 */

import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { CommuneError } from '../core/errors.ts';
import { chunksOf } from './blob-head.ts';
import type { BlobRef, BlobSource } from './blob-store.ts';

/** A put's chunks in order; the first opens the file, the last finishes it (often both). */
export type WriterRequest =
  | {
      readonly t: 'data';
      readonly id: number;
      readonly chunk: Uint8Array;
      readonly first: boolean;
      readonly last: boolean;
    }
  | { readonly t: 'abort'; readonly id: number };

export type WriterReply =
  | { readonly t: 'ack'; readonly id: number; readonly bytes: number }
  | { readonly t: 'done'; readonly id: number; readonly hash: string; readonly size: number }
  | { readonly t: 'failed'; readonly id: number; readonly message: string; readonly code?: string };

/** `<dir>/ab/cd/<hash>`: where a blob's file lives. */
export function blobPath(dir: string, hash: string): string {
  return join(dir, hash.slice(0, 2), hash.slice(2, 4), hash);
}

const MAX_IN_FLIGHT = 8 * 1024 * 1024;
/** Bytes per message for content that is not in shared memory. */
const BATCH = 1024 * 1024;
/** Batch buffers kept for reuse at most. */
const POOL_MAX = 16;

/** One put as the main thread sees it. */
class PendingPut {
  readonly worker: Worker;

  constructor(worker: Worker) {
    this.worker = worker;
    // step: a failure may come before the caller awaits the result
    this.result.catch(() => undefined);
  }

  inFlight = 0;
  /** Pool buffers of the messages not yet acknowledged, in order (undefined: not pooled). */
  readonly slots: (Uint8Array | undefined)[] = [];
  #wake: (() => void) | undefined;
  settle!: { resolve: (ref: BlobRef) => void; reject: (err: unknown) => void };
  readonly result = new Promise<BlobRef>((resolve, reject) => {
    this.settle = { resolve, reject };
  });
  failed = false;

  acked(bytes: number): void {
    this.inFlight -= bytes;
    this.#wakeUp();
  }

  fail(err: unknown): void {
    this.failed = true;
    this.settle.reject(err);
    this.#wakeUp();
  }

  /** Resolves when the thread has caught up below the bound, or the put failed. */
  caughtUp(): Promise<void> {
    return new Promise((resolve) => {
      this.#wake = resolve;
    });
  }

  #wakeUp(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}

export class BlobWriter {
  readonly #dir: string;
  readonly #puts = new Map<number, PendingPut>();
  /** Shared batch buffers free for reuse (fresh memory costs a page fault per 4 KiB). */
  readonly #free: Uint8Array[] = [];
  #worker: Worker | undefined;
  #seq = 0;

  constructor(dir: string) {
    this.#dir = dir;
  }

  #thread(): Worker {
    if (this.#worker !== undefined) return this.#worker;
    const worker = new Worker(new URL('./blob-writer-thread.ts', import.meta.url), {
      workerData: { dir: this.#dir },
    });
    worker.unref();
    worker.on('message', (m: WriterReply) => this.#onReply(m));
    const lost = (why: string): void => {
      if (this.#worker === worker) this.#worker = undefined;
      // step: only this thread's puts (a later thread may have taken new ones meanwhile)
      for (const [id, put] of this.#puts) {
        if (put.worker !== worker) continue;
        this.#puts.delete(id);
        put.fail(new CommuneError('unavailable', `blob writer thread ${why}`));
      }
    };
    worker.on('error', (err: Error) => lost(`failed: ${err.message}`));
    worker.on('exit', (code) => lost(`exited with ${code}`));
    this.#worker = worker;
    return worker;
  }

  #onReply(m: WriterReply): void {
    const put = this.#puts.get(m.id);
    if (put === undefined) return;
    if (m.t === 'ack') {
      const slot = put.slots.shift();
      if (slot !== undefined) this.#release(slot);
      put.acked(m.bytes);
      return;
    }
    this.#forget(m.id);
    if (m.t === 'done') put.settle.resolve({ hash: m.hash, size: m.size });
    else
      put.fail(Object.assign(new Error(m.message), m.code === undefined ? {} : { code: m.code }));
  }

  #takeBatch(): Uint8Array {
    return this.#free.pop() ?? new Uint8Array(new SharedArrayBuffer(BATCH));
  }

  #release(batch: Uint8Array): void {
    if (this.#free.length < POOL_MAX) this.#free.push(batch);
  }

  #forget(id: number): void {
    this.#puts.delete(id);
    if (this.#puts.size === 0) this.#worker?.unref();
  }

  /**
   * Store `source` as one blob file; CommuneError 'too-large' past `maxSize` (reading stops,
   * a Readable source is destroyed, nothing is left behind).
   */
  async put(source: BlobSource, maxSize: number | undefined): Promise<BlobRef> {
    const worker = this.#thread();
    const id = ++this.#seq;
    const put = new PendingPut(worker);
    this.#puts.set(id, put);
    worker.ref();
    let first = true;
    const send = (chunk: Uint8Array, slot: Uint8Array | undefined, last: boolean): void => {
      put.inFlight += chunk.byteLength;
      put.slots.push(slot);
      // step: every chunk is in shared memory (or empty, to end the put): nothing is copied
      worker.postMessage({ t: 'data', id, chunk, first, last } satisfies WriterRequest);
      first = false;
    };
    // step: each piece is sent once the next one is known, so the last one carries the end
    // (a message in one chunk is one postMessage)
    let held: { piece: Uint8Array; slot: Uint8Array | undefined } | undefined;
    const ready = (piece: Uint8Array, slot?: Uint8Array): void => {
      if (held !== undefined) send(held.piece, held.slot, false);
      held = { piece, slot };
    };
    // step: other chunks (a request body comes in 16-64 KiB pieces) are copied into shared
    // batches of BATCH bytes from a pool, one message each, reused once acknowledged
    let batch: Uint8Array | undefined;
    let filled = 0;
    const flush = (): void => {
      if (batch === undefined || filled === 0) return;
      ready(batch.subarray(0, filled), batch);
      batch = undefined;
      filled = 0;
    };
    let size = 0;
    try {
      for await (const chunk of chunksOf(source)) {
        if (chunk.byteLength === 0) continue;
        size += chunk.byteLength;
        if (maxSize !== undefined && size > maxSize) {
          throw new CommuneError('too-large', `content exceeds the limit of ${maxSize} bytes`);
        }
        if (put.failed) break;
        if (chunk.buffer instanceof SharedArrayBuffer) {
          // step: shared memory goes across as is (the caller leaves it alone until the put
          // ends); other chunks are copied into batches (the caller may reuse its buffer)
          flush();
          ready(chunk);
        } else {
          for (let at = 0; at < chunk.byteLength;) {
            batch ??= this.#takeBatch();
            const n = Math.min(batch.byteLength - filled, chunk.byteLength - at);
            batch.set(chunk.subarray(at, at + n), filled);
            filled += n;
            at += n;
            if (filled === batch.byteLength) flush();
          }
        }
        while (put.inFlight > MAX_IN_FLIGHT && !put.failed) await put.caughtUp();
      }
      flush();
    } catch (err) {
      if (!first && this.#puts.has(id)) {
        worker.postMessage({ t: 'abort', id } satisfies WriterRequest);
        await put.result.catch(() => undefined);
      } else {
        this.#forget(id);
      }
      throw err;
    }
    if (!put.failed) send(held?.piece ?? new Uint8Array(0), held?.slot, true);
    return put.result;
  }

  /** Stop the thread (after the pending puts, which the caller has awaited). */
  async close(): Promise<void> {
    const worker = this.#worker;
    this.#worker = undefined;
    if (worker !== undefined) await worker.terminate();
  }
}
