import assert from 'node:assert/strict';
import { isCommuneError } from '../../../src/core/errors.ts';
import { MemoryStore } from '../../../src/storage/backends/memory-store.ts';
import { LocalChangeBus } from '../../../src/storage/local-change-bus.ts';
import { LockStore, type LockRecord } from '../../../src/storage/files/lock-store.ts';
import { MemoryBlobStore } from '../../../src/storage/memory-blob-store.ts';
import { Storage } from '../../../src/storage/storage.ts';

function lock(token: string, expires: number): LockRecord {
  return {
    token,
    root: '/dav/files/a@b.c/x',
    depth: 0,
    scope: 'exclusive',
    owner: undefined,
    principal: 1,
    timeout: 60,
    expires,
  };
}

describe('LockStore', () => {
  let clock: number;
  let store: LockStore;
  let storage: Storage;
  beforeEach(() => {
    clock = 1_000_000;
    storage = new Storage({
      store: new MemoryStore(),
      blobs: new MemoryBlobStore(),
      bus: new LocalChangeBus(),
    });
    store = new LockStore(storage, () => clock);
  });

  it('adds, lists and removes locks per space', async () => {
    await store.update('s1', () => ({ add: [lock('t1', clock + 1000)], result: undefined }));
    await store.update('s2', () => ({ add: [lock('t2', clock + 1000)], result: undefined }));
    assert.deepEqual(
      (await store.list('s1')).map((l) => l.token),
      ['t1'],
    );
    await store.update('s1', () => ({ remove: ['t1'], result: undefined }));
    assert.deepEqual(await store.list('s1'), []);
    assert.deepEqual(
      (await store.list('s2')).map((l) => l.token),
      ['t2'],
    );
  });

  it('hides expired locks and purges them on the next change', async () => {
    await store.update('s', () => ({
      add: [lock('old', clock + 10), lock('new', clock + 10_000)],
      result: undefined,
    }));
    clock += 100;
    assert.deepEqual(
      (await store.list('s')).map((l) => l.token),
      ['new'],
    );
    const seen = await store.update('s', (locks) => ({
      add: [lock('third', clock + 10_000)],
      result: locks.map((l) => l.token),
    }));
    assert.deepEqual(seen, ['new']);
    clock -= 100;
    // The expired one was deleted, not merely hidden
    assert.deepEqual((await store.list('s')).map((l) => l.token).sort(), ['new', 'third']);
  });

  it('decides on fresh state: concurrent exclusive grants cannot both win', async () => {
    const grant = (token: string) =>
      store.update('s', (locks) => {
        if (locks.length > 0) throw new Error('conflict');
        return { add: [lock(token, clock + 1000)], result: token };
      });
    const results = await Promise.allSettled([grant('a'), grant('b'), grant('c')]);
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    assert.equal((await store.list('s')).length, 1);
  });

  it('bounds the locks of a space', async () => {
    const many = Array.from({ length: 1001 }, (_, i) => lock(`t${i}`, clock + 1000));
    await assert.rejects(
      store.update('s', () => ({ add: many, result: undefined })),
      (err: unknown) => isCommuneError(err, 'over-quota'),
    );
  });
});
