/**
 * Build the Storage for a configured backend: records, blobs and the change bus.
 *   memory: MemoryStore + MemoryBlobStore (nothing on disk; `dataDir` unused)
 *   level:  LevelStore at `<dataDir>/store` + FsBlobStore at `<dataDir>/blobs` (created when
 *           missing)
 */

import { join } from 'node:path';
import { Storage } from './storage.ts';
import { LocalChangeBus } from './local-change-bus.ts';
import { MemoryStore } from './backends/memory-store.ts';
import { LevelStore } from './backends/level-store.ts';
import { MemoryBlobStore } from './memory-blob-store.ts';
import { FsBlobStore } from './fs-blob-store.ts';
import { CommuneError } from '../core/errors.ts';

export interface OpenStorageOptions {
  readonly backend: 'memory' | 'level';
  readonly dataDir: string;
  /** Called when a change listener throws (the others still run). */
  readonly onBusError?: (err: unknown) => void;
}

export async function openStorage(options: OpenStorageOptions): Promise<Storage> {
  const bus = new LocalChangeBus(options.onBusError);
  const backend: string = options.backend;
  switch (backend) {
    case 'memory':
      return new Storage({ store: new MemoryStore(), blobs: new MemoryBlobStore(), bus });
    case 'level': {
      // Each opener creates its directory (and `dataDir`) and maps failures to 'unavailable'.
      const store = await LevelStore.open(join(options.dataDir, 'store'));
      try {
        const blobs = await FsBlobStore.open(join(options.dataDir, 'blobs'));
        return new Storage({ store, blobs, bus });
      } catch (err) {
        await store.close();
        throw err;
      }
    }
    case 'postgres':
      throw new CommuneError('config', 'store backend "postgres" is not available yet');
    default:
      throw new CommuneError('config', `unknown store backend "${backend}"`);
  }
}
