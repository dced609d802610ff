import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Store } from '../../src/storage/store.ts';
import { isHealthCheckable } from '../../src/storage/store.ts';
import { MemoryStore } from '../../src/storage/backends/memory-store.ts';
import { LevelStore } from '../../src/storage/backends/level-store.ts';
import { PostgresStore } from '../../src/storage/backends/postgres-store.ts';
import { storeContract } from './store-contract.ts';
import { PG_URL, freshSchema, requirePostgres } from './pg-test-db.ts';

storeContract('memory', async () => {
  const store = new MemoryStore();
  return { store, cleanup: () => store.close() };
});

storeContract('level', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'commune-level-'));
  let current: Store = await LevelStore.open(dir);
  return {
    store: current,
    reopen: async () => {
      await current.close();
      current = await LevelStore.open(dir);
      return current;
    },
    cleanup: async () => {
      await current.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

describe('postgres (PG_URL)', () => {
  requirePostgres();
  storeContract('postgres', async () => {
    const { schema, drop } = freshSchema();
    let current: Store = await PostgresStore.open({ url: PG_URL, schema, poolSize: 4 });
    return {
      store: current,
      reopen: async () => {
        await current.close();
        current = await PostgresStore.open({ url: PG_URL, schema, poolSize: 4 });
        return current;
      },
      cleanup: async () => {
        await current.close();
        await drop();
      },
    };
  });
});

describe('LevelStore', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'commune-level-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses a second open of the same directory while the first holds it', async () => {
    const first = await LevelStore.open(join(dir, 'store'));
    try {
      await assert.rejects(LevelStore.open(join(dir, 'store')), {
        name: 'CommuneError',
        code: 'unavailable',
        message: `store at ${join(dir, 'store')} is in use by another process`,
      });
    } finally {
      await first.close();
    }
    // Released on close.
    const again = await LevelStore.open(join(dir, 'store'));
    await again.close();
  });

  it('fails to open on a file or under a file with a one-line reason', async () => {
    const file = join(dir, 'file');
    await writeFile(file, 'x');
    for (const path of [file, join(file, 'store')]) {
      await assert.rejects(LevelStore.open(path), (err: Error & { code?: string }) => {
        assert.equal(err.code, 'unavailable');
        assert.equal(err.message, `cannot open store at ${path}: not a directory`);
        return true;
      });
    }
  });

  it('creates missing directories and reports health', async () => {
    const store = await LevelStore.open(join(dir, 'a', 'b'));
    assert.ok(isHealthCheckable(store));
    assert.equal(await store.healthCheck(), true);
    await store.close();
    assert.equal(await store.healthCheck(), false);
  });
});
