/**
 * Mail over a blob store that stages small blobs (InlineBlobStore, as on the level store): a
 * small message's bytes are committed with its records, in the same commit, and a refused
 * message leaves no bytes behind.
 */

import assert from 'node:assert/strict';
import { MemoryStore } from '../../../src/storage/backends/memory-store.ts';
import { InlineBlobStore } from '../../../src/storage/inline-blob-store.ts';
import { LocalChangeBus } from '../../../src/storage/local-change-bus.ts';
import type { MailboxRecord } from '../../../src/storage/mail/mail-types.ts';
import { MemoryBlobStore } from '../../../src/storage/memory-blob-store.ts';
import { Storage } from '../../../src/storage/storage.ts';
import type { Batch } from '../../../src/storage/store.ts';
import { makeMail, message } from './mail-fixture.ts';

/** A memory store that records the batches committed through it. */
class CountingStore extends MemoryStore {
  readonly batches: Batch[] = [];
  override commit(batch: Batch) {
    this.batches.push(batch);
    return super.commit(batch);
  }
}

describe('MailService over staged (inline) blobs', () => {
  let store: CountingStore;
  let large: MemoryBlobStore;
  let storage: Storage;

  beforeEach(() => {
    store = new CountingStore();
    large = new MemoryBlobStore();
    const blobs = new InlineBlobStore({ store, large, inlineMax: 1024 });
    storage = new Storage({ store, blobs, bus: new LocalChangeBus() });
  });

  it('commits a small message and its bytes in one commit', async () => {
    const f = await makeMail({ storage });
    await f.mail.ensureDefaults(f.alice, f.aliceId);
    const inbox = (await f.mail.findMailbox(f.alice, f.aliceId, 'INBOX')) as MailboxRecord;
    const bytes = message({ subject: 'inline' });
    const before = store.batches.length;
    const r = await f.mail.append(f.alice, f.aliceId, inbox.id, bytes);
    assert.equal(store.batches.length - before, 1, 'one commit for bytes and records');
    assert.deepEqual(await f.mail.readMessage(f.alice, f.aliceId, inbox.id, r.uid), bytes);
    const record = await f.mail.getMessage(f.alice, f.aliceId, inbox.id, r.uid);
    assert.equal(await large.has(record?.blob as string), false, 'kept inline');
  });

  it('leaves no bytes of a message refused at commit (over quota)', async () => {
    const f = await makeMail({ storage, aliceQuota: 2000 });
    await f.mail.ensureDefaults(f.alice, f.aliceId);
    const inbox = (await f.mail.findMailbox(f.alice, f.aliceId, 'INBOX')) as MailboxRecord;
    const a = message({ subject: 'a', body: 'a'.repeat(700) });
    const b = message({ subject: 'b', body: 'b'.repeat(700) });
    const c = message({ subject: 'c', body: 'c'.repeat(700) });
    const outcomes = await Promise.allSettled(
      [a, b, c].map((m) => f.mail.append(f.alice, f.aliceId, inbox.id, m)),
    );
    assert.equal(outcomes.filter((o) => o.status === 'rejected').length, 1);
    const hashes: string[] = [];
    for await (const hash of storage.blobs.list()) hashes.push(hash);
    assert.equal(hashes.length, 2, 'only the two accepted messages have bytes');
    const listed = await f.mail.listMessages(f.alice, f.aliceId, inbox.id);
    assert.equal(listed.length, 2);
    for (const m of listed) {
      const record = await f.mail.getMessage(f.alice, f.aliceId, inbox.id, m.uid);
      assert.ok(hashes.includes(record?.blob as string));
    }
  });
});
