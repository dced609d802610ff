/**
 * STOREs arriving together are committed together (one commit, one fsync) yet each gets its
 * own MODSEQ (RFC 7162 §3.1.3); a message changed twice is changed in order.
 */

import assert from 'node:assert/strict';
import { MemoryStore } from '../../../src/storage/backends/memory-store.ts';
import { readChanges } from '../../../src/storage/change-log.ts';
import { LocalChangeBus } from '../../../src/storage/local-change-bus.ts';
import type { MailboxRecord } from '../../../src/storage/mail/mail-types.ts';
import { MemoryBlobStore } from '../../../src/storage/memory-blob-store.ts';
import { Storage } from '../../../src/storage/storage.ts';
import type { Batch } from '../../../src/storage/store.ts';
import { makeMail, message } from './mail-fixture.ts';
import type { MailFixture } from './mail-fixture.ts';

class CountingStore extends MemoryStore {
  commits = 0;
  override commit(batch: Batch) {
    this.commits++;
    return super.commit(batch);
  }
}

describe('MailService: coalesced STOREs', () => {
  let store: CountingStore;
  let f: MailFixture;
  let inbox: MailboxRecord;

  beforeEach(async () => {
    store = new CountingStore();
    const storage = new Storage({ store, blobs: new MemoryBlobStore(), bus: new LocalChangeBus() });
    f = await makeMail({ storage });
    await f.mail.ensureDefaults(f.alice, f.aliceId);
    inbox = (await f.mail.findMailbox(f.alice, f.aliceId, 'INBOX')) as MailboxRecord;
    for (let i = 0; i < 20; i++) {
      await f.mail.append(f.alice, f.aliceId, inbox.id, message({ subject: `m${i}` }));
    }
  });

  const store1 = (uid: number, flag = '\\Seen', unchangedSince?: bigint) =>
    f.mail.store(f.alice, f.aliceId, inbox.id, [uid], {
      op: 'add',
      flags: [flag],
      ...(unchangedSince === undefined ? {} : { unchangedSince }),
    });

  it('gives concurrent STOREs distinct MODSEQs in fewer commits', async () => {
    const before = store.commits;
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => store1(i + 1)));
    const commits = store.commits - before;
    assert.ok(commits < 20, `coalesced: ${commits} commits for 20 STOREs`);
    const modseqs = results.map((r) => r.modseq as bigint);
    assert.equal(new Set(modseqs).size, 20, 'one MODSEQ per STORE');
    const listed = await f.mail.listMessages(f.alice, f.aliceId, inbox.id);
    results.forEach((r, i) => {
      assert.equal(r.changed.length, 1);
      assert.equal(r.changed[0]?.modseq, r.modseq);
      assert.equal(listed[i]?.modseq, r.modseq);
      assert.deepEqual(listed[i]?.flags, ['\\Seen']);
    });
    const status = await f.mail.status(f.alice, f.aliceId, inbox.id);
    assert.equal(
      status.highestModseq,
      modseqs.reduce((a, b) => (a > b ? a : b)),
    );
    assert.equal(status.unseen, 0);
    // Each STORE has its own change log record, under its MODSEQ.
    const since = modseqs.reduce((a, b) => (a < b ? a : b)) - 1n;
    const { changes } = await readChanges(f.storage.store, f.aliceId, since);
    assert.deepEqual(
      changes.map((c) => [c.changeId, c.entries.map((e) => e.id)]),
      results
        .map((r, i) => [r.modseq as bigint, [String(i + 1)]] as const)
        .sort((a, b) => (a[0] < b[0] ? -1 : 1)),
    );
  });

  it('applies two concurrent STOREs of one message in order, each its own MODSEQ', async () => {
    const [a, b] = await Promise.all([store1(3, '\\Flagged'), store1(3, '\\Answered')]);
    assert.ok((b.modseq as bigint) > (a.modseq as bigint));
    const [m] = await f.mail.listMessages(f.alice, f.aliceId, inbox.id).then((l) => l.slice(2, 3));
    assert.deepEqual([...(m?.flags ?? [])].sort(), ['\\Answered', '\\Flagged']);
    assert.equal(m?.modseq, b.modseq);
  });

  it('checks UNCHANGEDSINCE per STORE, and refuses a STORE on a missing mailbox alone', async () => {
    const old = (await f.mail.listMessages(f.alice, f.aliceId, inbox.id))[4]?.modseq as bigint;
    await store1(5, '\\Draft');
    const results = await Promise.allSettled([
      store1(5, '\\Seen', old),
      store1(6, '\\Seen', old + 1000n),
      f.mail.store(f.alice, f.aliceId, 999_999, [1], { op: 'add', flags: ['\\Seen'] }),
    ]);
    const [stale, fresh, missing] = results;
    assert.equal(stale?.status, 'fulfilled');
    assert.deepEqual(
      (stale as PromiseFulfilledResult<{ modified: readonly number[] }>).value.modified,
      [5],
    );
    assert.equal(fresh?.status, 'fulfilled');
    assert.equal(
      (fresh as PromiseFulfilledResult<{ changed: readonly unknown[] }>).value.changed.length,
      1,
    );
    assert.equal(missing?.status, 'rejected');
  });
});
