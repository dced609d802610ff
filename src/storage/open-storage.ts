/**
 * Build the Storage for a configured backend: records, blobs and the change bus.
 *   memory: MemoryStore + MemoryBlobStore (nothing on disk; `dataDir` unused)
 *   level:  LevelStore at `<dataDir>/store` + FsBlobStore at `<dataDir>/blobs` (created when
 *           missing)
 *   postgres: PostgresStore at `url` (pool of `poolSize`), PgChangeBus (LISTEN/NOTIFY across
 *           nodes), and blobs in PostgreSQL (`blobs: 'postgres'`, the default) or in a shared
 *           directory (`blobs: 'fs'`: FsBlobStore at `blobDir`, default `<dataDir>/blobs`,
 *           which every node must mount at the same path)
 */

import { join } from 'node:path';
import { Storage } from './storage.ts';
import { LocalChangeBus } from './local-change-bus.ts';
import { MemoryStore } from './backends/memory-store.ts';
import { LevelStore } from './backends/level-store.ts';
import { MemoryBlobStore } from './memory-blob-store.ts';
import { FsBlobStore } from './fs-blob-store.ts';
import { PostgresStore } from './backends/postgres-store.ts';
import { PgBlobStore } from './pg-blob-store.ts';
import { InlineBlobStore } from './inline-blob-store.ts';
import { PgChangeBus } from './pg-change-bus.ts';
import type { BlobStore } from './blob-store.ts';
import type { ChangeBus } from './change-bus.ts';
import { CommuneError } from '../core/errors.ts';

export interface OpenStorageOptions {
  readonly backend: 'memory' | 'level' | 'postgres';
  readonly dataDir: string;
  /** postgres: connection string. */
  readonly url?: string;
  /** postgres: record pool connections per node (blobs get half as many, at least 2). */
  readonly poolSize?: number;
  /** postgres: where blobs live (default 'postgres'). */
  readonly blobs?: 'postgres' | 'fs';
  /** postgres with blobs 'fs': the shared blob directory (default `<dataDir>/blobs`). */
  readonly blobDir?: string;
  /** postgres: schema holding the tables (default `public`). */
  readonly schema?: string;
  /** postgres: NOTIFY channel of the change bus (default `commune_changes`). */
  readonly channel?: string;
  /** Called when a change listener throws (the others still run). */
  readonly onBusError?: (err: unknown) => void;
}

export async function openStorage(options: OpenStorageOptions): Promise<Storage> {
  const backend: string = options.backend;
  switch (backend) {
    case 'memory': {
      const bus = new LocalChangeBus(options.onBusError);
      return new Storage({ store: new MemoryStore(), blobs: new MemoryBlobStore(), bus });
    }
    case 'level': {
      const bus = new LocalChangeBus(options.onBusError);
      // Each opener creates its directory (and `dataDir`) and maps failures to 'unavailable'.
      const store = await LevelStore.open(join(options.dataDir, 'store'));
      try {
        // Small blobs go into the store's group-committed batches; large ones to files.
        const large = await FsBlobStore.open(join(options.dataDir, 'blobs'));
        const blobs = new InlineBlobStore({ store, large });
        return new Storage({ store, blobs, bus });
      } catch (err) {
        await store.close();
        throw err;
      }
    }
    case 'postgres':
      return openPostgres(options);
    default:
      throw new CommuneError('config', `unknown store backend "${backend}"`);
  }
}

async function openPostgres(options: OpenStorageOptions): Promise<Storage> {
  const { url, schema, onBusError } = options;
  if (!url) throw new CommuneError('config', 'store backend "postgres" needs store.url');
  const blobsKind = options.blobs ?? 'postgres';
  if (blobsKind !== 'postgres' && blobsKind !== 'fs') {
    throw new CommuneError('config', `unknown blob store "${String(blobsKind)}"`);
  }
  const poolSize = options.poolSize ?? 10;
  const common = { url, ...(schema === undefined ? {} : { schema }) };
  // Each part is closed again when a later one fails to open.
  const opened: { close(): Promise<void> }[] = [];
  try {
    const store = await PostgresStore.open({
      ...common,
      poolSize,
      ...(onBusError ? { onError: onBusError } : {}),
    });
    opened.push(store);
    const blobs: BlobStore =
      blobsKind === 'fs'
        ? await FsBlobStore.open(options.blobDir ?? join(options.dataDir, 'blobs'))
        : await PgBlobStore.open({ ...common, poolSize: Math.max(2, Math.ceil(poolSize / 2)) });
    opened.push(blobs);
    const bus: ChangeBus = await PgChangeBus.open({
      url,
      ...(options.channel === undefined ? {} : { channel: options.channel }),
      ...(onBusError ? { onError: onBusError } : {}),
    });
    return new Storage({ store, blobs, bus });
  } catch (err) {
    for (const part of opened.reverse()) await part.close().catch(() => undefined);
    throw err;
  }
}
