/**
 * MailboxIndexes: one in-memory index per selected mailbox, shared by sessions, refreshed
 * from the change log after a nudge, and the EmailRecord cache.
 */

import assert from 'node:assert/strict';
import { MailboxIndexes } from '../../../src/protocols/imap/mailbox-index.ts';
import { RESYNC_ALL_ACCOUNTS } from '../../../src/storage/change-bus.ts';
import type { IndexScope } from '../../../src/protocols/imap/mailbox-index.ts';
import type { MailboxRecord } from '../../../src/storage/mail/mail-types.ts';
import { makeMail, message } from '../../storage/mail/mail-fixture.ts';
import type { MailFixture } from '../../storage/mail/mail-fixture.ts';

describe('MailboxIndexes', () => {
  let m: MailFixture;
  let inbox: MailboxRecord;
  let indexes: MailboxIndexes;
  let scope: IndexScope;

  beforeEach(async () => {
    m = await makeMail();
    await m.mail.ensureDefaults(m.alice, m.aliceId);
    inbox = (await m.mail.findMailbox(m.alice, m.aliceId, 'INBOX')) as MailboxRecord;
    for (let i = 0; i < 3; i++) await m.mail.deliver(m.aliceId, message({ subject: `s${i}` }));
    indexes = new MailboxIndexes(m.storage.store);
    m.storage.bus.subscribe((nudge) => indexes.nudge(nudge));
    scope = { mail: m.mail, access: m.alice, account: m.aliceId };
  });

  it('shares one index per mailbox and follows the change log', async () => {
    const a = await indexes.acquire(scope, inbox.id);
    const b = await indexes.acquire(scope, inbox.id);
    assert.equal(a, b);
    assert.deepEqual(
      [...a.summaries()].map((s) => s.uid),
      [1, 2, 3],
    );
    const start = a.cursor;
    await m.mail.deliver(m.aliceId, message({ subject: 'new' }));
    await m.mail.store(m.alice, m.aliceId, inbox.id, [1], { op: 'add', flags: ['\\Seen'] });
    await m.mail.store(m.alice, m.aliceId, inbox.id, [2], { op: 'add', flags: ['\\Deleted'] });
    await m.mail.expunge(m.alice, m.aliceId, inbox.id);
    await a.sync();
    assert.ok(a.cursor > start);
    assert.deepEqual(
      [...a.summaries()].map((s) => s.uid),
      [1, 3, 4],
    );
    assert.deepEqual(a.get(1)?.flags, ['\\Seen']);
    assert.deepEqual(new Set(a.changedSince(start)), new Set([1, 2, 4]));
    assert.deepEqual(a.changedSince(a.cursor), []);
  });

  it('catches up on a resync-all nudge (a cross-node bus that reconnected)', async () => {
    const index = await indexes.acquire(scope, inbox.id);
    // a change whose own nudge was lost: committed behind the bus's back
    const publish = m.storage.bus.publish.bind(m.storage.bus);
    m.storage.bus.publish = () => undefined;
    await m.mail.deliver(m.aliceId, message({ subject: 'unannounced' }));
    m.storage.bus.publish = publish;
    await index.sync();
    assert.deepEqual(
      [...index.summaries()].map((s) => s.uid),
      [1, 2, 3],
      'no nudge, no refresh',
    );
    indexes.nudge({ account: RESYNC_ALL_ACCOUNTS, changeId: 0n, collections: [] });
    await index.sync();
    assert.deepEqual(
      [...index.summaries()].map((s) => s.uid),
      [1, 2, 3, 4],
    );
  });

  it('marks a mailbox deleted elsewhere as gone', async () => {
    const box = await m.mail.createMailbox(m.alice, m.aliceId, 'Doomed');
    const index = await indexes.acquire(scope, box.id);
    await m.mail.deleteMailbox(m.alice, m.aliceId, box.id);
    await index.sync();
    assert.equal(index.gone, true);
  });

  it('reads EmailRecords once, then from the cache', async () => {
    const index = await indexes.acquire(scope, inbox.id);
    const first = await indexes.records(scope, index, [1, 2]);
    assert.equal(first.get(1)?.envelope.subject, 's0');
    let reads = 0;
    const original = m.mail.getMessages.bind(m.mail);
    m.mail.getMessages = async (...args) => {
      reads++;
      return original(...args);
    };
    const again = await indexes.records(scope, index, [1, 2, 3]);
    assert.equal(reads, 1, 'only uid 3 was read');
    assert.deepEqual([...again.keys()].sort(), [1, 2, 3]);
    assert.equal(again.get(2)?.envelope.subject, 's1');
  });

  it('keeps UIDNEXT and HIGHESTMODSEQ as the store has them, from the change log', async () => {
    const index = await indexes.acquire(scope, inbox.id);
    const status = () => m.mail.status(m.alice, m.aliceId, inbox.id);
    const expectCurrent = async (what: string) => {
      await index.sync();
      const s = await status();
      assert.equal(index.uidNext, s.uidNext, `${what}: UIDNEXT`);
      assert.equal(index.highestModseq, s.highestModseq, `${what}: HIGHESTMODSEQ`);
    };
    await expectCurrent('loaded');
    let reads = 0;
    const original = m.mail.status.bind(m.mail);
    m.mail.status = async (...args) => {
      reads++;
      return original(...args);
    };
    await m.mail.deliver(m.aliceId, message({ subject: 'new' }));
    await expectCurrent('after a delivery');
    await m.mail.store(m.alice, m.aliceId, inbox.id, [4], { op: 'add', flags: ['\\Deleted'] });
    await expectCurrent('after a flag change');
    await m.mail.expunge(m.alice, m.aliceId, inbox.id);
    // step: the last UID is expunged: UIDNEXT does not go back
    await expectCurrent('after an expunge');
    const other = await m.mail.createMailbox(m.alice, m.aliceId, 'Other');
    await m.mail.deliver(m.aliceId, message({ subject: 'elsewhere' }), { mailbox: other.id });
    await expectCurrent('after a change to another mailbox');
    assert.equal(reads, 4, 'only the test read the status: the index followed the log');
  });

  it('reads UIDNEXT and HIGHESTMODSEQ again when it reloads', async () => {
    const box = await m.mail.createMailbox(m.alice, m.aliceId, 'Other');
    await m.mail.deliver(m.aliceId, message({ subject: 'one' }), { mailbox: box.id });
    const index = await indexes.acquire(scope, box.id);
    await m.mail.renameMailbox(m.alice, m.aliceId, box.id, 'Renamed');
    await m.mail.deliver(m.aliceId, message({ subject: 'two' }), { mailbox: box.id });
    await index.sync();
    const s = await m.mail.status(m.alice, m.aliceId, box.id);
    assert.equal(index.uidNext, 3);
    assert.equal(index.uidNext, s.uidNext);
    assert.equal(index.highestModseq, s.highestModseq);
  });

  it('renders each cached ENVELOPE once per compose options', async () => {
    const index = await indexes.acquire(scope, inbox.id);
    const envelope = (await indexes.records(scope, index, [1])).get(1)?.envelope;
    assert.ok(envelope !== undefined);
    const text = (wire: Uint8Array | undefined): string | undefined =>
      wire === undefined ? undefined : Buffer.from(wire).toString('utf8');
    const ascii = indexes.envelopeWire(envelope, { utf8: false });
    assert.match(text(ascii) ?? '', /^\(".*" "s0" /);
    assert.equal(indexes.envelopeWire(envelope, { utf8: false }), ascii, 'the same bytes, kept');
    const accented = { ...envelope, subject: 'Café' };
    assert.equal(indexes.envelopeWire(accented, { utf8: false }), undefined);
    assert.match(text(indexes.envelopeWire(accented, { utf8: true })) ?? '', / "Café" /);
  });
});
