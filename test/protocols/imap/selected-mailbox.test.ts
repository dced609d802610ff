/**
 * SelectedMailbox: the client's view of a mailbox (sequence numbers, UIDs, flags) and the
 * announcement of changes made elsewhere, read from the change log after a nudge, at the
 * points RFC 9051 §7.5.1 allows.
 */

import assert from 'node:assert/strict';
import { ImapError } from '../../../src/protocols/imap/imap-error.ts';
import { parseSequenceSet } from '../../../src/protocols/imap/parser/sequence-set.ts';
import type { SequenceSet } from '../../../src/protocols/imap/parser/sequence-set.ts';
import { MailboxIndexes } from '../../../src/protocols/imap/mailbox-index.ts';
import { SelectedMailbox } from '../../../src/protocols/imap/selected-mailbox.ts';
import type { UpdateOptions } from '../../../src/protocols/imap/selected-mailbox.ts';
import type { MailboxRecord } from '../../../src/storage/mail/mail-types.ts';
import { makeMail, message } from '../../storage/mail/mail-fixture.ts';
import type { MailFixture } from '../../storage/mail/mail-fixture.ts';
import { wireText } from './compose/wire-text.ts';

const set = (text: string): SequenceSet => parseSequenceSet(text) as SequenceSet;

const OPTIONS: UpdateOptions = {
  allowExpunge: true,
  qresync: false,
  condstore: false,
  compose: { utf8: false },
};

describe('SelectedMailbox', () => {
  let m: MailFixture;
  let inbox: MailboxRecord;

  async function open(readOnly = false): Promise<SelectedMailbox> {
    const indexes = new MailboxIndexes(m.storage.store);
    const { mailbox } = await SelectedMailbox.open(
      { mail: m.mail, access: m.alice, account: m.aliceId },
      indexes,
      inbox,
      readOnly,
    );
    // step: the server routes every nudge to the indexes and the sessions
    m.storage.bus.subscribe((nudge) => {
      indexes.nudge(nudge);
      mailbox.markDirty();
    });
    return mailbox;
  }

  async function deliver(n: number): Promise<void> {
    for (let i = 0; i < n; i++) {
      await m.mail.deliver(m.aliceId, message({ subject: `s${i}` }));
    }
  }

  beforeEach(async () => {
    m = await makeMail();
    await m.mail.ensureDefaults(m.alice, m.aliceId);
    inbox = (await m.mail.findMailbox(m.alice, m.aliceId, 'INBOX')) as MailboxRecord;
    await deliver(5);
  });

  it('maps sequence numbers and UIDs, with * and the saved result', async () => {
    await m.mail.expunge(m.alice, m.aliceId, inbox.id); // nothing \Deleted: no-op
    const box = await open();
    assert.equal(box.exists, 5);
    assert.deepEqual(box.view, [1, 2, 3, 4, 5]);
    assert.deepEqual(box.resolve(set('2:3,5'), false), [2, 3, 5]);
    assert.deepEqual(box.resolve(set('4:*'), false), [4, 5]);
    assert.deepEqual(box.resolve(set('9:*'), true), [5], 'n:* includes the last UID');
    assert.deepEqual(box.resolve(set('1:4294967295'), true), [1, 2, 3, 4, 5]);
    assert.throws(() => box.resolve(set('6'), false), ImapError);
    box.savedSearch = [2, 4];
    assert.deepEqual(box.resolve(set('$'), false), [2, 4]);
    assert.deepEqual(box.resolve(set('1,$'), true), [1, 2, 4]);
    assert.equal(box.seqOf(4), 4);
    assert.equal(box.seqOf(99), 0);
    assert.equal(box.firstUnseen(), 1);
  });

  it('announces new messages with EXISTS only when asked', async () => {
    const box = await open();
    await deliver(2);
    assert.equal(box.dirty, true);
    await box.sync();
    assert.equal(box.exists, 5, 'not announced yet');
    assert.deepEqual(box.resolve(set('1:*'), true), [1, 2, 3, 4, 5]);
    assert.equal(wireText(box.updates(OPTIONS)), '* 7 EXISTS\r\n');
    assert.equal(box.exists, 7);
    assert.equal(wireText(box.updates(OPTIONS)), '');
  });

  it('announces flag changes made elsewhere, once, with MODSEQ under CONDSTORE', async () => {
    const box = await open();
    const stored = await m.mail.store(m.alice, m.aliceId, inbox.id, [2], {
      op: 'add',
      flags: ['\\Seen', '$Later'],
    });
    await box.sync();
    const modseq = String(stored.modseq);
    assert.equal(
      wireText(box.updates({ ...OPTIONS, condstore: true })),
      '* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Later)\r\n' +
        '* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Later \\*)] Flags permitted\r\n' +
        `* 2 FETCH (UID 2 FLAGS (\\Seen $Later) MODSEQ (${modseq}))\r\n`,
    );
    await box.sync();
    assert.equal(wireText(box.updates(OPTIONS)), '');
  });

  it('does not announce again what this session stored itself', async () => {
    const box = await open();
    const stored = await m.mail.store(m.alice, m.aliceId, inbox.id, [3], {
      op: 'add',
      flags: ['\\Flagged'],
    });
    box.applyStored(stored.changed);
    await box.sync();
    assert.equal(box.hasUpdates, false);
    assert.deepEqual(box.summary(3)?.flags, ['\\Flagged']);
  });

  it('holds expunges back until allowed, skipping the gone messages meanwhile', async () => {
    const box = await open();
    await m.mail.store(m.alice, m.aliceId, inbox.id, [2, 4], { op: 'add', flags: ['\\Deleted'] });
    await m.mail.expunge(m.alice, m.aliceId, inbox.id);
    await deliver(1);
    await box.sync();
    const held = wireText(box.updates({ ...OPTIONS, allowExpunge: false }));
    assert.doesNotMatch(held, /EXPUNGE/);
    assert.match(held, /^\* 6 EXISTS\r\n/m, 'EXISTS counts the unannounced expunges');
    assert.equal(box.exists, 6);
    assert.deepEqual(box.resolve(set('1:*'), false), [1, 3, 5, 6]);
    assert.equal(box.summary(2), undefined);
    assert.equal(box.seqOf(5), 5);
    const released = wireText(box.updates(OPTIONS));
    assert.match(released, /^\* 2 EXPUNGE\r\n\* 3 EXPUNGE\r\n/);
    assert.deepEqual(box.view, [1, 3, 5, 6]);
    assert.equal(box.seqOf(5), 3);
  });

  it('announces expunges as one VANISHED once QRESYNC is enabled', async () => {
    const box = await open();
    await m.mail.store(m.alice, m.aliceId, inbox.id, [1, 2, 5], {
      op: 'add',
      flags: ['\\Deleted'],
    });
    await m.mail.expunge(m.alice, m.aliceId, inbox.id);
    await box.sync();
    assert.equal(wireText(box.updates({ ...OPTIONS, qresync: true })), '* VANISHED 1:2,5\r\n');
    assert.deepEqual(box.view, [3, 4]);
  });

  it('forgets a message delivered and expunged before it was announced', async () => {
    const box = await open();
    await deliver(1);
    await m.mail.store(m.alice, m.aliceId, inbox.id, [6], { op: 'add', flags: ['\\Deleted'] });
    await m.mail.expunge(m.alice, m.aliceId, inbox.id, [6]);
    await box.sync();
    assert.equal(box.hasUpdates, false);
    assert.equal(box.exists, 5);
  });

  it('removes messages this session expunged, with the EXPUNGE numbers to send', () =>
    open().then((box) => {
      const removed = box.remove([2, 3, 5]);
      assert.deepEqual(removed.seqs, [2, 2, 3]);
      assert.deepEqual(removed.uids, [2, 3, 5]);
      assert.deepEqual(box.view, [1, 4]);
      assert.equal(
        wireText(SelectedMailbox.expungeResponses(removed, false)),
        '* 2 EXPUNGE\r\n* 2 EXPUNGE\r\n* 3 EXPUNGE\r\n',
      );
      assert.equal(
        wireText(SelectedMailbox.expungeResponses(removed, true)),
        '* VANISHED 2:3,5\r\n',
      );
    }));

  it('offers no permanent flags when read-only', async () => {
    const box = await open(true);
    assert.deepEqual(box.permanentFlags(), []);
    assert.ok(box.flagList().includes('\\Seen'));
  });
});
