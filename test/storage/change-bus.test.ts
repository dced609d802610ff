import assert from 'node:assert/strict';
import type { ChangeNudge } from '../../src/storage/change-bus.ts';
import { LocalChangeBus } from '../../src/storage/local-change-bus.ts';
import { Storage } from '../../src/storage/storage.ts';
import { MemoryStore } from '../../src/storage/backends/memory-store.ts';
import { MemoryBlobStore } from '../../src/storage/memory-blob-store.ts';
import { readChanges } from '../../src/storage/change-log.ts';

describe('change bus', () => {
  let storage: Storage;
  let busErrors: unknown[];
  beforeEach(() => {
    busErrors = [];
    storage = new Storage({
      store: new MemoryStore(),
      blobs: new MemoryBlobStore(),
      bus: new LocalChangeBus((err) => busErrors.push(err)),
    });
  });
  afterEach(async () => {
    await storage.close();
  });

  it('Storage.commit publishes one nudge per changed account, with its collections', async () => {
    const nudges: ChangeNudge[] = [];
    storage.bus.subscribe((n) => nudges.push(n));
    await storage.commit({
      ops: [{ type: 'put', key: Uint8Array.of(1), value: Uint8Array.of(1) }],
      changes: [
        { account: 1, collection: 'mailbox:1', id: '1', kind: 'created' },
        { account: 2, collection: 'calendar:work', id: 'e', kind: 'updated' },
        { account: 1, collection: 'mailbox:2', id: '2', kind: 'created' },
        { account: 1, collection: 'mailbox:1', id: '3', kind: 'destroyed' },
      ],
    });
    assert.deepEqual(nudges, [
      { account: 1, changeId: 1n, collections: ['mailbox:1', 'mailbox:2'] },
      { account: 2, changeId: 1n, collections: ['calendar:work'] },
    ]);
    // The nudge carries the cursor; the entries are re-read from the log.
    const { changes } = await readChanges(storage.store, 1, 0n);
    assert.equal(changes[0]?.entries.length, 3);

    nudges.length = 0;
    await storage.commit({
      ops: [],
      changes: [{ account: 1, collection: 'mailbox:1', id: '4', kind: 'created' }],
    });
    assert.deepEqual(nudges, [{ account: 1, changeId: 2n, collections: ['mailbox:1'] }]);
  });

  it('publishes nothing for commits without changes, or that fail', async () => {
    const nudges: ChangeNudge[] = [];
    storage.bus.subscribe((n) => nudges.push(n));
    await storage.commit({
      ops: [{ type: 'put', key: Uint8Array.of(1), value: Uint8Array.of(1) }],
    });
    const failed = await storage.commit({
      ops: [{ type: 'expect', key: Uint8Array.of(1), value: undefined }],
      changes: [{ account: 1, collection: 'c', id: 'x', kind: 'created' }],
    });
    assert.equal(failed.ok, false);
    assert.deepEqual(nudges, []);
  });

  it('a throwing listener does not stop the others nor the commit', async () => {
    const seen: string[] = [];
    storage.bus.subscribe(() => seen.push('first'));
    storage.bus.subscribe(() => {
      throw new Error('listener broke');
    });
    storage.bus.subscribe(() => seen.push('third'));
    const result = await storage.commit({
      ops: [],
      changes: [{ account: 3, collection: 'c', id: 'x', kind: 'created' }],
    });
    assert.equal(result.ok, true);
    assert.deepEqual(seen, ['first', 'third']);
    assert.equal(busErrors.length, 1);
    assert.equal((busErrors[0] as Error).message, 'listener broke');
  });

  it('unsubscribe stops delivery to that listener only', async () => {
    const a: bigint[] = [];
    const b: bigint[] = [];
    const offA = storage.bus.subscribe((n) => a.push(n.changeId));
    storage.bus.subscribe((n) => b.push(n.changeId));
    const change = { account: 1, collection: 'c', id: 'x', kind: 'updated' as const };
    await storage.commit({ ops: [], changes: [change] });
    offA();
    offA(); // twice is harmless
    await storage.commit({ ops: [], changes: [change] });
    assert.deepEqual(a, [1n]);
    assert.deepEqual(b, [1n, 2n]);
  });

  it('a listener that unsubscribes during delivery does not disturb the others', async () => {
    const seen: string[] = [];
    const off = storage.bus.subscribe(() => {
      seen.push('once');
      off();
    });
    storage.bus.subscribe(() => seen.push('always'));
    const change = { account: 1, collection: 'c', id: 'x', kind: 'updated' as const };
    await storage.commit({ ops: [], changes: [change] });
    await storage.commit({ ops: [], changes: [change] });
    assert.deepEqual(seen, ['once', 'always', 'always']);
  });
});
