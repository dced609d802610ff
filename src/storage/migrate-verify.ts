/**
 * Verification of a migration (see migrate.ts): summaries of both sides that must be equal.
 *
 *   records: per subspace, the key count, byte count and a SHA-256 over the (key, value)
 *            pairs in key order, each framed as u32 length + bytes, so no two different
 *            sequences hash alike; plus one SHA-256 over all of them.
 *   blobs:   the count and an order-independent digest of the set of hashes (their sum modulo
 *            2^256: backends list in different orders); on the side that was written, every
 *            blob's content is read back and hashed, and must equal its name.
 *
 * Inline blob keys (inline-blob-store.ts) are left out of the record summary: they are blob
 * content, compared through the blob API, because a target with another blob store keeps
 * them elsewhere.
 */

import { createHash, type Hash } from 'node:crypto';
import type { BlobStore } from './blob-store.ts';
import { inlineBlobRange } from './inline-blob-store.ts';
import { Subspace } from './keys.ts';
import type { KeyRange, Store } from './store.ts';

/** What the migration reads and writes: a Store and its BlobStore (a Storage fits). */
export interface StorageParts {
  readonly store: Store;
  readonly blobs: BlobStore;
}

export interface SubspaceSummary {
  /** The subspace byte. */
  readonly subspace: number;
  /** Its name in keys.ts, or its hex byte when unknown. */
  readonly name: string;
  readonly count: number;
  readonly bytes: number;
  readonly sha256: string;
}

export interface RecordSummary {
  readonly count: number;
  readonly bytes: number;
  readonly sha256: string;
  /** Subspaces holding keys, in byte order. */
  readonly subspaces: readonly SubspaceSummary[];
}

export interface BlobSummary {
  readonly count: number;
  /** Sum of the hashes modulo 2^256, hex: equal sets give equal digests in any order. */
  readonly setDigest: string;
  /** Content bytes; only when the content was read (`rehash`). */
  readonly bytes?: number;
  /** Blobs whose content is gone or does not hash to their name (only with `rehash`). */
  readonly corrupt?: number;
  /** The first few of those. */
  readonly corruptHashes?: readonly string[];
}

export interface Verification {
  readonly ok: boolean;
  readonly records: { readonly source: RecordSummary; readonly target: RecordSummary };
  readonly blobs: { readonly source: BlobSummary; readonly target: BlobSummary };
  /** One line per difference found; empty when ok. */
  readonly problems: readonly string[];
}

/** Blobs read back at once while rehashing. */
export const BLOB_CONCURRENCY = 16;
const MAX_REPORTED = 20;
const MOD_256 = 1n << 256n;

const SUBSPACE_NAMES = new Map<number, string>(
  Object.entries(Subspace).map(([name, byte]) => [byte, name]),
);

export function subspaceName(subspace: number): string {
  return SUBSPACE_NAMES.get(subspace) ?? `0x${subspace.toString(16).padStart(2, '0')}`;
}

/** The key ranges holding records: everything but the inline blob range, in key order. */
export function recordRanges(): KeyRange[] {
  const inline = inlineBlobRange();
  return [{ lt: inline.gte as Uint8Array }, { gte: inline.lt as Uint8Array }];
}

/** Every record of `store` (inline blob keys excepted), in key order. */
export async function* scanRecords(store: Store): AsyncIterable<readonly [Uint8Array, Uint8Array]> {
  for (const range of recordRanges()) yield* store.scan(range);
}

/** One framed (key, value) pair into a running hash. */
export function hashPair(hash: Hash, key: Uint8Array, value: Uint8Array): void {
  const frame = Buffer.allocUnsafe(4);
  frame.writeUInt32BE(key.byteLength);
  hash.update(frame);
  hash.update(key);
  frame.writeUInt32BE(value.byteLength);
  hash.update(frame);
  hash.update(value);
}

/** Count and checksum the records of `store`, per subspace and overall. */
export async function summarizeRecords(store: Store): Promise<RecordSummary> {
  const all = createHash('sha256');
  const subspaces: SubspaceSummary[] = [];
  let current: { subspace: number; hash: Hash; count: number; bytes: number } | undefined;
  const close = (): void => {
    if (!current) return;
    const { subspace, hash, count, bytes } = current;
    subspaces.push({
      subspace,
      name: subspaceName(subspace),
      count,
      bytes,
      sha256: hash.digest('hex'),
    });
  };
  let count = 0;
  let bytes = 0;
  for await (const [key, value] of scanRecords(store)) {
    const subspace = key[0] as number;
    if (current?.subspace !== subspace) {
      close();
      current = { subspace, hash: createHash('sha256'), count: 0, bytes: 0 };
    }
    hashPair(all, key, value);
    hashPair(current.hash, key, value);
    const size = key.byteLength + value.byteLength;
    current.count++;
    current.bytes += size;
    count++;
    bytes += size;
  }
  close();
  return { count, bytes, sha256: all.digest('hex'), subspaces };
}

/**
 * Count the blobs of `blobs` and digest the set of their hashes. With `rehash`, read every
 * blob back and check that its content hashes to its name.
 */
export async function summarizeBlobs(
  blobs: BlobStore,
  options: { rehash?: boolean } = {},
): Promise<BlobSummary> {
  let count = 0;
  let sum = 0n;
  let bytes = 0;
  let corrupt = 0;
  const corruptHashes: string[] = [];
  await forEachConcurrent(blobs.list(), BLOB_CONCURRENCY, async (hash) => {
    count++;
    sum = (sum + BigInt(`0x${hash}`)) % MOD_256;
    if (!options.rehash) return;
    const content = await hashContent(blobs, hash);
    bytes += content?.size ?? 0;
    if (content?.hash === hash) return;
    corrupt++;
    if (corruptHashes.length < MAX_REPORTED) corruptHashes.push(hash);
  });
  const setDigest = sum.toString(16).padStart(64, '0');
  return options.rehash
    ? { count, setDigest, bytes, corrupt, corruptHashes }
    : { count, setDigest };
}

/** SHA-256 and size of a blob's content as read now; undefined when it is absent. */
export async function hashContent(
  blobs: BlobStore,
  hash: string,
): Promise<{ hash: string; size: number } | undefined> {
  const stream = await blobs.get(hash);
  if (stream === undefined) return undefined;
  const h = createHash('sha256');
  let size = 0;
  for await (const chunk of stream) {
    h.update(chunk as Uint8Array);
    size += (chunk as Uint8Array).byteLength;
  }
  return { hash: h.digest('hex'), size };
}

/**
 * Compare `source` and `target`: record summaries (both scanned at once) and blob summaries,
 * the target's blob content re-read and hashed. Stores must be quiet meanwhile: a write to
 * either side shows up as a difference.
 */
export async function verifyMigration(
  source: StorageParts,
  target: StorageParts,
): Promise<Verification> {
  const [sourceRecords, targetRecords] = await Promise.all([
    summarizeRecords(source.store),
    summarizeRecords(target.store),
  ]);
  const [sourceBlobs, targetBlobs] = await Promise.all([
    summarizeBlobs(source.blobs),
    summarizeBlobs(target.blobs, { rehash: true }),
  ]);
  const problems = [
    ...compareRecords(sourceRecords, targetRecords),
    ...compareBlobs(sourceBlobs, targetBlobs),
  ];
  return {
    ok: problems.length === 0,
    records: { source: sourceRecords, target: targetRecords },
    blobs: { source: sourceBlobs, target: targetBlobs },
    problems,
  };
}

/** One row per subspace present on either side, in byte order. */
export interface SubspacePair {
  readonly subspace: number;
  readonly source: SubspaceSummary | undefined;
  readonly target: SubspaceSummary | undefined;
}

export function pairSubspaces(source: RecordSummary, target: RecordSummary): SubspacePair[] {
  const bytes = new Set([...source.subspaces, ...target.subspaces].map((s) => s.subspace));
  return [...bytes]
    .sort((a, b) => a - b)
    .map((subspace) => ({
      subspace,
      source: source.subspaces.find((s) => s.subspace === subspace),
      target: target.subspaces.find((s) => s.subspace === subspace),
    }));
}

function compareRecords(source: RecordSummary, target: RecordSummary): string[] {
  const problems: string[] = [];
  for (const { subspace, source: s, target: t } of pairSubspaces(source, target)) {
    const name = subspaceName(subspace);
    if (s?.count !== t?.count) {
      problems.push(
        `records ${name}: ${s?.count ?? 0} in the source, ${t?.count ?? 0} in the target`,
      );
    } else if (s?.sha256 !== t?.sha256) {
      problems.push(`records ${name}: same count (${s?.count ?? 0}), different checksum`);
    }
  }
  if (problems.length === 0 && source.sha256 !== target.sha256) {
    problems.push('records: the overall checksums differ');
  }
  return problems;
}

function compareBlobs(source: BlobSummary, target: BlobSummary): string[] {
  const problems: string[] = [];
  if (source.count !== target.count) {
    problems.push(`blobs: ${source.count} in the source, ${target.count} in the target`);
  } else if (source.setDigest !== target.setDigest) {
    problems.push(`blobs: same count (${source.count}), different sets of hashes`);
  }
  for (const hash of target.corruptHashes ?? []) {
    problems.push(`blob ${hash} in the target: content missing or not matching its hash`);
  }
  const unlisted = (target.corrupt ?? 0) - (target.corruptHashes?.length ?? 0);
  if (unlisted > 0) problems.push(`... and ${unlisted} more such blobs in the target`);
  return problems;
}

/** Run `fn` over `items` with at most `limit` calls in flight; the first failure rejects. */
export async function forEachConcurrent<T>(
  items: AsyncIterable<T>,
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  const running = new Set<Promise<void>>();
  let failure: { err: unknown } | undefined;
  for await (const item of items) {
    if (failure) break;
    const p: Promise<void> = fn(item).then(
      () => void running.delete(p),
      (err: unknown) => {
        running.delete(p);
        failure ??= { err };
      },
    );
    running.add(p);
    if (running.size >= limit) await Promise.race(running);
  }
  await Promise.all(running);
  if (failure) throw failure.err;
}
