/**
 * Where `commune migrate` reads and writes: the source is the configured storage (the same
 * options the server opens), the target is named on the command line:
 *
 *   level:DIR                     the embedded store in DIR (DIR/store, DIR/blobs), like a
 *                                 data directory
 *   postgres://... (postgresql:)  PostgreSQL; blobs in the database unless --to-blobs fs
 *                                 with --to-blob-dir DIR; --to-schema (default public)
 */

import { resolve } from 'node:path';
import type { Config } from '../core/config.ts';
import { CommuneError } from '../core/errors.ts';
import type { OpenStorageOptions } from './open-storage.ts';

export interface TargetFlags {
  readonly blobs?: string | undefined;
  readonly blobDir?: string | undefined;
  readonly schema?: string | undefined;
}

/** The storage the server would open with `config`. */
export function sourceOptions(config: Config): OpenStorageOptions {
  const { store } = config;
  if (store.backend === 'memory') {
    throw new CommuneError('invalid-argument', 'the memory backend keeps nothing to migrate');
  }
  return {
    backend: store.backend,
    dataDir: resolve(config.server.dataDir),
    url: store.url,
    poolSize: store.poolSize,
    blobs: store.blobs,
    ...(store.blobDir !== '' ? { blobDir: resolve(store.blobDir) } : {}),
  };
}

/** The storage named by `--to SPEC` and the --to-* flags. */
export function targetOptions(spec: string, flags: TargetFlags = {}): OpenStorageOptions {
  if (spec.startsWith('level:')) {
    const dir = spec.slice('level:'.length);
    if (dir === '') throw new CommuneError('invalid-argument', '--to level:DIR needs a directory');
    for (const [flag, value] of [
      ['--to-blobs', flags.blobs],
      ['--to-blob-dir', flags.blobDir],
      ['--to-schema', flags.schema],
    ] as const) {
      if (value !== undefined) {
        throw new CommuneError('invalid-argument', `${flag} applies to a postgres target only`);
      }
    }
    return { backend: 'level', dataDir: resolve(dir) };
  }
  if (/^postgres(ql)?:\/\//.test(spec)) {
    const blobs = flags.blobs ?? 'postgres';
    if (blobs !== 'postgres' && blobs !== 'fs') {
      throw new CommuneError('invalid-argument', '--to-blobs must be postgres or fs');
    }
    if (blobs === 'fs' && flags.blobDir === undefined) {
      throw new CommuneError('invalid-argument', '--to-blobs fs needs --to-blob-dir DIR');
    }
    if (blobs === 'postgres' && flags.blobDir !== undefined) {
      throw new CommuneError('invalid-argument', '--to-blob-dir needs --to-blobs fs');
    }
    if (flags.schema !== undefined && !/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(flags.schema)) {
      throw new CommuneError('invalid-argument', '--to-schema must be a plain SQL identifier');
    }
    const blobDir = flags.blobDir === undefined ? undefined : resolve(flags.blobDir);
    return {
      backend: 'postgres',
      url: spec,
      blobs,
      // dataDir only places a default blob directory, and blobDir is always given for fs
      dataDir: blobDir ?? resolve('.'),
      ...(blobDir === undefined ? {} : { blobDir }),
      ...(flags.schema === undefined ? {} : { schema: flags.schema }),
    };
  }
  throw new CommuneError(
    'invalid-argument',
    '--to must be level:DIR or a postgres://... connection string (see commune --help)',
  );
}

/** True when both name the same store (migrating onto itself). */
export function sameStorage(a: OpenStorageOptions, b: OpenStorageOptions): boolean {
  if (a.backend !== b.backend) return false;
  if (a.backend === 'level') return resolve(a.dataDir) === resolve(b.dataDir);
  return a.url === b.url && (a.schema ?? 'public') === (b.schema ?? 'public');
}

/** A one-line description, without the password of a connection string. */
export function describeStorage(options: OpenStorageOptions): string {
  if (options.backend === 'level') return `level store in ${options.dataDir}`;
  if (options.backend === 'memory') return 'memory store';
  let url = options.url ?? '';
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    url = parsed.toString();
  } catch {
    url = '(unparsable connection string)';
  }
  const blobs =
    options.blobs === 'fs' ? `blobs in ${options.blobDir ?? 'the data dir'}` : 'blobs in postgres';
  return `postgres ${url} (schema ${options.schema ?? 'public'}, ${blobs})`;
}
