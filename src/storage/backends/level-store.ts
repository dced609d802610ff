/**
 * The level backend: the embedded default, one LevelDB directory (classic-level). One process
 * owns the directory (LevelDB holds a LOCK file); its commits are planned one after the other
 * and written in groups, each group one synced batch (group commit), so a commit is atomic
 * and, once acknowledged, durable.
 */

import { ClassicLevel } from 'classic-level';
import { mkdir } from 'node:fs/promises';
import type { Batch, CommitResult, HealthCheckable, KeyRange, Store } from '../store.ts';
import { keysToRead, planCommit } from '../commit-plan.ts';
import { Subspace, keyHex, pack } from '../keys.ts';
import { CommuneError } from '../../core/errors.ts';

type Db = ClassicLevel<Uint8Array, Uint8Array>;

/** Most commits written in one group (one fsync). */
const MAX_GROUP = 256;

interface PendingCommit {
  readonly batch: Batch;
  resolve(result: CommitResult): void;
  reject(err: unknown): void;
}

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
  readonly #pending: PendingCommit[] = [];
  #flushing: Promise<void> | undefined;
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
    return plain(this.#db.getSync(key));
  }

  async getMany(keys: readonly Uint8Array[]): Promise<(Uint8Array | undefined)[]> {
    this.#check();
    if (keys.length === 0) return [];
    return keys.map((k) => plain(this.#db.getSync(k)));
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

  /**
   * Commits are grouped: those that arrive while a group is being written wait and go
   * together in the next one. Each is planned in arrival order over the state the previous
   * ones leave, so the result is the same as running them one by one; the group is written in
   * one synced batch (one fsync for many commits), so each commit is still all-or-nothing and
   * durable when its promise resolves.
   */
  commit(batch: Batch): Promise<CommitResult> {
    return new Promise<CommitResult>((resolve, reject) => {
      if (this.#closed) {
        reject(new CommuneError('unavailable', `store at ${this.dir} is closed`));
        return;
      }
      this.#pending.push({ batch, resolve, reject });
      if (this.#flushing === undefined) this.#flushing = this.#flush();
    });
  }

  async #flush(): Promise<void> {
    try {
      while (this.#pending.length > 0) {
        const group = this.#pending.splice(0, MAX_GROUP);
        await this.#writeGroup(group);
      }
    } finally {
      this.#flushing = undefined;
    }
  }

  async #writeGroup(group: readonly PendingCommit[]): Promise<void> {
    // 1. Read every value the group's plans depend on, once.
    const keys = new Map<string, Uint8Array>();
    for (const { batch } of group) for (const k of keysToRead(batch)) keys.set(keyHex(k), k);
    let values: (Uint8Array | undefined)[];
    try {
      values = keys.size === 0 ? [] : await this.#db.getMany([...keys.values()]);
    } catch (err) {
      for (const p of group) p.reject(err);
      return;
    }
    const state = new Map<string, Uint8Array | undefined>();
    [...keys.keys()].forEach((hex, i) => state.set(hex, values[i]));

    // 2. Plan each commit over the state the earlier ones leave.
    const writes = new Map<string, { key: Uint8Array; value: Uint8Array | undefined }>();
    const outcomes: (() => void)[] = [];
    for (const p of group) {
      let plan: ReturnType<typeof planCommit>;
      try {
        plan = planCommit(p.batch, (k) => state.get(keyHex(k)));
      } catch (err) {
        outcomes.push(() => p.reject(err));
        continue;
      }
      if (!plan.ok) {
        outcomes.push(() => p.resolve(plan));
        continue;
      }
      for (const w of plan.writes) {
        const hex = keyHex(w.key);
        state.set(hex, w.value);
        writes.set(hex, w);
      }
      outcomes.push(() =>
        p.resolve({ ok: true, counters: plan.counters, changeIds: plan.changeIds }),
      );
    }

    // 3. One atomic batch, fsynced before anyone is told.
    try {
      if (writes.size > 0) {
        await this.#db.batch(
          [...writes.values()].map((w) =>
            w.value === undefined
              ? { type: 'del' as const, key: w.key }
              : { type: 'put' as const, key: w.key, value: w.value },
          ),
          { sync: true },
        );
      }
    } catch (err) {
      for (const p of group) p.reject(err);
      return;
    }
    for (const done of outcomes) done();
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
    this.#closed = true;
    while (this.#flushing !== undefined) await this.#flushing;
    await this.#db.close();
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
