/**
 * The blob writer thread (started by blob-writer.ts): the file work of FsBlobStore.put off the
 * main event loop. For each put it streams chunks into `<dir>/tmp/<uuid>.part` while hashing
 * them (SHA-256), then fsyncs, renames the file to `<dir>/ab/cd/<hash>` and fsyncs the
 * directories it changed. Several puts run at once (the file calls are asynchronous).
 *
 * Protocol (messages in order per put id):
 *   main -> thread  {t:'data', id, chunk, first, last} ... (first opens, last finishes), or
 *                   {t:'abort', id} after some data
 *   thread -> main  {t:'ack', id, bytes} per chunk written; at the end one of
 *                   {t:'done', id, hash, size} or {t:'failed', id, message, code}
 */

import { createHash, randomUUID } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import type { WriterReply, WriterRequest } from './blob-writer.ts';
import { blobPath } from './blob-writer.ts';

const port = parentPort;
if (port === null) throw new Error('blob-writer-thread runs as a worker thread');
const { dir } = workerData as { dir: string };
const tmpDir = join(dir, 'tmp');
/** Leaf directories known to exist (made or used by this thread): no mkdir for them. */
const leaves = new Set<string>();
const MAX_KNOWN_LEAVES = 65_536;

function reply(message: WriterReply): void {
  port?.postMessage(message);
}

/** One put: the temp file, the running hash, and the chain of file calls in order. */
class Put {
  readonly #id: number;
  readonly #tmp = join(tmpDir, `${randomUUID()}.part`);
  readonly #hash = createHash('sha256');
  #size = 0;
  #fh: FileHandle | undefined;
  #chain: Promise<void>;
  #failure: unknown;

  constructor(id: number) {
    this.#id = id;
    this.#chain = open(this.#tmp, 'wx', 0o640).then(
      (fh) => {
        this.#fh = fh;
      },
      (err: unknown) => this.#fail(err),
    );
  }

  /** The first failure ends the put: the temp file goes, and the main thread is told at once. */
  #fail(err: unknown): void {
    if (this.#failure !== undefined) return;
    this.#failure = err;
    this.#chain = this.#chain.then(() => this.#cleanUp(err));
  }

  #then(step: (fh: FileHandle) => Promise<void>): void {
    this.#chain = this.#chain
      .then(() => {
        if (this.#failure !== undefined || this.#fh === undefined) return undefined;
        return step(this.#fh);
      })
      .catch((err: unknown) => this.#fail(err));
  }

  data(chunk: Uint8Array): void {
    this.#hash.update(chunk);
    this.#size += chunk.byteLength;
    this.#then(async (fh) => {
      await writeAll(fh, chunk);
      reply({ t: 'ack', id: this.#id, bytes: chunk.byteLength });
    });
  }

  end(): void {
    this.#then(async (fh) => {
      await fh.sync();
      await this.#close();
      const hash = this.#hash.digest('hex');
      await placeFile(this.#tmp, blobPath(dir, hash));
      reply({ t: 'done', id: this.#id, hash, size: this.#size });
    });
  }

  abort(): void {
    this.#fail(new Error('aborted'));
  }

  async #close(): Promise<void> {
    const fh = this.#fh;
    this.#fh = undefined;
    await fh?.close();
  }

  async #cleanUp(err: unknown): Promise<void> {
    await this.#close().catch(() => undefined);
    await rm(this.#tmp, { force: true }).catch(() => undefined);
    const e = err as NodeJS.ErrnoException;
    reply({
      t: 'failed',
      id: this.#id,
      message: String(e?.message ?? e),
      ...(typeof e?.code === 'string' ? { code: e.code } : {}),
    });
  }
}

/**
 * Rename the fsynced temp file into place and make the new directory entries durable. Content
 * that is already there is replaced by the same bytes (a rename is atomic, so readers see one
 * whole file or the other): no separate existence check.
 */
async function placeFile(tmp: string, final: string): Promise<void> {
  const leaf = dirname(final);
  let created = leaves.has(leaf) ? undefined : await mkdir(leaf, { recursive: true, mode: 0o750 });
  try {
    await rename(tmp, final);
  } catch (err) {
    if (!isNotFound(err) || !leaves.delete(leaf)) throw err;
    // step: a remembered directory was removed meanwhile (by hand): make it again
    created = await mkdir(leaf, { recursive: true, mode: 0o750 });
    await rename(tmp, final);
  }
  await fsyncDir(leaf);
  if (created !== undefined) {
    await fsyncDir(dirname(leaf));
    await fsyncDir(dir);
  }
  if (leaves.size < MAX_KNOWN_LEAVES) leaves.add(leaf);
}

/** Write the whole chunk (a write may be partial). */
async function writeAll(fh: FileHandle, chunk: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < chunk.byteLength) {
    const { bytesWritten } = await fh.write(chunk, offset, chunk.byteLength - offset);
    offset += bytesWritten;
  }
}

/** fsync a directory so the entries created or renamed in it survive a crash. */
async function fsyncDir(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

function isNotFound(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

const puts = new Map<number, Put>();

port.on('message', (m: WriterRequest) => {
  if (m.t === 'abort') {
    puts.get(m.id)?.abort();
    puts.delete(m.id);
    return;
  }
  let put = puts.get(m.id);
  if (m.first || put === undefined) {
    put = new Put(m.id);
    if (!m.last) puts.set(m.id, put);
  }
  if (m.chunk.byteLength > 0) put.data(m.chunk);
  if (m.last) {
    put.end();
    puts.delete(m.id);
  }
});
