/**
 * The PostgreSQL BlobStore: content lives in the database next to the records, so several
 * nodes share it with nothing else to mount (the alternative is FsBlobStore on a shared
 * directory; openStorage's `blobs` option picks one). Tables, in the store's schema:
 *
 *   blob_uploads (upload uuid, started)             one row per put in progress or done
 *   blob_chunks  (upload, n, data bytea)            the content in CHUNK_SIZE rows
 *   blobs        (hash PK, size, upload, chunk_size) finished content, by SHA-256
 *
 * Content of one chunk or less goes in with one statement (upload, chunk and blob rows). A
 * larger put streams its chunks under a fresh upload id (each chunk row committed as it comes, so
 * no transaction stays open while a client sends), hashing as it goes; at the end one
 * transaction inserts the `blobs` row. When the hash is already there (dedup, or a concurrent
 * put of the same content won), the upload's chunks are deleted instead. Uploads left behind
 * by a crash are unreferenced and older than STALE_UPLOAD: removed on open.
 */

import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Pool, PoolClient } from 'pg';
import type { BlobRef, BlobSource, BlobStore, ByteRange } from './blob-store.ts';
import { readHead } from './blob-head.ts';
import { assertBlobHash, assertByteRange, hashBlobSource } from './hash-blob-source.ts';
import { createPool, migrate, oneLine, qualify } from './backends/postgres-store.ts';
import type { Migration } from './backends/postgres-store.ts';
import { CommuneError } from '../core/errors.ts';

/** Bytes per chunk row. */
export const CHUNK_SIZE = 256 * 1024;
/** Chunk rows fetched per round trip when streaming out. */
const CHUNKS_PER_READ = 4;
/** Hashes fetched per round trip by list(). */
const LIST_PAGE = 1000;
const STALE_UPLOAD = '1 hour';

const BLOB_MIGRATIONS: readonly Migration[] = [
  async (client: PoolClient, schema: string) => {
    await client.query(`CREATE TABLE ${qualify(schema, 'blob_uploads')} (
      upload uuid PRIMARY KEY,
      started timestamptz NOT NULL DEFAULT now())`);
    await client.query(`CREATE TABLE ${qualify(schema, 'blob_chunks')} (
      upload uuid NOT NULL REFERENCES ${qualify(schema, 'blob_uploads')} ON DELETE CASCADE,
      n integer NOT NULL,
      data bytea NOT NULL,
      PRIMARY KEY (upload, n))`);
    await client.query(`CREATE TABLE ${qualify(schema, 'blobs')} (
      hash char(64) PRIMARY KEY,
      size bigint NOT NULL,
      upload uuid NOT NULL REFERENCES ${qualify(schema, 'blob_uploads')},
      chunk_size integer NOT NULL)`);
  },
];

export interface PgBlobStoreOptions {
  readonly url: string;
  /** Pool connections (default 5). */
  readonly poolSize?: number;
  /** Schema (default `public`), shared with the PostgresStore. */
  readonly schema?: string;
  readonly onError?: (err: unknown) => void;
}

interface BlobRow {
  readonly size: string;
  readonly upload: string;
  readonly chunk_size: number;
}

export class PgBlobStore implements BlobStore {
  readonly schema: string;
  readonly #pool: Pool;
  readonly #t: { uploads: string; chunks: string; blobs: string };
  #closed = false;

  private constructor(pool: Pool, schema: string) {
    this.#pool = pool;
    this.schema = schema;
    this.#t = {
      uploads: qualify(schema, 'blob_uploads'),
      chunks: qualify(schema, 'blob_chunks'),
      blobs: qualify(schema, 'blobs'),
    };
  }

  /** Connect, migrate, remove stale uploads; CommuneError 'unavailable' on failure. */
  static async open(options: PgBlobStoreOptions): Promise<PgBlobStore> {
    const schema = options.schema ?? 'public';
    const pool = createPool(options.url, options.poolSize ?? 5, options.onError);
    try {
      await migrate(pool, schema, 'blobs', BLOB_MIGRATIONS);
      const store = new PgBlobStore(pool, schema);
      await pool.query(
        `DELETE FROM ${store.#t.uploads} u WHERE started < now() - interval '${STALE_UPLOAD}'
         AND NOT EXISTS (SELECT 1 FROM ${store.#t.blobs} b WHERE b.upload = u.upload)`,
      );
      return store;
    } catch (err) {
      await pool.end().catch(() => undefined);
      if (err instanceof CommuneError) throw err;
      throw new CommuneError('unavailable', `cannot open postgres blob store: ${oneLine(err)}`, {
        cause: err,
      });
    }
  }

  #check(): void {
    if (this.#closed) throw new CommuneError('unavailable', 'blob store is closed');
  }

  async put(source: BlobSource, options: { maxSize?: number } = {}): Promise<BlobRef> {
    this.#check();
    const head = await readHead(source, Math.min(CHUNK_SIZE, options.maxSize ?? Infinity));
    if (head.whole !== undefined) return this.#putWhole(head.whole, options);
    return this.#putStreamed(head.stream, options);
  }

  /**
   * Content of one chunk at most (most messages, every iCalendar and vCard): upload, chunk
   * and blob rows in one statement, one round trip and one commit (foreign keys are checked
   * at the end of the statement, when all three rows exist).
   */
  async #putWhole(bytes: Buffer, options: { maxSize?: number }): Promise<BlobRef> {
    const ref = await hashBlobSource(bytes, { maxSize: options.maxSize });
    const upload = randomUUID();
    const chunk =
      bytes.byteLength === 0
        ? ''
        : `, c AS (INSERT INTO ${this.#t.chunks} (upload, n, data) VALUES ($1, 0, $5))`;
    const r = await this.#pool.query(
      `WITH u AS (INSERT INTO ${this.#t.uploads} (upload) VALUES ($1))${chunk},
       b AS (INSERT INTO ${this.#t.blobs} (hash, size, upload, chunk_size)
             VALUES ($2, $3, $1, $4) ON CONFLICT (hash) DO NOTHING RETURNING 1)
       SELECT count(*)::int AS n FROM b`,
      bytes.byteLength === 0
        ? [upload, ref.hash, ref.size, CHUNK_SIZE]
        : [upload, ref.hash, ref.size, CHUNK_SIZE, bytes],
    );
    // Already there (dedup, or a concurrent put of the same content won): drop our copy.
    if ((r.rows[0] as { n: number }).n === 0) await this.#dropUpload(upload);
    return ref;
  }

  async #putStreamed(
    source: AsyncIterable<Uint8Array>,
    options: { maxSize?: number },
  ): Promise<BlobRef> {
    const upload = randomUUID();
    await this.#pool.query(`INSERT INTO ${this.#t.uploads} (upload) VALUES ($1)`, [upload]);
    try {
      // 1. Stream in: fill CHUNK_SIZE buffers, one committed row each.
      let n = 0;
      let buffer = Buffer.allocUnsafe(CHUNK_SIZE);
      let filled = 0;
      const flush = async (): Promise<void> => {
        await this.#pool.query(
          `INSERT INTO ${this.#t.chunks} (upload, n, data) VALUES ($1, $2, $3)`,
          [upload, n++, buffer.subarray(0, filled)],
        );
        buffer = Buffer.allocUnsafe(CHUNK_SIZE);
        filled = 0;
      };
      const ref = await hashBlobSource(source, {
        maxSize: options.maxSize,
        sink: async (chunk) => {
          for (let offset = 0; offset < chunk.byteLength;) {
            const take = Math.min(CHUNK_SIZE - filled, chunk.byteLength - offset);
            buffer.set(chunk.subarray(offset, offset + take), filled);
            filled += take;
            offset += take;
            if (filled === CHUNK_SIZE) await flush();
          }
        },
      });
      if (filled > 0) await flush();

      // 2. Publish under the hash, unless that content is already there.
      const r = await this.#pool.query(
        `INSERT INTO ${this.#t.blobs} (hash, size, upload, chunk_size) VALUES ($1, $2, $3, $4)
         ON CONFLICT (hash) DO NOTHING`,
        [ref.hash, ref.size, upload, CHUNK_SIZE],
      );
      if (r.rowCount === 0) await this.#dropUpload(upload);
      return ref;
    } catch (err) {
      await this.#dropUpload(upload).catch(() => undefined);
      throw err;
    }
  }

  async #dropUpload(upload: string): Promise<void> {
    await this.#pool.query(`DELETE FROM ${this.#t.uploads} WHERE upload = $1`, [upload]);
  }

  async #row(hash: string): Promise<BlobRow | undefined> {
    this.#check();
    assertBlobHash(hash);
    const r = await this.#pool.query<BlobRow>(
      `SELECT size, upload, chunk_size FROM ${this.#t.blobs} WHERE hash = $1`,
      [hash],
    );
    return r.rows[0];
  }

  async get(hash: string, range?: ByteRange): Promise<Readable | undefined> {
    this.#check();
    assertBlobHash(hash);
    if (range) assertByteRange(range);
    const row = await this.#row(hash);
    if (!row) return undefined;
    const size = Number(row.size);
    const start = Math.min(range?.start ?? 0, size);
    const end = Math.min(range?.end ?? size, size);
    return Readable.from(this.#chunks(row, start, end), { objectMode: false });
  }

  /** The bytes [start, end) of a blob, fetched a few chunk rows per round trip. */
  async *#chunks(row: BlobRow, start: number, end: number): AsyncIterable<Buffer> {
    if (end <= start) return;
    const size = row.chunk_size;
    const lastChunk = Math.floor((end - 1) / size);
    for (let first = Math.floor(start / size); first <= lastChunk; first += CHUNKS_PER_READ) {
      const upTo = Math.min(first + CHUNKS_PER_READ - 1, lastChunk);
      const r = await this.#pool.query<{ n: number; data: Buffer }>(
        `SELECT n, data FROM ${this.#t.chunks} WHERE upload = $1 AND n BETWEEN $2 AND $3
         ORDER BY n`,
        [row.upload, first, upTo],
      );
      if (r.rows.length !== upTo - first + 1) {
        throw new CommuneError('unavailable', 'blob content vanished while being read');
      }
      for (const { n, data } of r.rows) {
        const base = n * size;
        const part = data.subarray(Math.max(0, start - base), Math.min(data.length, end - base));
        if (part.length > 0) yield part;
      }
    }
  }

  async getBytes(hash: string): Promise<Uint8Array | undefined> {
    const row = await this.#row(hash);
    if (!row) return undefined;
    const parts: Buffer[] = [];
    for await (const part of this.#chunks(row, 0, Number(row.size))) parts.push(part);
    const all = Buffer.concat(parts, Number(row.size));
    return new Uint8Array(all.buffer, all.byteOffset, all.byteLength);
  }

  async size(hash: string): Promise<number | undefined> {
    const row = await this.#row(hash);
    return row && Number(row.size);
  }

  async has(hash: string): Promise<boolean> {
    return (await this.#row(hash)) !== undefined;
  }

  async delete(hash: string): Promise<void> {
    this.#check();
    assertBlobHash(hash);
    const client = await this.#pool.connect();
    try {
      await client.query('BEGIN');
      const r = await client.query<{ upload: string }>(
        `DELETE FROM ${this.#t.blobs} WHERE hash = $1 RETURNING upload`,
        [hash],
      );
      for (const { upload } of r.rows) {
        await client.query(`DELETE FROM ${this.#t.uploads} WHERE upload = $1`, [upload]);
      }
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  /** Hash order, a page per round trip (keyset pagination: no connection held between). */
  async *list(): AsyncIterable<string> {
    this.#check();
    let after = '';
    for (;;) {
      const r = await this.#pool.query<{ hash: string }>(
        `SELECT hash FROM ${this.#t.blobs} WHERE hash > $1 ORDER BY hash LIMIT $2`,
        [after, LIST_PAGE],
      );
      for (const { hash } of r.rows) yield hash;
      if (r.rows.length < LIST_PAGE) return;
      after = (r.rows[r.rows.length - 1] as { hash: string }).hash;
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#pool.end();
  }
}
