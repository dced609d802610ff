/**
 * Reading message bytes (MailService.readMessage / openMessage) by UID or by the record the
 * service returned: whole or by range, small (read in one piece) and large (streamed), and
 * access checked either way.
 */

import assert from 'node:assert/strict';
import type { Readable } from 'node:stream';
import { isCommuneError } from '../../../src/core/errors.ts';
import type { MailboxRecord, MessageRecord } from '../../../src/storage/mail/mail-types.ts';
import { makeMail, message } from './mail-fixture.ts';
import type { MailFixture } from './mail-fixture.ts';

async function drain(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('MailService message bytes by record', () => {
  let f: MailFixture;
  let box: MailboxRecord;
  const sources: Uint8Array[] = [];
  const records: MessageRecord[] = [];

  before(async () => {
    f = await makeMail();
    await f.mail.ensureDefaults(f.alice, f.aliceId);
    box = (await f.mail.findMailbox(f.alice, f.aliceId, 'INBOX')) as MailboxRecord;
    sources.push(message({ subject: 'small', body: 'Short body.' }));
    const line = 'large body line with some text in it, repeated many times over\r\n';
    sources.push(message({ subject: 'large', body: line.repeat(4000) }));
    for (const bytes of sources) {
      const { uid } = await f.mail.append(f.alice, f.aliceId, box.id, bytes);
      records.push((await f.mail.getMessage(f.alice, f.aliceId, box.id, uid)) as MessageRecord);
    }
    assert.ok((sources[1]?.length ?? 0) > 128 * 1024);
  });

  after(async () => {
    await f.storage.close();
  });

  it('reads whole messages and ranges alike by UID and by record', async () => {
    for (const [i, record] of records.entries()) {
      const bytes = Buffer.from(sources[i] as Uint8Array);
      const ranges = [
        undefined,
        { start: 0, end: record.parts.b },
        { start: record.parts.b, end: record.size },
        { start: 7, end: 7 },
        { start: record.size - 3, end: record.size },
      ];
      for (const range of ranges) {
        const wanted = range === undefined ? bytes : bytes.subarray(range.start, range.end);
        const read = (message: number | MessageRecord) =>
          f.mail.readMessage(f.alice, f.aliceId, box.id, message, range);
        const open = (message: number | MessageRecord) =>
          f.mail.openMessage(f.alice, f.aliceId, box.id, message, range);
        assert.deepEqual(Buffer.from(await read(record.uid)), wanted);
        assert.deepEqual(Buffer.from(await read(record)), wanted);
        assert.deepEqual(await drain(await open(record)), wanted);
      }
    }
  });

  it('checks access when given a record', async () => {
    const record = records[0] as MessageRecord;
    for (const attempt of [
      f.mail.readMessage(f.bob, f.aliceId, box.id, record),
      f.mail.openMessage(f.bob, f.aliceId, box.id, record),
    ]) {
      await assert.rejects(attempt, (err) => isCommuneError(err, 'forbidden'));
    }
  });
});
