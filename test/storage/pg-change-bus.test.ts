import assert from 'node:assert/strict';
import type { ChangeNudge } from '../../src/storage/change-bus.ts';
import { PgChangeBus, RESYNC_ALL_ACCOUNTS } from '../../src/storage/pg-change-bus.ts';
import { Storage } from '../../src/storage/storage.ts';
import { PostgresStore } from '../../src/storage/backends/postgres-store.ts';
import { MemoryBlobStore } from '../../src/storage/memory-blob-store.ts';
import { readChanges } from '../../src/storage/change-log.ts';
import { PG_URL, freshSchema, pgQuery, requirePostgres } from './pg-test-db.ts';

/** Resolve with the first nudge (from now on) that `accept` takes. */
function nextNudge(storage: Storage, accept: (n: ChangeNudge) => boolean): Promise<ChangeNudge> {
  return new Promise((resolve) => {
    const off = storage.bus.subscribe((n) => {
      if (accept(n)) {
        off();
        resolve(n);
      }
    });
  });
}

describe('PgChangeBus (PG_URL)', function () {
  this.timeout(20000);
  requirePostgres();

  let schema: string;
  let drop: () => Promise<void>;
  let nodes: Storage[];
  let errors: unknown[];

  /** A node: its own store pool and its own listening connection on a per-test channel. */
  async function node(): Promise<Storage> {
    const storage = new Storage({
      store: await PostgresStore.open({ url: PG_URL, schema, poolSize: 2 }),
      blobs: new MemoryBlobStore(),
      bus: await PgChangeBus.open({
        url: PG_URL,
        channel: `${schema}_changes`,
        reconnectMinMs: 20,
        reconnectMaxMs: 200,
        onError: (err) => errors.push(err),
      }),
    });
    nodes.push(storage);
    return storage;
  }

  beforeEach(() => {
    ({ schema, drop } = freshSchema());
    nodes = [];
    errors = [];
  });
  afterEach(async () => {
    for (const n of nodes) await n.close();
    await drop();
  });

  it('a commit on one node nudges listeners on both nodes, once each', async () => {
    const a = await node();
    const b = await node();
    const onA: ChangeNudge[] = [];
    const onB: ChangeNudge[] = [];
    a.bus.subscribe((n) => onA.push(n));
    b.bus.subscribe((n) => onB.push(n));
    const arrived = nextNudge(b, (n) => n.account === 7 && n.changeId === 2n);
    await a.commit({
      ops: [],
      changes: [
        { account: 7, collection: 'mailbox:1', id: '1', kind: 'created' },
        { account: 8, collection: 'calendar:x', id: 'e', kind: 'created' },
      ],
    });
    await a.commit({
      ops: [],
      changes: [{ account: 7, collection: 'mailbox:2', id: '2', kind: 'created' }],
    });
    await arrived;
    // The local node heard it at once; the remote one in commit order; nobody twice.
    assert.deepEqual(onA, [
      { account: 7, changeId: 1n, collections: ['mailbox:1'] },
      { account: 8, changeId: 1n, collections: ['calendar:x'] },
      { account: 7, changeId: 2n, collections: ['mailbox:2'] },
    ]);
    assert.deepEqual(onB, onA);
    // The reader on B re-reads the log from its cursor.
    const { changes } = await readChanges(b.store, 7, 0n);
    assert.deepEqual(
      changes.map((c) => c.changeId),
      [1n, 2n],
    );
    assert.deepEqual(errors, []);
  });

  it('delivers a burst of concurrent commits, each once, batched on one connection', async () => {
    const a = await node();
    const b = await node();
    const onB: ChangeNudge[] = [];
    b.bus.subscribe((n) => onB.push(n));
    await Promise.all(
      Array.from({ length: 300 }, (_, i) =>
        a.commit({
          ops: [],
          changes: [{ account: 5, collection: `c:${i}`, id: '1', kind: 'created' }],
        }),
      ),
    );
    for (let i = 0; i < 200 && onB.length < 300; i++) await new Promise((r) => setTimeout(r, 25));
    // Published in commit completion order (which may differ slightly from change id order).
    assert.deepEqual(
      onB.map((n) => n.changeId).sort((x, y) => (x < y ? -1 : x > y ? 1 : 0)),
      Array.from({ length: 300 }, (_, i) => BigInt(i + 1)),
    );
    assert.deepEqual(errors, []);
  });

  it('reconnects after its connection is killed and emits resync nudges', async () => {
    const a = await node();
    const b = await node();
    const bus = b.bus as PgChangeBus;
    await a.commit({
      ops: [],
      changes: [{ account: 3, collection: 'c', id: '1', kind: 'created' }],
    });
    await nextNudge(b, (n) => n.account === 3);
    const oldPid = bus.backendPid;
    assert.ok(oldPid !== undefined);

    // Kill B's listening connection; while it is down, A commits (B misses that NOTIFY).
    const resync = nextNudge(b, (n) => n.account === 3 && n.collections.length === 0);
    const resyncAll = nextNudge(b, (n) => n.account === RESYNC_ALL_ACCOUNTS);
    const [killed] = await pgQuery<{ ok: boolean }>('SELECT pg_terminate_backend($1) AS ok', [
      oldPid,
    ]);
    assert.equal(killed?.ok, true);
    await a.commit({
      ops: [],
      changes: [{ account: 3, collection: 'c', id: '2', kind: 'created' }],
    });
    // The last id B saw: 1, or 2 when that NOTIFY got in before the kill took effect.
    const r = await resync;
    assert.ok(r.changeId === 1n || r.changeId === 2n);
    assert.deepEqual(await resyncAll, {
      account: RESYNC_ALL_ACCOUNTS,
      changeId: 0n,
      collections: [],
    });
    assert.ok(bus.backendPid !== undefined && bus.backendPid !== oldPid);
    assert.ok(errors.length > 0, 'the lost connection was reported');

    // The reader re-reads from its cursor and finds what the lost NOTIFY carried.
    const { changes } = await readChanges(b.store, 3, 1n);
    assert.deepEqual(
      changes.map((c) => c.changeId),
      [2n],
    );
    // And the new connection receives nudges again.
    const again = nextNudge(b, (n) => n.account === 3 && n.changeId === 3n);
    await a.commit({
      ops: [],
      changes: [{ account: 3, collection: 'c', id: '3', kind: 'created' }],
    });
    assert.deepEqual(await again, { account: 3, changeId: 3n, collections: ['c'] });
  });

  it('sends what was published while disconnected after reconnecting', async () => {
    const a = await node();
    const b = await node();
    const busA = a.bus as PgChangeBus;
    const heard = nextNudge(b, (n) => n.account === 5);
    const oldPid = busA.backendPid;
    await pgQuery('SELECT pg_terminate_backend($1)', [oldPid]);
    // Wait until A noticed, so the nudge is (normally) queued rather than sent.
    while (busA.backendPid === oldPid) await new Promise((r) => setTimeout(r, 2));
    await a.commit({
      ops: [],
      changes: [{ account: 5, collection: 'q', id: '1', kind: 'created' }],
    });
    assert.deepEqual(await heard, { account: 5, changeId: 1n, collections: ['q'] });
  });

  it('drops collections from a nudge too large for NOTIFY, and ignores junk payloads', async () => {
    const a = await node();
    const b = await node();
    const big = Array.from({ length: 400 }, (_, i) => `collection-with-a-long-name:${i}`);
    const heard = nextNudge(b, (n) => n.account === 6);
    a.bus.publish({ account: 6, changeId: 9n, collections: big });
    assert.deepEqual(await heard, { account: 6, changeId: 9n, collections: [] });

    const after = nextNudge(b, (n) => n.account === 7);
    await pgQuery('SELECT pg_notify($1, $2)', [`${schema}_changes`, 'not json']);
    a.bus.publish({ account: 7, changeId: 1n, collections: ['x'] });
    await after;
    // Both nodes listen, so each reports the junk once (A may hear it a little later).
    for (let waited = 0; errors.length < 2 && waited < 2000; waited += 10) {
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(errors.length, 2);
    for (const err of errors) assert.match(String(err), /malformed change nudge/);
  });

  it('fails to open an unreachable database with CommuneError unavailable', async () => {
    await assert.rejects(PgChangeBus.open({ url: 'postgres://nobody@127.0.0.1:1/none' }), {
      name: 'CommuneError',
      code: 'unavailable',
    });
  });
});
