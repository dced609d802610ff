/**
 * Text rendering of a migration's progress and verification for `commune migrate`: a table
 * of record counts and checksums per subspace, the blob counts, and the problems found.
 */

import type { MigrationProgress } from './migrate.ts';
import { pairSubspaces, subspaceName, type Verification } from './migrate-verify.ts';

const count = (n: number): string => n.toLocaleString('en-US');

/** 1536 -> "1.5 KiB". */
export function formatBytes(n: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${n} bytes` : `${value.toFixed(1)} ${units[unit]}`;
}

export function formatProgress(p: MigrationProgress): string {
  if (p.phase === 'verify') return 'verifying: counting and checksumming both sides...';
  const what = p.phase === 'records' ? 'records' : 'blobs';
  return `${what}: ${count(p.count)} copied (${formatBytes(p.bytes)})${p.done ? ', done' : ''}`;
}

/** The verification table and verdict, one string per line. */
export function formatVerification(v: Verification): string[] {
  const rows: string[][] = [['records', 'source', 'target', 'sha-256 (source)', '']];
  for (const { subspace, source: s, target: t } of pairSubspaces(
    v.records.source,
    v.records.target,
  )) {
    const same = s !== undefined && t !== undefined && s.count === t.count && s.sha256 === t.sha256;
    rows.push([
      `  ${subspaceName(subspace)}`,
      count(s?.count ?? 0),
      count(t?.count ?? 0),
      (s ?? t)?.sha256.slice(0, 16) ?? '',
      same ? 'match' : 'DIFFERENT',
    ]);
  }
  const { source, target } = v.records;
  rows.push([
    '  all records',
    count(source.count),
    count(target.count),
    source.sha256.slice(0, 16),
    source.count === target.count && source.sha256 === target.sha256 ? 'match' : 'DIFFERENT',
  ]);
  const blobs = v.blobs;
  const blobsMatch =
    blobs.source.count === blobs.target.count &&
    blobs.source.setDigest === blobs.target.setDigest &&
    (blobs.target.corrupt ?? 0) === 0;
  rows.push([
    'blobs',
    count(blobs.source.count),
    count(blobs.target.count),
    blobs.source.setDigest.slice(0, 16),
    blobsMatch ? 'match' : 'DIFFERENT',
  ]);
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  const lines = rows.map((r) =>
    r
      .map((cell, i) =>
        i === 0 || i === 3 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0),
      )
      .join('  ')
      .trimEnd(),
  );
  if (blobs.target.bytes !== undefined) {
    lines.push(
      `every target blob read back: ${count(blobs.target.count)} (${formatBytes(blobs.target.bytes)}), ` +
        `${count(blobs.target.corrupt ?? 0)} not matching their hash`,
    );
  }
  if (v.ok) lines.push('verified: counts and checksums match');
  else lines.push('verification FAILED:', ...v.problems.map((p) => `  ${p}`));
  return lines;
}
