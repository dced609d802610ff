import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { isCommuneError } from '../../../src/core/errors.ts';
import type { ErrorCode } from '../../../src/core/errors.ts';
import type { ChangeNudge } from '../../../src/storage/change-bus.ts';
import { readChanges } from '../../../src/storage/change-log.ts';
import { DEFAULT_MAILBOXES } from '../../../src/storage/mail/mail-service.ts';
import type { MailboxRecord } from '../../../src/storage/mail/mail-types.ts';
import { MailRepository } from '../../../src/storage/mail/mail-repository.ts';
import { sectionRange } from '../../../src/storage/mail/mime/mime-part.ts';
import { makeMail, message } from './mail-fixture.ts';
import type { MailFixture } from './mail-fixture.ts';

async function rejectsWith(promise: Promise<unknown>, code: ErrorCode): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(isCommuneError(err, code), `expected ${code}, got ${String(err)}`);
    return true;
  });
}

describe('MailService', () => {
  let f: MailFixture;
  let inbox: MailboxRecord;

  beforeEach(async () => {
    f = await makeMail();
    await f.mail.ensureDefaults(f.alice, f.aliceId);
    inbox = (await f.mail.findMailbox(f.alice, f.aliceId, 'INBOX')) as MailboxRecord;
  });

  afterEach(async () => {
    await f.storage.close();
  });

  const names = async (): Promise<string[]> =>
    (await f.mail.listMailboxes(f.alice, f.aliceId)).map((m) => m.name);
  const create = (name: string) => f.mail.createMailbox(f.alice, f.aliceId, name);
  const append = (mailboxId: number, bytes = message(), flags: string[] = []) =>
    f.mail.append(f.alice, f.aliceId, mailboxId, bytes, { flags });

  describe('mailboxes', () => {
    it('creates the defaults with special-use roles, idempotently and race-safely', async () => {
      await Promise.all(
        Array.from({ length: 10 }, () => f.mail.ensureDefaults(f.alice, f.aliceId)),
      );
      const list = await f.mail.listMailboxes(f.alice, f.aliceId);
      assert.deepEqual(
        list.map((m) => [m.name, m.role]),
        [
          ['Archive', 'archive'],
          ['Drafts', 'drafts'],
          ['INBOX', 'inbox'],
          ['Junk', 'junk'],
          ['Sent', 'sent'],
          ['Trash', 'trash'],
        ],
      );
      assert.equal(list.length, DEFAULT_MAILBOXES.length);
      assert.equal(
        new Set(list.map((m) => m.uidValidity)).size,
        list.length,
        'distinct UIDVALIDITY',
      );
      for (const m of list) {
        assert.equal(m.objectId, `M${m.id}`);
        assert.ok(m.uidValidity > 0 && m.uidValidity < 2 ** 32);
        assert.deepEqual(
          { ...m.status, highestModseq: 0n },
          {
            messages: 0,
            unseen: 0,
            deleted: 0,
            size: 0,
            recent: 0,
            uidNext: 1,
            uidValidity: m.uidValidity,
            highestModseq: 0n,
          },
        );
        assert.ok(m.status.highestModseq > 0n);
      }
      assert.equal((await f.mail.findByRole(f.alice, f.aliceId, 'trash'))?.name, 'Trash');
    });

    it('creates hierarchies with their parents; INBOX is case-insensitive', async () => {
      const q1 = await create('Projects/2026/Q1');
      assert.deepEqual(await names(), [
        'Archive',
        'Drafts',
        'INBOX',
        'Junk',
        'Projects',
        'Projects/2026',
        'Projects/2026/Q1',
        'Sent',
        'Trash',
      ]);
      const list = await f.mail.listMailboxes(f.alice, f.aliceId);
      assert.equal(list.find((m) => m.name === 'Projects')?.hasChildren, true);
      assert.equal(list.find((m) => m.name === 'Projects/2026/Q1')?.hasChildren, false);
      await rejectsWith(create('Projects/2026/Q1'), 'already-exists');
      await rejectsWith(create('inbox'), 'already-exists');
      assert.equal((await create('inbox/Sub')).name, 'INBOX/Sub');
      assert.equal((await f.mail.findMailbox(f.alice, f.aliceId, 'iNbOx'))?.id, inbox.id);
      assert.equal(
        await f.mail.findMailbox(f.alice, f.aliceId, 'projects'),
        undefined,
        'others are case-sensitive',
      );
      assert.equal((await f.mail.findMailbox(f.alice, f.aliceId, 'Projects/2026/Q1'))?.id, q1.id);
      for (const bad of ['', '/a', 'a/', 'a//b', 'a*', 'a%b', 'a\u0001'])
        await rejectsWith(create(bad), 'invalid-argument');
      await rejectsWith(
        f.mail.createMailbox(f.alice, f.aliceId, 'Other Sent', { role: 'sent' }),
        'already-exists',
      );
      const all = await f.mail.createMailbox(f.alice, f.aliceId, 'All Mail', { role: 'all' });
      assert.equal(all.role, 'all');
    });

    it('renames a mailbox with its children, keeping ids, UIDVALIDITY and subscriptions', async () => {
      const projects = await create('Projects');
      const q1 = await create('Projects/2026/Q1');
      const { uid } = await append(q1.id);
      await f.mail.subscribe(f.alice, f.aliceId, 'Projects/2026/Q1');
      const renamed = await f.mail.renameMailbox(f.alice, f.aliceId, projects.id, 'Work/Old');
      assert.equal(renamed.id, projects.id);
      assert.equal(renamed.uidValidity, projects.uidValidity);
      const list = await names();
      assert.ok(list.includes('Work') && list.includes('Work/Old/2026/Q1'));
      assert.ok(!list.some((n) => n.startsWith('Projects')));
      const moved = await f.mail.findMailbox(f.alice, f.aliceId, 'Work/Old/2026/Q1');
      assert.equal(moved?.id, q1.id);
      assert.deepEqual(
        (await f.mail.listMessages(f.alice, f.aliceId, q1.id)).map((m) => m.uid),
        [uid],
      );
      assert.deepEqual(await f.mail.listSubscriptions(f.alice, f.aliceId), ['Work/Old/2026/Q1']);
      await rejectsWith(
        f.mail.renameMailbox(f.alice, f.aliceId, projects.id, 'Work/Old/2026/X'),
        'invalid-argument',
      );
      await rejectsWith(
        f.mail.renameMailbox(f.alice, f.aliceId, projects.id, 'Sent'),
        'already-exists',
      );
      await rejectsWith(f.mail.renameMailbox(f.alice, f.aliceId, 999, 'X'), 'not-found');
    });

    it('refuses a rename whose children would collide', async () => {
      const a = await create('A');
      await create('A/c');
      await create('B/c');
      await rejectsWith(f.mail.renameMailbox(f.alice, f.aliceId, a.id, 'B'), 'already-exists');
    });

    it('renaming INBOX moves its messages to the new mailbox and leaves INBOX empty', async () => {
      await append(inbox.id, message({ subject: 'one' }), ['\\Seen']);
      await append(inbox.id, message({ subject: 'two' }));
      await create('INBOX/Child');
      const old = await f.mail.renameMailbox(f.alice, f.aliceId, inbox.id, 'Old Inbox');
      assert.notEqual(old.id, inbox.id);
      const moved = await f.mail.listMessages(f.alice, f.aliceId, old.id);
      assert.deepEqual(
        moved.map((m) => [m.uid, m.flags]),
        [
          [1, ['\\Seen']],
          [2, []],
        ],
      );
      assert.equal((await f.mail.status(f.alice, f.aliceId, inbox.id)).messages, 0);
      assert.equal((await f.mail.status(f.alice, f.aliceId, old.id)).unseen, 1);
      assert.equal((await f.mail.findMailbox(f.alice, f.aliceId, 'INBOX'))?.id, inbox.id);
      assert.ok((await names()).includes('INBOX/Child'), 'children of INBOX stay');
      assert.equal((await f.mail.quota(f.alice, f.aliceId)).messages, 2);
    });

    it('deletes per RFC 9051 §6.3.5: \\Noselect for parents, never INBOX', async () => {
      await rejectsWith(f.mail.deleteMailbox(f.alice, f.aliceId, inbox.id), 'invalid-argument');
      const parent = await create('P');
      const child = await create('P/C');
      await append(parent.id, message({ body: 'x'.repeat(100) }));
      const before = await f.mail.quota(f.alice, f.aliceId);
      await f.mail.deleteMailbox(f.alice, f.aliceId, parent.id);
      const placeholder = (await f.mail.listMailboxes(f.alice, f.aliceId)).find(
        (m) => m.name === 'P',
      );
      assert.equal(placeholder?.noselect, true);
      assert.equal(placeholder?.status.messages, 0);
      assert.deepEqual(await f.mail.quota(f.alice, f.aliceId), {
        ...before,
        storage: 0,
        messages: 0,
      });
      await rejectsWith(append(parent.id), 'invalid-argument');
      await rejectsWith(f.mail.deleteMailbox(f.alice, f.aliceId, parent.id), 'conflict');
      await f.mail.deleteMailbox(f.alice, f.aliceId, child.id);
      assert.ok(!(await names()).includes('P/C'));
      // Creating the placeholder's name makes it selectable again, as a new incarnation.
      const again = await create('P');
      assert.equal(again.id, parent.id);
      assert.equal(again.noselect, false);
      assert.notEqual(again.uidValidity, parent.uidValidity);
      await f.mail.deleteMailbox(f.alice, f.aliceId, parent.id);
      assert.ok(!(await names()).includes('P'));
      await rejectsWith(f.mail.status(f.alice, f.aliceId, parent.id), 'not-found');
      const recreated = await create('P');
      assert.ok(recreated.uidValidity > again.uidValidity, 'UIDVALIDITY grows per incarnation');
    });

    it('subscribes and unsubscribes names, existing or not', async () => {
      await f.mail.subscribe(f.alice, f.aliceId, 'INBOX');
      await f.mail.subscribe(f.alice, f.aliceId, 'Gone/Away');
      assert.deepEqual(await f.mail.listSubscriptions(f.alice, f.aliceId), ['Gone/Away', 'INBOX']);
      const list = await f.mail.listMailboxes(f.alice, f.aliceId);
      assert.equal(list.find((m) => m.name === 'INBOX')?.subscribed, true);
      assert.equal(list.find((m) => m.name === 'Sent')?.subscribed, false);
      await f.mail.unsubscribe(f.alice, f.aliceId, 'inbox');
      await f.mail.unsubscribe(f.alice, f.aliceId, 'never');
      assert.deepEqual(await f.mail.listSubscriptions(f.alice, f.aliceId), ['Gone/Away']);
    });
  });

  describe('messages', () => {
    it('appends with uid = UIDNEXT and the commit modseq stamped into the entry', async () => {
      const results = [];
      for (let i = 0; i < 3; i++)
        results.push(await append(inbox.id, message({ subject: `m${i}` }), ['\\Seen', '$Label']));
      assert.deepEqual(
        results.map((r) => r.uid),
        [1, 2, 3],
      );
      assert.ok(
        results.every((r) => r.uidValidity === inbox.uidValidity && r.mailboxId === inbox.id),
      );
      assert.ok(results[0]!.modseq < results[1]!.modseq && results[1]!.modseq < results[2]!.modseq);
      const listed = await f.mail.listMessages(f.alice, f.aliceId, inbox.id);
      assert.deepEqual(
        listed.map((m) => m.modseq),
        results.map((r) => r.modseq),
      );
      assert.deepEqual(listed[0]?.flags, ['\\Seen', '$Label']);
      const status = await f.mail.status(f.alice, f.aliceId, inbox.id);
      assert.equal(status.uidNext, 4);
      assert.equal(status.messages, 3);
      assert.equal(status.unseen, 0);
      assert.equal(status.highestModseq, results[2]?.modseq);
      assert.deepEqual(await f.mail.mailboxKeywords(f.alice, f.aliceId, inbox.id), ['$Label']);
      // The change log holds the same ids: entries 'mailbox:<id>' / uid / created.
      const { changes } = await readChanges(f.storage.store, f.aliceId, results[0]!.modseq - 1n);
      assert.deepEqual(
        changes.slice(0, 3).map((c) => [c.changeId, c.entries]),
        results.map((r) => [
          r.modseq,
          [{ collection: `mailbox:${inbox.id}`, id: String(r.uid), kind: 'created' }],
        ]),
      );
    });

    it('stores the bytes exactly and indexes them once (envelope, structure, sections)', async () => {
      const bytes = message({ subject: 'Sections', body: 'line 1\r\nline 2' });
      const { uid, size } = await append(inbox.id, bytes);
      assert.equal(size, bytes.length);
      const record = await f.mail.getMessage(f.alice, f.aliceId, inbox.id, uid);
      assert.ok(record);
      assert.equal(record.envelope.subject, 'Sections');
      assert.equal(record.body.kind === 'part' && record.body.lines, 2);
      assert.deepEqual(await f.mail.readMessage(f.alice, f.aliceId, inbox.id, uid), bytes);
      const text = sectionRange(record.parts, [], 'TEXT');
      assert.ok(text);
      const part = await f.mail.readMessage(f.alice, f.aliceId, inbox.id, uid, text);
      assert.equal(Buffer.from(part).toString(), 'line 1\r\nline 2\r\n');
      await rejectsWith(f.mail.openMessage(f.alice, f.aliceId, inbox.id, 99), 'not-found');
      assert.deepEqual(await f.mail.getMessages(f.alice, f.aliceId, inbox.id, [99, uid, uid]), [
        record,
      ]);
    });

    it('accepts streamed sources', async () => {
      const bytes = message({ subject: 'streamed', body: 'y'.repeat(10_000) });
      const chunks = [];
      for (let i = 0; i < bytes.length; i += 333) chunks.push(bytes.subarray(i, i + 333));
      const r = await f.mail.append(f.alice, f.aliceId, inbox.id, Readable.from(chunks));
      const record = await f.mail.getMessage(f.alice, f.aliceId, inbox.id, r.uid);
      assert.equal(record?.size, bytes.length);
      assert.equal(record?.envelope.subject, 'streamed');
      assert.deepEqual(await f.mail.readMessage(f.alice, f.aliceId, inbox.id, r.uid), bytes);
    });

    it('gives 200 concurrent appends distinct increasing uids and modseqs', async () => {
      const results = await Promise.all(
        Array.from({ length: 200 }, (_, i) => append(inbox.id, message({ subject: `c${i}` }))),
      );
      const byUid = [...results].sort((a, b) => a.uid - b.uid);
      assert.deepEqual(
        byUid.map((r) => r.uid),
        Array.from({ length: 200 }, (_, i) => i + 1),
      );
      // Concurrent appends are coalesced into few commits: one MODSEQ per commit, never
      // decreasing in UID order (RFC 7162 lets messages changed together share one).
      for (let i = 1; i < byUid.length; i++) assert.ok(byUid[i]!.modseq >= byUid[i - 1]!.modseq);
      const commits = new Set(results.map((r) => r.modseq)).size;
      assert.ok(commits < 200, `expected coalesced commits, got ${commits}`);
      const listed = await f.mail.listMessages(f.alice, f.aliceId, inbox.id);
      assert.deepEqual(
        listed.map((m) => [m.uid, m.modseq]),
        byUid.map((r) => [r.uid, r.modseq]),
      );
      const status = await f.mail.status(f.alice, f.aliceId, inbox.id);
      assert.equal(status.messages, 200);
      assert.equal(status.uidNext, 201);
      assert.equal(status.highestModseq, byUid.at(-1)!.modseq);
    });

    it('refuses one message of a coalesced batch alone (over quota), the others land', async () => {
      await f.directory.setQuota(f.aliceId, 60_000);
      const small = Array.from({ length: 5 }, (_, i) => message({ subject: `s${i}` }));
      const big = message({ subject: 'big', body: 'z'.repeat(40_000) });
      const outcomes = await Promise.allSettled([
        ...small.map((m) => append(inbox.id, m)),
        append(inbox.id, big),
        append(inbox.id, message({ subject: 'big2', body: 'z'.repeat(40_000) })),
      ]);
      const rejected = outcomes.filter((o) => o.status === 'rejected');
      assert.equal(rejected.length, 1);
      assert.match(String((rejected[0] as PromiseRejectedResult).reason), /quota/);
      const listed = await f.mail.listMessages(f.alice, f.aliceId, inbox.id);
      assert.deepEqual(
        listed.map((m) => m.uid),
        [1, 2, 3, 4, 5, 6],
      );
      const usage = await f.mail.quota(f.alice, f.aliceId);
      assert.equal(usage.messages, 6);
      assert.equal(
        usage.storage,
        listed.reduce((sum, m) => sum + m.size, 0),
      );
    });

    it('threads a reply with its parent when both are appended at once', async () => {
      const parent = message({ subject: 'p', messageId: 'p@x' });
      const reply = message({
        subject: 'r',
        messageId: 'r@x',
        inReplyTo: 'p@x',
        references: '<p@x>',
      });
      const [a, b] = await Promise.all([append(inbox.id, parent), append(inbox.id, reply)]);
      assert.equal(a.threadId, b.threadId);
    });

    it('threads within one commit: a batch sees the thread ids it gives itself', async () => {
      const repo = new MailRepository({
        storage: f.storage,
        directory: f.directory,
        now: () => new Date(),
      });
      const pending = new Map<string, string>();
      const first = await repo.thread(f.aliceId, { messageId: 'p@x', references: [] }, pending);
      const second = await repo.thread(
        f.aliceId,
        { messageId: 'r@x', references: ['p@x', 'p@x'] },
        pending,
      );
      assert.equal(second.threadId, first.threadId);
      assert.equal(first.threadOps.length, 1);
      assert.equal(second.threadOps.length, 1, 'only the new id r@x is written');
    });

    it('changes flags (add, remove, replace) with new modseqs and counters', async () => {
      const a = await append(inbox.id);
      const b = await append(inbox.id, message(), ['\\Seen']);
      const added = await f.mail.store(f.alice, f.aliceId, inbox.id, [a.uid, b.uid, 77], {
        op: 'add',
        flags: ['\\seen', '\\Flagged'],
      });
      assert.ok(added.modseq !== null && added.modseq > b.modseq);
      assert.deepEqual(
        added.changed.map((m) => [m.uid, m.flags, m.modseq]),
        [
          [a.uid, ['\\Seen', '\\Flagged'], added.modseq],
          [b.uid, ['\\Seen', '\\Flagged'], added.modseq],
        ],
      );
      const again = await f.mail.store(f.alice, f.aliceId, inbox.id, [a.uid], {
        op: 'add',
        flags: ['\\Seen'],
      });
      assert.equal(again.modseq, null, 'no-op changes nothing');
      assert.deepEqual(
        again.unchanged.map((m) => m.uid),
        [a.uid],
      );
      await f.mail.store(f.alice, f.aliceId, inbox.id, [a.uid], {
        op: 'remove',
        flags: ['\\SEEN'],
      });
      await f.mail.store(f.alice, f.aliceId, inbox.id, [b.uid], {
        op: 'replace',
        flags: ['\\Deleted', 'Work'],
      });
      const listed = await f.mail.listMessages(f.alice, f.aliceId, inbox.id);
      assert.deepEqual(
        listed.map((m) => m.flags),
        [['\\Flagged'], ['\\Deleted', 'Work']],
      );
      const status = await f.mail.status(f.alice, f.aliceId, inbox.id);
      assert.equal(status.unseen, 2);
      assert.equal(status.deleted, 1);
      assert.equal(status.highestModseq, listed[1]?.modseq);
      await rejectsWith(
        f.mail.store(f.alice, f.aliceId, inbox.id, [a.uid], { op: 'add', flags: ['\\Bogus'] }),
        'invalid-argument',
      );
      await rejectsWith(
        f.mail.store(f.alice, f.aliceId, inbox.id, [a.uid], { op: 'add', flags: ['bad word'] }),
        'invalid-argument',
      );
    });

    it('refuses UNCHANGEDSINCE for messages modified later (RFC 7162 §3.1.3)', async () => {
      const a = await append(inbox.id);
      const b = await append(inbox.id);
      const touched = await f.mail.store(f.alice, f.aliceId, inbox.id, [b.uid], {
        op: 'add',
        flags: ['\\Answered'],
      });
      const result = await f.mail.store(f.alice, f.aliceId, inbox.id, [a.uid, b.uid], {
        op: 'add',
        flags: ['\\Seen'],
        unchangedSince: b.modseq,
      });
      assert.deepEqual(result.modified, [b.uid]);
      assert.deepEqual(
        result.changed.map((m) => m.uid),
        [a.uid],
      );
      const listed = await f.mail.listMessages(f.alice, f.aliceId, inbox.id);
      assert.deepEqual(listed[1]?.flags, ['\\Answered']);
      assert.equal(listed[1]?.modseq, touched.modseq);
      const zero = await f.mail.store(f.alice, f.aliceId, inbox.id, [a.uid], {
        op: 'add',
        flags: ['x'],
        unchangedSince: 0n,
      });
      assert.deepEqual(zero.modified, [a.uid]);
    });

    it('copies with a uid map, sharing the email and blob, keeping flags and dates', async () => {
      const archive = (await f.mail.findByRole(f.alice, f.aliceId, 'archive')) as MailboxRecord;
      await append(archive.id);
      const a = await append(inbox.id, message({ subject: 'a' }), ['\\Seen']);
      const b = await append(inbox.id, message({ subject: 'b' }));
      const copy = await f.mail.copy(f.alice, f.aliceId, inbox.id, [b.uid, a.uid, 99], archive.id);
      assert.equal(copy.uidValidity, archive.uidValidity);
      assert.deepEqual(copy.mapping, [
        [a.uid, 2],
        [b.uid, 3],
      ]);
      const [src, dst] = await Promise.all([
        f.mail.getMessages(f.alice, f.aliceId, inbox.id, [a.uid]),
        f.mail.getMessages(f.alice, f.aliceId, archive.id, [2]),
      ]);
      assert.equal(dst[0]?.emailId, src[0]?.emailId);
      assert.equal(dst[0]?.blob, src[0]?.blob);
      assert.deepEqual(dst[0]?.flags, ['\\Seen']);
      assert.equal(dst[0]?.internalDate, src[0]?.internalDate);
      assert.equal(dst[0]?.modseq, copy.modseq);
      assert.equal((await f.mail.quota(f.alice, f.aliceId)).messages, 5, 'each copy counts');
      assert.equal((await f.mail.status(f.alice, f.aliceId, archive.id)).uidNext, 4);
      // Expunging the original leaves the copy readable.
      await f.mail.store(f.alice, f.aliceId, inbox.id, [a.uid], {
        op: 'add',
        flags: ['\\Deleted'],
      });
      await f.mail.expunge(f.alice, f.aliceId, inbox.id);
      assert.equal(
        Buffer.from(await f.mail.readMessage(f.alice, f.aliceId, archive.id, 2)).includes(
          'Subject: a',
        ),
        true,
      );
      const empty = await f.mail.copy(f.alice, f.aliceId, inbox.id, [999], archive.id);
      assert.deepEqual(empty, { uidValidity: archive.uidValidity, mapping: [], modseq: null });
    });

    it('moves atomically: new uids in the destination, vanished in the source', async () => {
      const trash = (await f.mail.findByRole(f.alice, f.aliceId, 'trash')) as MailboxRecord;
      const a = await append(inbox.id);
      const b = await append(inbox.id, message(), ['\\Flagged']);
      const before = await f.mail.status(f.alice, f.aliceId, inbox.id);
      const moved = await f.mail.move(f.alice, f.aliceId, inbox.id, [a.uid, b.uid], trash.id);
      assert.deepEqual(moved.mapping, [
        [a.uid, 1],
        [b.uid, 2],
      ]);
      assert.deepEqual(await f.mail.listMessages(f.alice, f.aliceId, inbox.id), []);
      assert.deepEqual(
        (await f.mail.listMessages(f.alice, f.aliceId, trash.id)).map((m) => m.flags),
        [[], ['\\Flagged']],
      );
      const changes = await f.mail.changesSince(f.alice, f.aliceId, inbox.id, before.highestModseq);
      assert.deepEqual(changes.vanished, [a.uid, b.uid]);
      assert.equal(changes.highestModseq, moved.modseq);
      assert.equal((await f.mail.quota(f.alice, f.aliceId)).messages, 2, 'a move does not copy');
      const log = await readChanges(f.storage.store, f.aliceId, before.highestModseq);
      assert.equal(log.changes.length, 1, 'one commit');
    });

    it('expunges only \\Deleted messages and reports them to QRESYNC as vanished', async () => {
      const msgs = [];
      for (let i = 0; i < 4; i++) msgs.push(await append(inbox.id, message({ subject: `e${i}` })));
      const mark = await f.mail.store(f.alice, f.aliceId, inbox.id, [1, 2, 4], {
        op: 'add',
        flags: ['\\Deleted'],
      });
      const checkpoint = mark.modseq as bigint;
      const uidExpunge = await f.mail.expunge(f.alice, f.aliceId, inbox.id, [2, 3]);
      assert.deepEqual(uidExpunge.expunged, [2]);
      await f.mail.store(f.alice, f.aliceId, inbox.id, [3], { op: 'add', flags: ['\\Seen'] });
      const rest = await f.mail.expunge(f.alice, f.aliceId, inbox.id);
      assert.deepEqual(rest.expunged, [1, 4]);
      assert.deepEqual(
        (await f.mail.listMessages(f.alice, f.aliceId, inbox.id)).map((m) => m.uid),
        [3],
      );
      const since = await f.mail.changesSince(f.alice, f.aliceId, inbox.id, checkpoint);
      assert.deepEqual(since.vanished, [1, 2, 4]);
      assert.deepEqual(
        since.changed.map((m) => [m.uid, m.flags]),
        [[3, ['\\Seen']]],
      );
      assert.equal(since.highestModseq, rest.modseq);
      const fromStart = await f.mail.changesSince(f.alice, f.aliceId, inbox.id, 0n);
      assert.deepEqual(fromStart.vanished, [1, 2, 4]);
      const none = await f.mail.changesSince(f.alice, f.aliceId, inbox.id, rest.modseq as bigint);
      assert.deepEqual([none.changed, none.vanished], [[], []]);
      assert.deepEqual(await f.mail.expunge(f.alice, f.aliceId, inbox.id), {
        expunged: [],
        modseq: null,
      });
      const status = await f.mail.status(f.alice, f.aliceId, inbox.id);
      assert.deepEqual([status.messages, status.deleted, status.uidNext], [1, 0, 5]);
      assert.equal((await f.mail.quota(f.alice, f.aliceId)).messages, 1);
    });

    it('publishes a nudge naming the mailbox collection', async () => {
      const nudges: ChangeNudge[] = [];
      f.storage.bus.subscribe((n) => nudges.push(n));
      const { modseq } = await append(inbox.id);
      assert.deepEqual(nudges, [
        { account: f.aliceId, changeId: modseq, collections: [`mailbox:${inbox.id}`] },
      ]);
    });

    it('gives replies the thread of the message they answer', async () => {
      const root = await append(inbox.id, message({ messageId: 'root@x' }));
      const reply = await append(inbox.id, message({ messageId: 'r1@x', inReplyTo: 'root@x' }));
      const deep = await append(
        inbox.id,
        message({ references: '<root@x> <r1@x>', messageId: 'r2@x' }),
      );
      const other = await append(inbox.id, message({ messageId: 'other@x' }));
      // A child that arrives before its parent: the parent joins the child's thread.
      const orphan = await append(inbox.id, message({ messageId: 'c@y', inReplyTo: 'p@y' }));
      const parent = await append(inbox.id, message({ messageId: 'p@y' }));
      assert.equal(reply.threadId, root.threadId);
      assert.equal(deep.threadId, root.threadId);
      assert.notEqual(other.threadId, root.threadId);
      assert.equal(parent.threadId, orphan.threadId);
      assert.match(root.threadId, /^T[A-Za-z0-9_-]+$/);
      assert.match(root.emailId, /^M[A-Za-z0-9_-]+$/);
      assert.notEqual(root.emailId, reply.emailId);
    });
  });

  describe('delivery', () => {
    it('creates the defaults on first delivery and returns after the commit', async () => {
      const r = await f.mail.deliver(f.bobId, message({ subject: 'welcome' }));
      const bobInbox = await f.mail.findMailbox(f.bob, f.bobId, 'INBOX');
      assert.equal(r.mailboxId, bobInbox?.id);
      assert.deepEqual(
        (await f.mail.listMessages(f.bob, f.bobId, r.mailboxId)).map((m) => m.uid),
        [r.uid],
      );
      assert.equal((await f.mail.listMailboxes(f.bob, f.bobId)).length, DEFAULT_MAILBOXES.length);
    });

    it('delivers into a role mailbox with flags, falling back to INBOX', async () => {
      const junk = await f.mail.deliver(f.aliceId, message(), {
        mailbox: 'junk',
        flags: ['$Junk'],
      });
      assert.equal(junk.mailboxId, (await f.mail.findByRole(f.alice, f.aliceId, 'junk'))?.id);
      assert.deepEqual((await f.mail.listMessages(f.alice, f.aliceId, junk.mailboxId))[0]?.flags, [
        '$Junk',
      ]);
      assert.equal(
        (await f.mail.deliver(f.aliceId, message(), { mailbox: 'flagged' })).mailboxId,
        inbox.id,
      );
      assert.equal(
        (await f.mail.deliver(f.aliceId, message(), { mailbox: 12345 })).mailboxId,
        inbox.id,
      );
      await rejectsWith(f.mail.deliver(424242, message()), 'not-found');
    });
  });

  describe('quota', () => {
    it('refuses appends and copies over quota, storing nothing', async () => {
      const one = message({ subject: 'q' });
      await f.storage.close();
      f = await makeMail({ aliceQuota: one.length * 2 + 10 });
      await f.mail.ensureDefaults(f.alice, f.aliceId);
      inbox = (await f.mail.findMailbox(f.alice, f.aliceId, 'INBOX')) as MailboxRecord;
      const sent = (await f.mail.findByRole(f.alice, f.aliceId, 'sent')) as MailboxRecord;
      await append(inbox.id, one);
      await append(inbox.id, one);
      const before = {
        quota: await f.mail.quota(f.alice, f.aliceId),
        inbox: await f.mail.status(f.alice, f.aliceId, inbox.id),
        sent: await f.mail.status(f.alice, f.aliceId, sent.id),
      };
      assert.deepEqual(before.quota, {
        storage: one.length * 2,
        messages: 2,
        limit: one.length * 2 + 10,
      });
      await rejectsWith(append(inbox.id, one), 'over-quota');
      await rejectsWith(
        f.mail.append(f.alice, f.aliceId, inbox.id, Readable.from([one])),
        'over-quota',
      );
      await rejectsWith(f.mail.copy(f.alice, f.aliceId, inbox.id, [1], sent.id), 'over-quota');
      await rejectsWith(f.mail.deliver(f.aliceId, one), 'over-quota');
      assert.deepEqual(
        {
          quota: await f.mail.quota(f.alice, f.aliceId),
          inbox: await f.mail.status(f.alice, f.aliceId, inbox.id),
          sent: await f.mail.status(f.alice, f.aliceId, sent.id),
        },
        before,
      );
      assert.equal((await f.mail.listMessages(f.alice, f.aliceId, inbox.id)).length, 2);
      // A move is not a copy: allowed at the limit.
      await f.mail.move(f.alice, f.aliceId, inbox.id, [1], sent.id);
      // Freeing space makes room again.
      await f.mail.store(f.alice, f.aliceId, inbox.id, [2], { op: 'add', flags: ['\\Deleted'] });
      await f.mail.expunge(f.alice, f.aliceId, inbox.id);
      await append(inbox.id, one);
    });

    it('refuses messages over maxMessageSize with too-large', async () => {
      await f.storage.close();
      f = await makeMail({ service: { maxMessageSize: 100 } });
      await f.mail.ensureDefaults(f.alice, f.aliceId);
      const box = (await f.mail.findMailbox(f.alice, f.aliceId, 'INBOX')) as MailboxRecord;
      await rejectsWith(append(box.id, message({ body: 'z'.repeat(200) })), 'too-large');
      assert.equal((await f.mail.status(f.alice, f.aliceId, box.id)).messages, 0);
    });
  });

  describe('access', () => {
    it("denies every operation on another user's account", async () => {
      const { bob, aliceId } = f;
      const denied: Promise<unknown>[] = [
        f.mail.listMailboxes(bob, aliceId),
        f.mail.ensureDefaults(bob, aliceId),
        f.mail.createMailbox(bob, aliceId, 'X'),
        f.mail.deleteMailbox(bob, aliceId, inbox.id),
        f.mail.renameMailbox(bob, aliceId, inbox.id, 'X'),
        f.mail.subscribe(bob, aliceId, 'INBOX'),
        f.mail.findMailbox(bob, aliceId, 'INBOX'),
        f.mail.status(bob, aliceId, inbox.id),
        f.mail.append(bob, aliceId, inbox.id, message()),
        f.mail.listMessages(bob, aliceId, inbox.id),
        f.mail.getMessage(bob, aliceId, inbox.id, 1),
        f.mail.openMessage(bob, aliceId, inbox.id, 1),
        f.mail.store(bob, aliceId, inbox.id, [1], { op: 'add', flags: ['\\Seen'] }),
        f.mail.copy(bob, aliceId, inbox.id, [1], inbox.id),
        f.mail.move(bob, aliceId, inbox.id, [1], inbox.id),
        f.mail.expunge(bob, aliceId, inbox.id),
        f.mail.changesSince(bob, aliceId, inbox.id, 0n),
        f.mail.search(bob, aliceId, inbox.id, [{ key: 'ALL' }]),
        f.mail.quota(bob, aliceId),
      ];
      for (const p of denied) await rejectsWith(p, 'forbidden');
      assert.equal((await f.mail.status(f.alice, aliceId, inbox.id)).messages, 0);
    });
  });
});
