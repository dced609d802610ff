import assert from 'node:assert/strict';
import { isCommuneError } from '../../../src/core/errors.ts';
import { Directory } from '../../../src/storage/directory/directory.ts';
import { openStorage } from '../../../src/storage/open-storage.ts';
import { OutboundQueue } from '../../../src/storage/queue/outbound-queue.ts';
import { runAdminCommand } from '../../../src/storage/admin/admin-registry.ts';
import type { QueueEntryView } from '../../../src/storage/queue/queue-admin-commands.ts';
import type { Storage } from '../../../src/storage/storage.ts';

describe('queue admin commands', () => {
  let storage: Storage;
  let queue: OutboundQueue;
  let services: { directory: Directory; storage: Storage };

  beforeEach(async () => {
    storage = await openStorage({ backend: 'memory', dataDir: '' });
    queue = new OutboundQueue(storage);
    services = { storage, directory: new Directory({ storage, primaryDomain: 'example.test' }) };
  });
  afterEach(() => storage.close());

  const enqueue = (to: string) =>
    queue.enqueue({
      from: 'alice@example.test',
      recipients: [{ address: to }],
      message: new Uint8Array(10),
    });

  it('lists, retries and deletes queued messages', async () => {
    const a = await enqueue('x@remote.test');
    const b = await enqueue('y@remote.test');
    const held = await queue.claim(b.id, 'worker-1', 60_000);
    assert.ok(held);
    const listed = (await runAdminCommand(services, 'queue.list', {})) as {
      queue: QueueEntryView[];
    };
    const byId = new Map(listed.queue.map((e) => [e.id, e]));
    assert.equal(byId.size, 2);
    assert.equal(byId.get(a.id)?.recipients[0]?.address, 'x@remote.test');
    assert.equal(byId.get(a.id)?.recipients[0]?.state, 'pending');
    assert.equal(byId.get(a.id)?.leasedBy, undefined);
    assert.equal(byId.get(b.id)?.leasedBy, 'worker-1');

    assert.deepEqual(await runAdminCommand(services, 'queue.retry', { id: a.id }), {
      retried: [a.id],
    });
    await assert.rejects(runAdminCommand(services, 'queue.retry', { id: b.id }), (e) =>
      isCommuneError(e, 'conflict'),
    );
    assert.deepEqual(await runAdminCommand(services, 'queue.retry', { all: true }), {
      retried: [a.id],
      busy: [b.id],
    });
    assert.deepEqual(await runAdminCommand(services, 'queue.delete', { id: a.id }), {
      deleted: a.id,
      recipients: ['x@remote.test'],
    });
    assert.equal(await queue.get(a.id), undefined);
    await assert.rejects(runAdminCommand(services, 'queue.delete', { id: a.id }), (e) =>
      isCommuneError(e, 'not-found'),
    );
  });

  it('validates arguments', async () => {
    await assert.rejects(runAdminCommand(services, 'queue.retry', {}), (e) =>
      isCommuneError(e, 'invalid-argument'),
    );
    await assert.rejects(runAdminCommand(services, 'queue.delete', { id: 5 }), (e) =>
      isCommuneError(e, 'invalid-argument'),
    );
    await assert.rejects(runAdminCommand(services, 'queue.nope', {}), (e) =>
      isCommuneError(e, 'not-found'),
    );
  });
});
