import assert from 'node:assert/strict';
import { isCommuneError } from '../../../src/core/errors.ts';
import { openStorage } from '../../../src/storage/open-storage.ts';
import { OutboundQueue, queueKeys } from '../../../src/storage/queue/outbound-queue.ts';
import type { Storage } from '../../../src/storage/storage.ts';

describe('OutboundQueue', () => {
  let storage: Storage;
  let clock: { ms: number };
  let queue: OutboundQueue;

  beforeEach(async () => {
    storage = await openStorage({ backend: 'memory', dataDir: '' });
    clock = { ms: 1_700_000_000_000 };
    queue = new OutboundQueue(storage, { now: () => clock.ms });
  });
  afterEach(() => storage.close());

  const message = (size: number): Uint8Array => {
    const out = new Uint8Array(size);
    for (let i = 0; i < size; i++) out[i] = (i * 7 + 3) & 0xff;
    return out;
  };

  it('stores the message, its envelope and its schedule in one commit', async () => {
    const body = message(600 * 1024); // three chunks
    let woken = 0;
    queue.onEnqueue(() => woken++);
    const entry = await queue.enqueue({
      from: 'alice@example.test',
      recipients: [{ address: 'bob@remote.test' }, { address: 'carol@remote.test', notify: [] }],
      message: body,
      ret: 'HDRS',
      envid: 'env-1',
    });
    assert.equal(woken, 1);
    assert.equal(entry.chunks, 3);
    assert.equal(entry.size, body.length);
    const stored = await queue.get(entry.id);
    assert.deepEqual(stored, entry);
    assert.deepEqual(await queue.message(entry), body);
    assert.deepEqual(await queue.due(clock.ms, 10), [entry.id]);
    assert.deepEqual(await queue.due(clock.ms - 1, 10), []);
    assert.equal(await queue.nextDue(), clock.ms);
    assert.deepEqual(
      stored?.recipients.map((r) => [r.address, r.state, r.notify]),
      [
        ['bob@remote.test', 'pending', undefined],
        ['carol@remote.test', 'pending', []],
      ],
    );
  });

  it('refuses a message without recipients', async () => {
    await assert.rejects(
      queue.enqueue({ from: 'a@example.test', recipients: [], message: message(10) }),
      (err) => isCommuneError(err, 'invalid-argument'),
    );
  });

  it('gives a lease to one owner at a time and lets an expired one be taken over', async () => {
    const { id } = await queue.enqueue({
      from: 'a@example.test',
      recipients: [{ address: 'b@remote.test' }],
      message: message(100),
    });
    const first = await queue.claim(id, 'node-a', 1000);
    assert.ok(first);
    // while leased it is scheduled at the lease expiry: out of the scans until then
    assert.deepEqual(await queue.due(clock.ms, 10), []);
    assert.deepEqual(await queue.due(clock.ms + 1000, 10), [id]);
    assert.equal((await queue.get(id))?.nextAttemptAt, clock.ms + 1000);
    assert.equal(await queue.claim(id, 'node-b', 1000), undefined);
    // the lease holder may re-claim its own
    clock.ms += 500;
    assert.equal(await queue.claim(id, 'node-b', 1000), undefined);
    clock.ms += 600;
    const second = await queue.claim(id, 'node-b', 1000);
    assert.ok(second);
    // the first holder lost it: every write it tries fails
    await assert.rejects(queue.update(first, { ...first.entry, attempts: 9 }), (err) =>
      isCommuneError(err, 'conflict'),
    );
    await assert.rejects(queue.renew(first, 1000), (err) => isCommuneError(err, 'conflict'));
    await assert.rejects(queue.remove(first), (err) => isCommuneError(err, 'conflict'));
    // the new holder's writes go through
    const renewed = await queue.renew(second, 5000);
    const updated = await queue.update(renewed, {
      ...renewed.entry,
      nextAttemptAt: clock.ms + 60_000,
    });
    assert.deepEqual(await queue.due(clock.ms, 10), []);
    assert.deepEqual(await queue.due(clock.ms + 60_000, 10), [id]);
    await queue.release(updated);
    assert.equal(await queue.lease(id), undefined);
    // not due yet: nobody claims it without force
    assert.equal(await queue.claim(id, 'node-c', 1000), undefined);
  });

  it('concurrent claims of one entry: exactly one wins', async () => {
    const { id } = await queue.enqueue({
      from: 'a@example.test',
      recipients: [{ address: 'b@remote.test' }],
      message: message(100),
    });
    const claims = await Promise.all(
      Array.from({ length: 8 }, (_, i) => queue.claim(id, `node-${i}`, 10_000)),
    );
    assert.equal(claims.filter((c) => c !== undefined).length, 1);
  });

  it('remove deletes the entry, body chunks, schedule and lease', async () => {
    const entry = await queue.enqueue({
      from: 'a@example.test',
      recipients: [{ address: 'b@remote.test' }],
      message: message(300 * 1024),
    });
    const claim = await queue.claim(entry.id, 'w', 1000);
    assert.ok(claim);
    await queue.remove(claim);
    assert.equal(await queue.get(entry.id), undefined);
    assert.equal(await storage.store.get(queueKeys.body(entry.id, 0)), undefined);
    assert.equal(await storage.store.get(queueKeys.body(entry.id, 1)), undefined);
    assert.equal(await queue.lease(entry.id), undefined);
    assert.deepEqual(await queue.due(clock.ms + 1e9, 10), []);
  });

  it('admin retry and delete wait for a live lease, and work after it', async () => {
    const { id } = await queue.enqueue({
      from: 'a@example.test',
      recipients: [{ address: 'b@remote.test' }],
      message: message(100),
    });
    const held = await queue.claim(id, 'worker', 10_000);
    assert.ok(held);
    const later = await queue.update(held, { ...held.entry, nextAttemptAt: clock.ms + 3600_000 });
    await assert.rejects(queue.retryNow(id), (err) => isCommuneError(err, 'conflict'));
    await queue.release(later);
    const retried = await queue.retryNow(id);
    assert.equal(retried.nextAttemptAt, clock.ms);
    assert.deepEqual(await queue.due(clock.ms, 10), [id]);
    assert.equal(await queue.lease(id), undefined);
    await queue.delete(id);
    assert.equal(await queue.get(id), undefined);
    await assert.rejects(queue.delete(id), (err) => isCommuneError(err, 'not-found'));
    await assert.rejects(queue.retryNow('nope'), (err) => isCommuneError(err, 'not-found'));
  });

  it('lists entries oldest first', async () => {
    const a = await queue.enqueue({
      from: 'a@example.test',
      recipients: [{ address: 'x@remote.test' }],
      message: message(10),
    });
    clock.ms += 1000;
    const b = await queue.enqueue({
      from: 'b@example.test',
      recipients: [{ address: 'y@remote.test' }],
      message: message(10),
    });
    assert.deepEqual(
      (await queue.list()).map((e) => e.id),
      [a.id, b.id],
    );
  });
});
