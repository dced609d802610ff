import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStorage } from '../../../src/storage/open-storage.ts';
import type { MailboxRecord } from '../../../src/storage/mail/mail-types.ts';
import { makeMail, message } from './mail-fixture.ts';

describe('MailService on the level backend', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'commune-mail-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('runs the main lifecycle and keeps everything across a reopen', async () => {
    let f = await makeMail({ storage: await openStorage({ backend: 'level', dataDir: dir }) });
    await f.mail.ensureDefaults(f.alice, f.aliceId);
    const inbox = (await f.mail.findMailbox(f.alice, f.aliceId, 'INBOX')) as MailboxRecord;
    const archive = await f.mail.createMailbox(f.alice, f.aliceId, 'Archive/2026');
    const appended = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        f.mail.append(f.alice, f.aliceId, inbox.id, message({ subject: `<n${i}>` })),
      ),
    );
    assert.deepEqual(
      appended.map((a) => a.uid).sort((a, b) => a - b),
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
    await f.mail.store(f.alice, f.aliceId, inbox.id, [1, 2, 3], {
      op: 'add',
      flags: ['\\Deleted'],
    });
    const copy = await f.mail.copy(f.alice, f.aliceId, inbox.id, [4, 5], archive.id);
    assert.deepEqual(copy.mapping, [
      [4, 1],
      [5, 2],
    ]);
    const checkpoint = (await f.mail.status(f.alice, f.aliceId, inbox.id)).highestModseq;
    const { expunged } = await f.mail.expunge(f.alice, f.aliceId, inbox.id);
    assert.deepEqual(expunged, [1, 2, 3]);
    await f.mail.renameMailbox(f.alice, f.aliceId, archive.id, 'Old/2026');
    const before = await f.mail.listMailboxes(f.alice, f.aliceId);
    await f.storage.close();

    f = await makeMail({ storage: await openStorage({ backend: 'level', dataDir: dir }) });
    assert.deepEqual(await f.mail.listMailboxes(f.alice, f.aliceId), before);
    const since = await f.mail.changesSince(f.alice, f.aliceId, inbox.id, checkpoint);
    assert.deepEqual(since.vanished, [1, 2, 3]);
    const next = await f.mail.append(
      f.alice,
      f.aliceId,
      inbox.id,
      message({ subject: 'after reopen' }),
    );
    assert.equal(next.uid, 21);
    assert.ok(next.modseq > since.highestModseq);
    const record = await f.mail.getMessage(f.alice, f.aliceId, archive.id, 1);
    const subject = record?.envelope.subject ?? '';
    assert.match(subject, /^<n\d+>$/);
    const result = await f.mail.search(f.alice, f.aliceId, archive.id, [
      { key: 'SUBJECT', value: subject },
    ]);
    assert.deepEqual(result.uids, [1]);
    const bytes = Buffer.from(await f.mail.readMessage(f.alice, f.aliceId, archive.id, 1));
    assert.ok(bytes.includes(`Subject: ${subject}`));
    await f.storage.close();
  });
});
