/**
 * The postgres backend: the Store contract on PostgreSQL, for several stateless nodes over one
 * database. Layout, all in one schema (default `public`):
 *
 *   commune_schema_version (component, version)   migrations applied, per component
 *   commune_subspaces (id)                        subspaces that have a table
 *   kv_<hex byte> (k bytea primary key, v bytea)  one table per subspace (first key byte)
 *
 * Subspace tables are created on demand, not all 256 up front: only a dozen subspaces are in
 * use (keys.ts), an empty schema stays small and quick to create (the test suite makes one per
 * test), and a new subspace needs no migration. Creation runs in its own short transaction
 * under an advisory lock (concurrent CREATE TABLE IF NOT EXISTS can otherwise fail) and is
 * recorded in commune_subspaces, which scans crossing subspaces read to find the tables that
 * any node has created. Keys are stored whole (subspace byte included), so bounds compare
 * directly; bytea compares bytewise unsigned (memcmp, then length), no collation involved.
 *
 * A commit is one READ COMMITTED transaction: the keys the plan depends on (keysToRead: expect
 * and incr targets, change counters) are locked first with one
 * `INSERT .. ON CONFLICT DO UPDATE .. RETURNING` per table, in key order: a present row is
 * row-locked and its latest committed value returned; an absent key gets a placeholder row
 * (v NULL) that this transaction owns, so a concurrent commit touching the same absent key
 * waits for us. Then planCommit (commit-plan.ts, shared with every backend) runs over those
 * values, and the writes go out as one multi-row upsert and one delete per table (placeholders
 * that were not written are deleted, so no NULL row ever becomes visible). Serialization
 * failures and deadlocks (SQLSTATE 40001, 40P01) are retried a bounded number of times.
 */

import pg from 'pg';
import type { Pool, PoolClient, QueryResult } from 'pg';
import { createHash } from 'node:crypto';
import type { Batch, CommitResult, HealthCheckable, KeyRange, Store } from '../store.ts';
import { keysToRead, planCommit } from '../commit-plan.ts';
import type { PlannedWrite } from '../commit-plan.ts';
import { compareKeys, keyHex } from '../keys.ts';
import { CommuneError } from '../../core/errors.ts';

export interface PostgresStoreOptions {
  /** Connection string, e.g. postgres://commune@db.example/commune. */
  readonly url: string;
  /** Pool connections of this node (default 10). */
  readonly poolSize?: number;
  /** Schema holding the tables (default `public`); created when missing. */
  readonly schema?: string;
  /** Called for errors of idle pooled connections (otherwise ignored: the pool reconnects). */
  readonly onError?: (err: unknown) => void;
}

/** One migration: statements run in the migration transaction, in order. */
export type Migration = (client: PoolClient, schema: string) => Promise<void>;

/** The store's migrations, in order; version n = the first n applied. Append only. */
const STORE_MIGRATIONS: readonly Migration[] = [
  async (client, schema) => {
    await client.query(`CREATE TABLE ${qualify(schema, 'commune_subspaces')} (
      id smallint PRIMARY KEY CHECK (id BETWEEN 0 AND 255))`);
  },
];

/** Rows fetched per round trip during a scan (keyset pagination). */
const SCAN_BATCH = 256;
/** Attempts of a commit that meets serialization failures or deadlocks. */
const MAX_ATTEMPTS = 12;
const RETRYABLE = new Set(['40001', '40P01']);
const UNDEFINED_TABLE = '42P01';

export class PostgresStore implements Store, HealthCheckable {
  readonly name = 'postgres';
  readonly schema: string;
  readonly #pool: Pool;
  /** Subspaces whose table is known to exist. */
  readonly #tables = new Set<number>();
  readonly #inFlight = new Set<Promise<unknown>>();
  #closed = false;

  private constructor(pool: Pool, schema: string) {
    this.#pool = pool;
    this.schema = schema;
  }

  /**
   * Connect, then create or migrate the schema. Fails with CommuneError 'unavailable' when the
   * database cannot be reached or holds a newer schema than this build knows.
   */
  static async open(options: PostgresStoreOptions): Promise<PostgresStore> {
    const schema = options.schema ?? 'public';
    const pool = createPool(options.url, options.poolSize ?? 10, options.onError);
    try {
      await migrate(pool, schema, 'store', STORE_MIGRATIONS);
      const store = new PostgresStore(pool, schema);
      await store.#loadTables();
      return store;
    } catch (err) {
      await pool.end().catch(() => undefined);
      if (err instanceof CommuneError) throw err;
      throw new CommuneError('unavailable', `cannot open postgres store: ${oneLine(err)}`, {
        cause: err,
      });
    }
  }

  #check(): void {
    if (this.#closed) throw new CommuneError('unavailable', 'postgres store is closed');
  }

  #table(subspace: number): string {
    return qualify(this.schema, `kv_${subspace.toString(16).padStart(2, '0')}`);
  }

  async #loadTables(): Promise<number[]> {
    const r = await this.#pool.query<{ id: number }>(
      `SELECT id FROM ${qualify(this.schema, 'commune_subspaces')} ORDER BY id`,
    );
    for (const row of r.rows) this.#tables.add(row.id);
    return r.rows.map((row) => row.id);
  }

  /** Create the tables of `subspaces` that this node does not know yet. */
  async #ensureTables(subspaces: Iterable<number>): Promise<void> {
    const missing = [...new Set(subspaces)]
      .filter((s) => !this.#tables.has(s))
      .sort((a, b) => a - b);
    if (missing.length === 0) return;
    const client = await this.#pool.connect();
    try {
      await client.query('BEGIN');
      // step: one DDL writer at a time per schema
      await client.query('SELECT pg_advisory_xact_lock($1::bigint)', [lockId(this.schema, 'ddl')]);
      for (const s of missing) {
        await client.query(
          `CREATE TABLE IF NOT EXISTS ${this.#table(s)} (k bytea PRIMARY KEY, v bytea)`,
        );
        await client.query(
          `INSERT INTO ${qualify(this.schema, 'commune_subspaces')} (id) VALUES ($1)
           ON CONFLICT DO NOTHING`,
          [s],
        );
      }
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
    for (const s of missing) this.#tables.add(s);
  }

  /** Run a read; a subspace table that does not exist (yet) reads as empty. */
  async #read<R extends pg.QueryResultRow>(
    sql: string,
    params: unknown[],
  ): Promise<QueryResult<R> | undefined> {
    try {
      return await this.#pool.query<R>(sql, params);
    } catch (err) {
      if (sqlState(err) === UNDEFINED_TABLE) return undefined;
      throw err;
    }
  }

  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    this.#check();
    if (key.length === 0) return undefined;
    const r = await this.#read<{ v: Buffer | null }>(
      `SELECT v FROM ${this.#table(key[0] as number)} WHERE k = $1`,
      [key],
    );
    return plain(r?.rows[0]?.v);
  }

  async getMany(keys: readonly Uint8Array[]): Promise<(Uint8Array | undefined)[]> {
    this.#check();
    const found = new Map<string, Uint8Array>();
    for (const [subspace, group] of bySubspace(keys)) {
      const r = await this.#read<{ k: Buffer; v: Buffer | null }>(
        `SELECT k, v FROM ${this.#table(subspace)} WHERE k = ANY($1::bytea[])`,
        [group],
      );
      for (const row of r?.rows ?? []) {
        const v = plain(row.v);
        if (v !== undefined) found.set(keyHex(row.k), v);
      }
    }
    return keys.map((k) => found.get(keyHex(k)));
  }

  /**
   * Keyset pagination: each round trip fetches the next SCAN_BATCH rows after the last key
   * seen, table by table in subspace order. No connection is held between batches, so a
   * consumer that stops early leaks nothing. Each key is yielded at most once and in order;
   * a commit made while the scan runs may or may not be seen (each batch is consistent).
   */
  async *scan(range: KeyRange): AsyncIterable<readonly [Uint8Array, Uint8Array]> {
    this.#check();
    let remaining = range.limit ?? Number.POSITIVE_INFINITY;
    if (remaining <= 0) return;
    // Same bound precedence as the other backends: gte over gt, lt over lte.
    const lower = range.gte
      ? { key: range.gte, strict: false }
      : range.gt && { key: range.gt, strict: true };
    const upper = range.lt
      ? { key: range.lt, strict: true }
      : range.lte && { key: range.lte, strict: false };
    if (upper && upper.key.length === 0) return;
    const first = lower && lower.key.length > 0 ? (lower.key[0] as number) : 0;
    const last = upper ? (upper.key[0] as number) : 255;
    if (last < first) return;
    // step: one subspace needs no catalogue lookup; a wider range lists the tables
    const subspaces =
      first === last ? [first] : (await this.#loadTables()).filter((s) => s >= first && s <= last);
    if (range.reverse) subspaces.reverse();
    const desc = range.reverse === true;

    for (const subspace of subspaces) {
      let lo = lower && lower.key.length > 0 && lower.key[0] === subspace ? lower : undefined;
      let hi = upper && upper.key[0] === subspace ? upper : undefined;
      for (;;) {
        const params: unknown[] = [];
        const where: string[] = ['v IS NOT NULL'];
        if (lo) {
          params.push(lo.key);
          where.push(`k ${lo.strict ? '>' : '>='} $${params.length}`);
        }
        if (hi) {
          params.push(hi.key);
          where.push(`k ${hi.strict ? '<' : '<='} $${params.length}`);
        }
        const n = Math.min(SCAN_BATCH, remaining);
        params.push(n);
        const r = await this.#read<{ k: Buffer; v: Buffer }>(
          `SELECT k, v FROM ${this.#table(subspace)} WHERE ${where.join(' AND ')}
           ORDER BY k ${desc ? 'DESC' : 'ASC'} LIMIT $${params.length}`,
          params,
        );
        const rows = r?.rows ?? [];
        for (const row of rows) yield [plain(row.k), plain(row.v)] as const;
        remaining -= rows.length;
        if (remaining <= 0) return;
        if (rows.length < n) break;
        // step: continue after the last key seen
        const lastKey = (rows[rows.length - 1] as { k: Buffer }).k;
        if (desc) hi = { key: lastKey, strict: true };
        else lo = { key: lastKey, strict: true };
      }
    }
  }

  commit(batch: Batch): Promise<CommitResult> {
    if (this.#closed) {
      return Promise.reject(new CommuneError('unavailable', 'postgres store is closed'));
    }
    const done = this.#commitWithRetry(batch);
    this.#inFlight.add(done);
    const forget = (): void => void this.#inFlight.delete(done);
    done.then(forget, forget);
    return done;
  }

  async #commitWithRetry(batch: Batch): Promise<CommitResult> {
    for (const op of batch.ops) {
      if (op.key.length === 0) throw new CommuneError('invalid-argument', 'empty key');
    }
    const touched = [...batch.ops.map((op) => op.key[0] as number)];
    for (const k of keysToRead(batch)) touched.push(k[0] as number);
    await this.#ensureTables(touched);
    for (let attempt = 1; ; attempt++) {
      try {
        const outcome = await this.#commitOnce(batch);
        if (outcome.kind === 'done') return outcome.result;
        // step: a stamped key landed in a subspace without a table: create it, try again
        await this.#ensureTables(outcome.subspaces);
        attempt--;
      } catch (err) {
        if (!RETRYABLE.has(sqlState(err) ?? '') || attempt >= MAX_ATTEMPTS) throw err;
        await sleep(Math.random() * 2 ** Math.min(attempt, 6));
      }
    }
  }

  async #commitOnce(
    batch: Batch,
  ): Promise<{ kind: 'done'; result: CommitResult } | { kind: 'tables'; subspaces: number[] }> {
    const client = await this.#pool.connect();
    let open = false;
    try {
      await client.query('BEGIN');
      open = true;
      // 1. Lock the keys the plan reads (placeholders for absent ones), read their values.
      const current = new Map<string, Uint8Array | undefined>();
      const placeholders = new Map<string, Uint8Array>();
      for (const [subspace, keys] of bySubspace(keysToRead(batch))) {
        const r = await client.query<{ k: Buffer; v: Buffer | null }>(
          `INSERT INTO ${this.#table(subspace)} AS t (k, v)
           SELECT k, NULL FROM unnest($1::bytea[]) AS u(k) ORDER BY k
           ON CONFLICT (k) DO UPDATE SET v = t.v
           RETURNING k, v`,
          [keys],
        );
        for (const row of r.rows) {
          const hex = keyHex(row.k);
          current.set(hex, plain(row.v));
          if (row.v === null) placeholders.set(hex, plain(row.k));
        }
      }

      // 2. Plan with the shared planner.
      const plan = planCommit(batch, (k) => current.get(keyHex(k)));
      if (!plan.ok) {
        await client.query('ROLLBACK');
        open = false;
        return { kind: 'done', result: plan };
      }
      const writes: PlannedWrite[] = [...plan.writes];
      for (const w of plan.writes) placeholders.delete(keyHex(w.key));
      for (const key of placeholders.values()) writes.push({ key, value: undefined });
      const unknown = [...new Set(writes.map((w) => w.key[0] as number))].filter(
        (s) => !this.#tables.has(s),
      );
      if (unknown.length > 0) {
        await client.query('ROLLBACK');
        open = false;
        return { kind: 'tables', subspaces: unknown };
      }

      // 3. One upsert and one delete per table, rows in key order.
      for (const [subspace, group] of groupWrites(writes)) {
        const puts = group.filter((w) => w.value !== undefined);
        const dels = group.filter((w) => w.value === undefined).map((w) => w.key);
        if (puts.length > 0) {
          await client.query(
            `INSERT INTO ${this.#table(subspace)} (k, v)
             SELECT * FROM unnest($1::bytea[], $2::bytea[])
             ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v`,
            [puts.map((w) => w.key), puts.map((w) => w.value)],
          );
        }
        if (dels.length > 0) {
          await client.query(`DELETE FROM ${this.#table(subspace)} WHERE k = ANY($1::bytea[])`, [
            dels,
          ]);
        }
      }
      await client.query('COMMIT');
      open = false;
      return {
        kind: 'done',
        result: { ok: true, counters: plan.counters, changeIds: plan.changeIds },
      };
    } catch (err) {
      if (open) await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  async healthCheck(): Promise<boolean> {
    if (this.#closed) return false;
    try {
      await this.#pool.query('SELECT 1');
      return true;
    } catch {
      return false;
    }
  }

  /** Close after the commits already started have finished. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.allSettled([...this.#inFlight]);
    await this.#pool.end();
  }
}

/** A pool whose idle-connection errors are reported, not thrown at the process. */
export function createPool(
  url: string,
  size: number,
  onError: ((err: unknown) => void) | undefined,
): Pool {
  const pool = new pg.Pool({ connectionString: url, max: size });
  pool.on('error', (err) => onError?.(err));
  return pool;
}

/**
 * Bring `component`'s tables in `schema` to the latest of `migrations`, in one transaction
 * under an advisory lock, so nodes starting together migrate once. The version table holds
 * one row per component (the store and the blob store migrate independently).
 */
export async function migrate(
  pool: Pool,
  schema: string,
  component: string,
  migrations: readonly Migration[],
): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1::bigint)', [lockId(schema, 'migrate')]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
    const versions = qualify(schema, 'commune_schema_version');
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${versions} (component text PRIMARY KEY, version integer NOT NULL)`,
    );
    const r = await client.query<{ version: number }>(
      `SELECT version FROM ${versions} WHERE component = $1`,
      [component],
    );
    const current = r.rows[0]?.version ?? 0;
    if (current > migrations.length) {
      throw new CommuneError(
        'unavailable',
        `database schema ${schema} has ${component} version ${current}, newer than this build (${migrations.length})`,
      );
    }
    for (let v = current; v < migrations.length; v++)
      await (migrations[v] as Migration)(client, schema);
    await client.query(
      `INSERT INTO ${versions} (component, version) VALUES ($1, $2)
       ON CONFLICT (component) DO UPDATE SET version = EXCLUDED.version`,
      [component, migrations.length],
    );
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/** A quoted SQL identifier. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** `schema.table`, both quoted. */
export function qualify(schema: string, table: string): string {
  return `${quoteIdent(schema)}.${quoteIdent(table)}`;
}

/** A 64-bit advisory lock id for `purpose` within `schema` (as a decimal string). */
export function lockId(schema: string, purpose: string): string {
  const digest = createHash('sha256').update(`commune\0${schema}\0${purpose}`).digest();
  return digest.readBigInt64BE(0).toString();
}

/** The SQLSTATE of a database error, if any. */
export function sqlState(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** The first line of an error's message. */
export function oneLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.split('\n')[0] || 'unknown error';
}

/** Non-empty keys grouped by subspace, each group sorted and deduplicated. */
function bySubspace(keys: readonly Uint8Array[]): Map<number, Uint8Array[]> {
  const groups = new Map<number, Map<string, Uint8Array>>();
  for (const k of keys) {
    if (k.length === 0) continue;
    const s = k[0] as number;
    let g = groups.get(s);
    if (!g) groups.set(s, (g = new Map()));
    g.set(keyHex(k), k);
  }
  const out = new Map<number, Uint8Array[]>();
  for (const s of [...groups.keys()].sort((a, b) => a - b)) {
    out.set(s, [...(groups.get(s) as Map<string, Uint8Array>).values()].sort(compareKeys));
  }
  return out;
}

/** Writes grouped by subspace (ascending), each group in key order. */
function groupWrites(writes: readonly PlannedWrite[]): Map<number, PlannedWrite[]> {
  const groups = new Map<number, PlannedWrite[]>();
  for (const w of [...writes].sort((a, b) => compareKeys(a.key, b.key))) {
    const s = w.key[0] as number;
    const g = groups.get(s);
    if (g) g.push(w);
    else groups.set(s, [w]);
  }
  return groups;
}

/** A plain Uint8Array view of a Buffer from pg (same bytes, no copy). */
function plain(buf: Buffer): Uint8Array;
function plain(buf: Buffer | null | undefined): Uint8Array | undefined;
function plain(buf: Buffer | null | undefined): Uint8Array | undefined {
  return buf ? new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength) : undefined;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
