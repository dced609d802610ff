/**
 * The level backend: the embedded default, one LevelDB directory (classic-level). One process
 * owns the directory (LevelDB holds a LOCK file); its commits run one at a time under a
 * mutex, read what the plan needs, and apply all writes in one synced batch, so a commit is
 * atomic and, once acknowledged, durable.
 */

import { ClassicLevel } from 'classic-level';
import { mkdir } from 'node:fs/promises';
import type { Batch, CommitResult, HealthCheckable, KeyRange, Store } from '../store.ts';
import { Mutex, keysToRead, planCommit } from '../commit-plan.ts';
import { Subspace, keyHex, pack } from '../keys.ts';
import { CommuneError } from '../../core/errors.ts';

type Db = ClassicLevel<Uint8Array, Uint8Array>;

/** Entries fetched per iterator round trip during a scan. */
const SCAN_CHUNK = 256;

interface IteratorRange {
  gte?: Uint8Array;
  gt?: Uint8Array;
  lte?: Uint8Array;
  lt?: Uint8Array;
  limit?: number;
  reverse?: boolean;
}

export class LevelStore implements Store, HealthCheckable {
  readonly name = 'level';
  readonly dir: string;
  readonly #db: Db;
  readonly #mutex = new Mutex();
  #closed = false;

  private constructor(dir: string, db: Db) {
    this.dir = dir;
    this.#db = db;
  }

  /**
   * Open (creating when missing) the store at `dir`. Fails with CommuneError 'unavailable'
   * when the directory is unusable or another process has the store open.
   */
  static async open(dir: string): Promise<LevelStore> {
    try {
      // Fails with EEXIST when `dir` is a file, ENOTDIR when a parent is one.
      await mkdir(dir, { recursive: true, mode: 0o750 });
    } catch (err) {
      throw new CommuneError('unavailable', `cannot open store at ${dir}: ${reason(err)}`, {
        cause: err,
      });
    }
    const db: Db = new ClassicLevel<Uint8Array, Uint8Array>(dir, {
      keyEncoding: 'view',
      valueEncoding: 'view',
    });
    try {
      await db.open();
    } catch (err) {
      const cause = (err as { cause?: unknown }).cause ?? err;
      if ((cause as { code?: unknown }).code === 'LEVEL_LOCKED') {
        throw new CommuneError('unavailable', `store at ${dir} is in use by another process`, {
          cause: err,
        });
      }
      throw new CommuneError('unavailable', `cannot open store at ${dir}: ${reason(cause)}`, {
        cause: err,
      });
    }
    return new LevelStore(dir, db);
  }

  #check(): void {
    if (this.#closed) throw new CommuneError('unavailable', `store at ${this.dir} is closed`);
  }

  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    this.#check();
    return plain(await this.#db.get(key));
  }

  async getMany(keys: readonly Uint8Array[]): Promise<(Uint8Array | undefined)[]> {
    this.#check();
    if (keys.length === 0) return [];
    return (await this.#db.getMany([...keys])).map(plain);
  }

  async *scan(range: KeyRange): AsyncIterable<readonly [Uint8Array, Uint8Array]> {
    this.#check();
    if (range.limit !== undefined && range.limit <= 0) return;
    // Same bound precedence as the memory backend: gte over gt, lt over lte.
    const options: IteratorRange = {};
    if (range.gte) options.gte = range.gte;
    else if (range.gt) options.gt = range.gt;
    if (range.lt) options.lt = range.lt;
    else if (range.lte) options.lte = range.lte;
    if (range.limit !== undefined) options.limit = range.limit;
    if (range.reverse) options.reverse = true;
    // The iterator reads from an implicit snapshot; `finally` closes it even when the
    // consumer stops early (for-await calls return() on break).
    const it = this.#db.iterator(options);
    try {
      for (;;) {
        const entries = await it.nextv(SCAN_CHUNK);
        if (entries.length === 0) break;
        for (const [k, v] of entries) yield [plain(k), plain(v)] as const;
      }
    } finally {
      await it.close();
    }
  }

  commit(batch: Batch): Promise<CommitResult> {
    return this.#mutex.run(async () => {
      this.#check();
      // 1. Read the values the plan depends on.
      const keys = keysToRead(batch);
      const values = keys.length === 0 ? [] : await this.#db.getMany(keys);
      const reads = new Map(keys.map((k, i) => [keyHex(k), values[i]]));
      // 2. Plan over them; a failed expectation writes nothing.
      const plan = planCommit(batch, (k) => reads.get(keyHex(k)));
      if (!plan.ok) return plan;
      // 3. Apply every write in one atomic batch, fsynced before we acknowledge.
      if (plan.writes.length > 0) {
        await this.#db.batch(
          plan.writes.map((w) =>
            w.value === undefined
              ? { type: 'del' as const, key: w.key }
              : { type: 'put' as const, key: w.key, value: w.value },
          ),
          { sync: true },
        );
      }
      return { ok: true, counters: plan.counters, changeIds: plan.changeIds };
    });
  }

  async healthCheck(): Promise<boolean> {
    if (this.#closed || this.#db.status !== 'open') return false;
    try {
      await this.#db.get(pack(Subspace.meta, 'health'));
      return true;
    } catch {
      return false;
    }
  }

  /** Close after the commits already queued have finished. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    await this.#mutex.run(async () => {
      this.#closed = true;
      await this.#db.close();
    });
  }
}

/** A plain Uint8Array view of a Buffer returned by classic-level (same bytes, no copy). */
function plain(buf: Uint8Array): Uint8Array;
function plain(buf: Uint8Array | undefined): Uint8Array | undefined;
function plain(buf: Uint8Array | undefined): Uint8Array | undefined {
  return buf && new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** A one-line reason for an open failure. */
function reason(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'ENOTDIR' || code === 'EEXIST') return 'not a directory';
  if (code === 'EROFS') return 'read-only file system';
  const message = err instanceof Error ? err.message : String(err);
  return message.split('\n')[0] || 'unknown error';
}
