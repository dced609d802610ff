/**
 * The filesystem BlobStore: one file per content hash at `<dir>/ab/cd/<hash>` (ab, cd = the
 * first two byte pairs of the hex hash). Content is streamed into `<dir>/tmp/` while being
 * hashed, fsynced, then renamed into place, so a blob file is either complete or absent.
 */

import { randomUUID } from 'node:crypto';
import {
  access,
  constants,
  mkdir,
  open,
  readFile,
  readdir,
  rename,
  rm,
  stat,
} from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import type { BlobRef, BlobSource, BlobStore, ByteRange } from './blob-store.ts';
import { assertBlobHash, assertByteRange, hashBlobSource, isBlobHash } from './hash-blob-source.ts';
import { CommuneError } from '../core/errors.ts';

/** Temp files older than this are leftovers of a crash and removed on open. */
const STALE_TEMP_MS = 60 * 60 * 1000;

export class FsBlobStore implements BlobStore {
  readonly dir: string;
  readonly #tmpDir: string;
  /** Leaf directories known to exist (made or used by this process): no mkdir for them. */
  readonly #leaves = new Set<string>();
  #closed = false;

  private constructor(dir: string) {
    this.dir = dir;
    this.#tmpDir = join(dir, 'tmp');
  }

  /** Open (creating when missing) the blob directory; CommuneError 'unavailable' if unusable. */
  static async open(dir: string): Promise<FsBlobStore> {
    const store = new FsBlobStore(dir);
    try {
      await mkdir(store.#tmpDir, { recursive: true, mode: 0o750 });
      await access(dir, constants.R_OK | constants.W_OK | constants.X_OK);
      await store.#removeStaleTemps();
    } catch (err) {
      throw new CommuneError('unavailable', `blob store at ${dir} is not usable: ${why(err)}`, {
        cause: err,
      });
    }
    return store;
  }

  async #removeStaleTemps(): Promise<void> {
    const cutoff = Date.now() - STALE_TEMP_MS;
    for (const name of await readdir(this.#tmpDir)) {
      const path = join(this.#tmpDir, name);
      const info = await stat(path).catch(() => undefined);
      if (info && info.mtimeMs < cutoff) await rm(path, { force: true, recursive: true });
    }
  }

  #path(hash: string): string {
    return join(this.dir, hash.slice(0, 2), hash.slice(2, 4), hash);
  }

  #check(): void {
    if (this.#closed) throw new CommuneError('unavailable', 'blob store is closed');
  }

  async put(source: BlobSource, options: { maxSize?: number } = {}): Promise<BlobRef> {
    this.#check();
    const tmp = join(this.#tmpDir, `${randomUUID()}.part`);
    try {
      // 1. Stream into a temp file while hashing; fsync before it can be renamed into place.
      const fh = await open(tmp, 'wx', 0o640);
      let ref: BlobRef;
      try {
        ref = await hashBlobSource(source, {
          maxSize: options.maxSize,
          sink: (chunk) => writeAll(fh, chunk),
        });
        await fh.sync();
      } finally {
        await fh.close();
      }

      // 2. Rename into place and make the new directory entries durable. Content that is
      // already there is replaced by the same bytes (a rename is atomic, so readers see one
      // whole file or the other): no separate existence check.
      const final = this.#path(ref.hash);
      const leaf = dirname(final);
      let created = this.#leaves.has(leaf)
        ? undefined
        : await mkdir(leaf, { recursive: true, mode: 0o750 });
      try {
        await rename(tmp, final);
      } catch (err) {
        if (!isNotFound(err) || !this.#leaves.delete(leaf)) throw err;
        // step: a remembered directory was removed meanwhile (by hand): make it again
        created = await mkdir(leaf, { recursive: true, mode: 0o750 });
        await rename(tmp, final);
      }
      await fsyncDir(leaf);
      if (created !== undefined) {
        await fsyncDir(dirname(leaf));
        await fsyncDir(this.dir);
      }
      if (this.#leaves.size < MAX_KNOWN_LEAVES) this.#leaves.add(leaf);
      return ref;
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }

  async get(hash: string, range?: ByteRange): Promise<Readable | undefined> {
    this.#check();
    assertBlobHash(hash);
    if (range) assertByteRange(range);
    let fh: FileHandle;
    try {
      fh = await open(this.#path(hash), 'r');
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
    if (range?.end !== undefined && range.end <= range.start) {
      await fh.close();
      return Readable.from([], { objectMode: false });
    }
    // The stream closes the handle when it ends or is destroyed (ReadStream end is inclusive).
    return fh.createReadStream({
      start: range?.start ?? 0,
      ...(range?.end !== undefined ? { end: range.end - 1 } : {}),
    });
  }

  async getBytes(hash: string): Promise<Uint8Array | undefined> {
    this.#check();
    assertBlobHash(hash);
    try {
      const buf = await readFile(this.#path(hash));
      return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async size(hash: string): Promise<number | undefined> {
    this.#check();
    assertBlobHash(hash);
    try {
      return (await stat(this.#path(hash))).size;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async has(hash: string): Promise<boolean> {
    return (await this.size(hash)) !== undefined;
  }

  async delete(hash: string): Promise<void> {
    this.#check();
    assertBlobHash(hash);
    await rm(this.#path(hash), { force: true });
  }

  /** Walks `ab/cd/`: names that are hashes filed under their own prefix (not tmp/). */
  async *list(): AsyncIterable<string> {
    this.#check();
    for (const ab of await subdirs(this.dir)) {
      for (const cd of await subdirs(join(this.dir, ab))) {
        for (const name of await entries(join(this.dir, ab, cd))) {
          if (isBlobHash(name) && name.startsWith(ab + cd)) yield name;
        }
      }
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
  }
}

/** Names in `dir`, none when it vanished meanwhile. */
async function entries(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    if (isNotFound(err)) return [];
    throw err;
  }
}

/** The two-hex-digit fan-out directories in `dir`. */
async function subdirs(dir: string): Promise<string[]> {
  return (await entries(dir)).filter((name) => /^[0-9a-f]{2}$/.test(name));
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

/** Leaf directories remembered at most (there are 65,536). */
const MAX_KNOWN_LEAVES = 65_536;

function isNotFound(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** A one-line reason for a filesystem error. */
function why(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'ENOTDIR' || code === 'EEXIST') return 'not a directory';
  if (code === 'EROFS') return 'read-only file system';
  return String((err as Error).message ?? err).split('\n')[0] ?? 'unknown error';
}
