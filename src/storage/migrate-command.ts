/**
 * `commune migrate --to TARGET`: open the configured storage as the source and TARGET
 * (migrate-target.ts) as the target, refuse a non-empty target, copy, verify, print progress
 * and the verification table. `--verify-only` compares an earlier migration's two sides
 * again without writing. The exit status is 0 only when the verification matched.
 */

import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../core/config.ts';
import { CommuneError, isCommuneError } from '../core/errors.ts';
import { assertEmptyTarget, migrateStorage, type MigrationProgress } from './migrate.ts';
import { formatProgress, formatVerification } from './migrate-report.ts';
import {
  describeStorage,
  sameStorage,
  sourceOptions,
  targetOptions,
  type TargetFlags,
} from './migrate-target.ts';
import { verifyMigration, type Verification } from './migrate-verify.ts';
import { openStorage, type OpenStorageOptions } from './open-storage.ts';
import type { Storage } from './storage.ts';

export interface MigrateCommandArgs extends TargetFlags {
  /** The target: level:DIR or a postgres:// connection string. */
  readonly to: string;
  readonly verifyOnly?: boolean;
  /** Print the report as JSON instead of text (and no progress). */
  readonly json?: boolean;
}

/** Progress lines at most this often (phase ends are always printed). */
const PROGRESS_INTERVAL_MS = 1000;

/** Run the command; returns the exit status. Errors opening either side are thrown. */
export async function runMigrateCommand(
  config: Config,
  args: MigrateCommandArgs,
  out: (line: string) => void = (line) => console.log(line),
): Promise<number> {
  const from = sourceOptions(config);
  const to = targetOptions(args.to, args);
  if (sameStorage(from, to)) {
    throw new CommuneError('invalid-argument', 'the target is the configured store itself');
  }
  if (from.backend === 'level' && !(await isDirectory(join(from.dataDir, 'store')))) {
    // step: opening would create an empty store, and migrating it is surely a wrong --data-dir
    throw new CommuneError('not-found', `no store in ${from.dataDir} (see --data-dir)`);
  }
  const text = args.json !== true;
  const started = Date.now();
  if (text) {
    out(`source: ${describeStorage(from)}`);
    out(`target: ${describeStorage(to)}`);
    if (from.backend === 'postgres') {
      out('note: stop every node using the source first; writes made meanwhile fail the check');
    }
  }
  const source = await openSide('source', from);
  try {
    const target = await openSide('target', to);
    try {
      let verification: Verification;
      let copied: unknown;
      if (args.verifyOnly === true) {
        verification = await verifyMigration(source, target);
      } else {
        await refuseNonEmpty(target, to);
        const report = await migrateStorage(source, target, {
          ...(text ? { onProgress: throttled(out) } : {}),
        });
        verification = report.verification;
        copied = { records: report.records, blobs: report.blobs };
      }
      const seconds = (Date.now() - started) / 1000;
      if (text) {
        for (const line of formatVerification(verification)) out(line);
        const what = args.verifyOnly === true ? 'verification' : 'migration';
        out(`${what} took ${seconds.toFixed(1)} s`);
      } else {
        out(JSON.stringify({ ...(copied as object), verification, seconds }, null, 2));
      }
      return verification.ok ? 0 : 1;
    } finally {
      await target.close();
    }
  } finally {
    await source.close();
  }
}

async function openSide(role: 'source' | 'target', options: OpenStorageOptions): Promise<Storage> {
  try {
    return await openStorage(options);
  } catch (err) {
    if (!isCommuneError(err)) throw err;
    const where = describeStorage(options);
    if (isLevelLocked(err)) {
      throw new CommuneError(
        'unavailable',
        `the ${role} (${where}) is in use by another process: stop the server (or other ` +
          'commune command) using it before migrating',
        { cause: err },
      );
    }
    throw new CommuneError(err.code, `cannot open the ${role} (${where}): ${err.message}`, {
      cause: err,
    });
  }
}

async function refuseNonEmpty(target: Storage, options: OpenStorageOptions): Promise<void> {
  try {
    await assertEmptyTarget(target);
  } catch (err) {
    if (!isCommuneError(err, 'conflict')) throw err;
    const fix =
      options.backend === 'level'
        ? 'name a new directory'
        : 'use an empty database or a new --to-schema';
    throw new CommuneError(
      'conflict',
      `refusing to migrate into ${describeStorage(options)}: ${err.message}; ${fix}`,
    );
  }
}

async function isDirectory(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isDirectory() ?? false;
}

/** True when a cause in the chain is classic-level's LEVEL_LOCKED (another process has it). */
function isLevelLocked(err: unknown): boolean {
  for (let e = err, depth = 0; e !== undefined && e !== null && depth < 5; depth++) {
    if ((e as { code?: unknown }).code === 'LEVEL_LOCKED') return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/** Progress printer: phase ends always, other updates at most once per interval. */
function throttled(out: (line: string) => void): (p: MigrationProgress) => void {
  let last = 0;
  return (p) => {
    const now = Date.now();
    if (!p.done && now - last < PROGRESS_INTERVAL_MS) return;
    last = now;
    out(formatProgress(p));
  };
}
