import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStorage } from '../../src/storage/open-storage.ts';
import { currentChangeId } from '../../src/storage/change-log.ts';
import { PG_URL, freshSchema, requirePostgres } from './pg-test-db.ts';

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

  it('rejects postgres without a url and unknown backends as config errors', async () => {
    const options = (backend: string) =>
      ({ backend, dataDir: dir }) as unknown as Parameters<typeof openStorage>[0];
    await assert.rejects(openStorage(options('postgres')), {
      code: 'config',
      message: 'store backend "postgres" needs store.url',
    });
    await assert.rejects(openStorage(options('sqlite')), { code: 'config' });
  });

  describe('postgres (PG_URL)', () => {
    requirePostgres();
    for (const blobs of ['postgres', 'fs'] as const) {
      it(`postgres with ${blobs} blobs: records, blobs and nudges across two nodes`, async () => {
        const { schema, drop } = freshSchema();
        const channel = `commune_test_${schema}`;
        const open = () =>
          openStorage({ backend: 'postgres', dataDir: dir, url: PG_URL, schema, channel, blobs });
        const a = await open();
        const b = await open();
        try {
          assert.equal(a.store.name, 'postgres');
          const seen = new Promise<bigint>((resolve) =>
            b.bus.subscribe((n) => {
              if (n.account === 1) resolve(n.changeId);
            }),
          );
          const ref = await a.blobs.put('shared content');
          await a.commit({
            ops: [],
            changes: [{ account: 1, collection: 'c', id: 'x', kind: 'created' }],
          });
          assert.equal(await seen, 1n);
          assert.equal(await currentChangeId(b.store, 1), 1n);
          assert.equal(await b.blobs.has(ref.hash), true);
          if (blobs === 'fs') assert.ok((await stat(join(dir, 'blobs'))).isDirectory());
        } finally {
          await a.close();
          await b.close();
          await drop();
        }
      });
    }
  });
});
