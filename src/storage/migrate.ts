/**
 * Migration between backends (`commune migrate`), e.g. from the embedded level store to
 * PostgreSQL and back. Every record of the source Store is copied unchanged into an empty
 * target Store, in bounded batches, one commit each: counters, the change log and the stamped
 * MODSEQs / sync tokens inside records come across as they are, so IMAP UIDs and MODSEQs, DAV
 * sync tokens and ctags stay valid for clients. Every blob goes through the blob API (listed,
 * streamed out, put into the target, which hashes it again): a target with another kind of
 * blob store (inline in the store, files, PostgreSQL) files each blob its own way. Inline
 * blob keys are therefore not copied as records. Last, both sides are verified
 * (migrate-verify.ts).
 *
 * Both stores must be quiet while this runs (no server on either): the level store's lock
 * guarantees it for level; a write to a PostgreSQL source meanwhile shows as a difference.
 */

import { CommuneError } from '../core/errors.ts';
import type { BlobStore } from './blob-store.ts';
import {
  BLOB_CONCURRENCY,
  forEachConcurrent,
  scanRecords,
  verifyMigration,
  type StorageParts,
  type Verification,
} from './migrate-verify.ts';
import type { PutOp, Store } from './store.ts';

export interface MigrationProgress {
  readonly phase: 'records' | 'blobs' | 'verify';
  /** Records or blobs copied so far (0 for verify). */
  readonly count: number;
  readonly bytes: number;
  /** True once for each phase, when it ends (verify: when it starts). */
  readonly done: boolean;
}

export interface MigrateOptions {
  readonly onProgress?: (progress: MigrationProgress) => void;
  /** Most records per commit (default 1,000). */
  readonly batchEntries?: number;
  /** Most key + value bytes per commit, past the first record (default 4 MiB). */
  readonly batchBytes?: number;
}

export interface MigrationReport {
  readonly records: { readonly count: number; readonly bytes: number };
  readonly blobs: { readonly count: number; readonly bytes: number };
  readonly verification: Verification;
}

const DEFAULT_BATCH_ENTRIES = 1000;
const DEFAULT_BATCH_BYTES = 4 * 1024 * 1024;
/** Blobs copied between two progress reports. */
const BLOB_PROGRESS_EVERY = 256;
const MAX_REPORTED = 20;

/**
 * Fail with CommuneError 'conflict' unless `target` holds no record and no blob: a migration
 * never merges into existing data.
 */
export async function assertEmptyTarget(target: StorageParts): Promise<void> {
  for await (const entry of target.store.scan({ limit: 1 })) {
    void entry;
    throw new CommuneError('conflict', 'the target store is not empty');
  }
  for await (const hash of target.blobs.list()) {
    void hash;
    throw new CommuneError('conflict', 'the target blob store is not empty');
  }
}

/** Copy `source` into the empty `target`, then verify both. Throws before copying if not empty. */
export async function migrateStorage(
  source: StorageParts,
  target: StorageParts,
  options: MigrateOptions = {},
): Promise<MigrationReport> {
  await assertEmptyTarget(target);
  const records = await copyRecords(source.store, target.store, options);
  const blobs = await copyBlobs(source.blobs, target.blobs, options);
  options.onProgress?.({ phase: 'verify', count: 0, bytes: 0, done: true });
  const verification = await verifyMigration(source, target);
  const problems = [...blobs.problems, ...verification.problems];
  return {
    records,
    blobs: { count: blobs.count, bytes: blobs.bytes },
    verification: { ...verification, ok: problems.length === 0, problems },
  };
}

type Settled = { readonly ok: true } | { readonly ok: false; readonly err: unknown };

/**
 * Every record, in key order, as puts in batches; one commit in flight while the next batch
 * is read.
 */
export async function copyRecords(
  source: Store,
  target: Store,
  options: MigrateOptions = {},
): Promise<{ count: number; bytes: number }> {
  const maxEntries = options.batchEntries ?? DEFAULT_BATCH_ENTRIES;
  const maxBytes = options.batchBytes ?? DEFAULT_BATCH_BYTES;
  let batch: PutOp[] = [];
  let batchBytes = 0;
  let count = 0;
  let bytes = 0;
  let inFlight: Promise<Settled> | undefined;

  const settle = async (): Promise<boolean> => {
    if (inFlight === undefined) return false;
    const outcome = await inFlight;
    inFlight = undefined;
    if (!outcome.ok) throw outcome.err;
    return true;
  };
  const send = async (): Promise<void> => {
    if (await settle()) options.onProgress?.({ phase: 'records', count, bytes, done: false });
    const ops = batch;
    count += ops.length;
    bytes += batchBytes;
    batch = [];
    batchBytes = 0;
    // step: settled, never rejected, so a failure waits for settle() instead of going unhandled
    inFlight = target.commit({ ops }).then(
      (result): Settled =>
        result.ok ? { ok: true } : { ok: false, err: new Error('unexpected conflict') },
      (err: unknown): Settled => ({ ok: false, err }),
    );
  };

  try {
    for await (const [key, value] of scanRecords(source)) {
      batch.push({ type: 'put', key, value });
      batchBytes += key.byteLength + value.byteLength;
      if (batch.length >= maxEntries || batchBytes >= maxBytes) await send();
    }
    if (batch.length > 0) await send();
    await settle();
  } finally {
    await inFlight;
  }
  options.onProgress?.({ phase: 'records', count, bytes, done: true });
  return { count, bytes };
}

/**
 * Every blob of `source` put into `target`, a few at a time. The target hashes what it
 * receives: a source blob whose content does not match its name is reported, not hidden.
 */
export async function copyBlobs(
  source: BlobStore,
  target: BlobStore,
  options: MigrateOptions = {},
): Promise<{ count: number; bytes: number; problems: string[] }> {
  let count = 0;
  let bytes = 0;
  let bad = 0;
  const problems: string[] = [];
  const problem = (line: string): void => {
    if (++bad <= MAX_REPORTED) problems.push(line);
  };
  await forEachConcurrent(source.list(), BLOB_CONCURRENCY, async (hash) => {
    const stream = await source.get(hash);
    if (stream === undefined) {
      problem(`blob ${hash} in the source: listed but not readable`);
      return;
    }
    const ref = await target.put(stream);
    if (ref.hash !== hash) problem(`blob ${hash} in the source: its content hashes to ${ref.hash}`);
    count++;
    bytes += ref.size;
    if (count % BLOB_PROGRESS_EVERY === 0) {
      options.onProgress?.({ phase: 'blobs', count, bytes, done: false });
    }
  });
  if (bad > MAX_REPORTED)
    problems.push(`... and ${bad - MAX_REPORTED} more such blobs in the source`);
  options.onProgress?.({ phase: 'blobs', count, bytes, done: true });
  return { count, bytes, problems };
}
