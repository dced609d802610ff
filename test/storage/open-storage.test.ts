import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStorage } from '../../src/storage/open-storage.ts';
import { currentChangeId } from '../../src/storage/change-log.ts';

describe('openStorage', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'commune-open-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('memory: works without touching the data directory', async () => {
    const storage = await openStorage({ backend: 'memory', dataDir: join(dir, 'unused') });
    await storage.commit({
      ops: [],
      changes: [{ account: 1, collection: 'c', id: 'x', kind: 'created' }],
    });
    assert.equal(await currentChangeId(storage.store, 1), 1n);
    assert.equal(storage.store.name, 'memory');
    await storage.close();
    await assert.rejects(stat(join(dir, 'unused')), { code: 'ENOENT' });
  });

  it('level: creates <dataDir>/store and <dataDir>/blobs and keeps data across opens', async () => {
    const dataDir = join(dir, 'data');
    const errors: unknown[] = [];
    let storage = await openStorage({
      backend: 'level',
      dataDir,
      onBusError: (err) => errors.push(err),
    });
    assert.equal(storage.store.name, 'level');
    assert.ok((await stat(join(dataDir, 'store'))).isDirectory());
    assert.ok((await stat(join(dataDir, 'blobs'))).isDirectory());
    const ref = await storage.blobs.put('hello');
    await storage.commit({
      ops: [],
      changes: [{ account: 1, collection: 'c', id: 'x', kind: 'created' }],
    });
    storage.bus.subscribe(() => {
      throw new Error('boom');
    });
    await storage.commit({
      ops: [],
      changes: [{ account: 1, collection: 'c', id: 'x', kind: 'updated' }],
    });
    assert.equal(errors.length, 1);
    await storage.close();

    storage = await openStorage({ backend: 'level', dataDir });
    assert.equal(await currentChangeId(storage.store, 1), 2n);
    assert.equal(await storage.blobs.has(ref.hash), true);
    // One process owns the data directory.
    await assert.rejects(openStorage({ backend: 'level', dataDir }), { code: 'unavailable' });
    await storage.close();
  });

  it('rejects postgres (not yet) and unknown backends as config errors', async () => {
    const options = (backend: string) =>
      ({ backend, dataDir: dir }) as unknown as Parameters<typeof openStorage>[0];
    await assert.rejects(openStorage(options('postgres')), {
      code: 'config',
      message: 'store backend "postgres" is not available yet',
    });
    await assert.rejects(openStorage(options('sqlite')), { code: 'config' });
  });
});
