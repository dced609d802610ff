import assert from 'node:assert/strict';
import { ArgReader } from '../../../../src/protocols/imap/parser/args.ts';
import { parseSearch } from '../../../../src/protocols/imap/parser/commands/search.ts';
import type { SearchKey } from '../../../../src/protocols/imap/parser/commands/search.ts';
import type { AppendResult, MailboxRecord } from '../../../../src/storage/mail/mail-types.ts';
import { makeMail } from '../mail-fixture.ts';
import type { MailFixture } from '../mail-fixture.ts';

/** SEARCH criteria through the real IMAP parser. */
function criteria(text: string): readonly SearchKey[] {
  const line = new Uint8Array(Buffer.from(` ${text}`, 'utf8'));
  return parseSearch(new ArgReader([line], [], { utf8: true }), true).criteria;
}

const crlf = (lines: string[]): Uint8Array =>
  new Uint8Array(Buffer.from(lines.join('\r\n'), 'utf8'));

const M1 = crlf([
  'From: =?UTF-8?B?w4lsb2RpZQ==?= <elodie@example.test>',
  'To: Bob <bob@example.test>',
  'Cc: carol@example.test',
  'Bcc: dave@example.test',
  'Subject: =?ISO-8859-1?Q?Caf=E9?= meeting',
  'Date: Mon, 02 Mar 2026 23:30:00 -0500',
  'Message-ID: <m1@example.test>',
  'X-Priority: 1',
  'Content-Type: text/plain; charset=utf-8',
  'Content-Transfer-Encoding: quoted-printable',
  '',
  'The na=C3=AFve plan is fine.',
  '',
]);

const M2 = crlf([
  'From: Bob <bob@example.test>',
  'To: Elodie <elodie@example.test>',
  'Subject: Lunch',
  'Message-ID: <m2@example.test>',
  'Content-Type: multipart/alternative; boundary=b',
  '',
  '--b',
  'Content-Type: text/plain',
  '',
  'see html',
  '--b',
  'Content-Type: text/html; charset=utf-8',
  'Content-Transfer-Encoding: base64',
  '',
  Buffer.from('<p>The secret password is <b>tea</b></p>' + ' '.repeat(500)).toString('base64'),
  '--b--',
  '',
]);

const M3 = crlf([
  'From: Elodie <elodie@example.test>',
  'To: Bob <bob@example.test>',
  'Subject: Re: Lunch',
  'Date: 10 Mar 2026 11:00 +0000',
  'Message-ID: <m3@example.test>',
  'In-Reply-To: <m2@example.test>',
  '',
  'Yes.',
  '',
]);

describe('MailService search', () => {
  let f: MailFixture;
  let box: MailboxRecord;
  const r: AppendResult[] = [];

  const search = async (text: string, view?: readonly number[]): Promise<readonly number[]> =>
    (
      await f.mail.search(
        f.alice,
        f.aliceId,
        box.id,
        criteria(text),
        view === undefined ? {} : { view },
      )
    ).uids;

  before(async () => {
    f = await makeMail();
    await f.mail.ensureDefaults(f.alice, f.aliceId);
    box = (await f.mail.findMailbox(f.alice, f.aliceId, 'INBOX')) as MailboxRecord;
    const add = (bytes: Uint8Array, flags: string[], iso: string, zone: number) =>
      f.mail.append(f.alice, f.aliceId, box.id, bytes, {
        flags,
        internalDate: new Date(iso),
        zone,
      });
    r.push(await add(M1, ['\\Seen', '\\Answered', '$Work'], '2026-03-05T10:00:00Z', 0));
    r.push(await add(M2, ['\\Flagged', '\\Draft'], '2026-03-09T23:30:00Z', 120));
    r.push(await add(M3, ['\\Deleted'], '2026-03-10T11:59:00Z', 0));
  });

  after(async () => {
    await f.storage.close();
  });

  it('matches flag keys, NEW/OLD/RECENT and keywords', async () => {
    const cases: [string, number[]][] = [
      ['ALL', [1, 2, 3]],
      ['ANSWERED', [1]],
      ['UNANSWERED', [2, 3]],
      ['DELETED', [3]],
      ['UNDELETED', [1, 2]],
      ['DRAFT', [2]],
      ['UNDRAFT', [1, 3]],
      ['FLAGGED', [2]],
      ['UNFLAGGED', [1, 3]],
      ['SEEN', [1]],
      ['UNSEEN', [2, 3]],
      ['NEW', []],
      ['OLD', [1, 2, 3]],
      ['RECENT', []],
      ['KEYWORD $Work', [1]],
      ['KEYWORD $work', [1]],
      ['UNKEYWORD $Work', [2, 3]],
      ['KEYWORD $Other', []],
    ];
    for (const [text, uids] of cases) assert.deepEqual(await search(text), uids, text);
  });

  it('matches decoded address and subject headers case-insensitively', async () => {
    const cases: [string, number[]][] = [
      ['FROM "élodie"', [1]],
      ['FROM ELODIE@EXAMPLE', [1, 3]],
      ['FROM bob', [2]],
      ['TO bob', [1, 3]],
      ['CC carol', [1]],
      ['BCC dave', [1]],
      ['CC nobody', []],
      ['SUBJECT "CAFÉ"', [1]],
      ['SUBJECT lunch', [2, 3]],
      ['SUBJECT ""', [1, 2, 3]],
    ];
    for (const [text, uids] of cases) assert.deepEqual(await search(text), uids, text);
  });

  it('matches decoded body text and whole-message text, and arbitrary headers', async () => {
    const cases: [string, number[]][] = [
      ['BODY "naïve plan"', [1]],
      ['BODY "secret password"', [2]],
      ['BODY "Subject"', []],
      ['BODY yes', [3]],
      ['TEXT "café"', [1]],
      ['TEXT "secret"', [2]],
      ['TEXT "in-reply-to: <m2@"', [3]],
      ['HEADER X-Priority 1', [1]],
      ['HEADER X-Priority ""', [1]],
      ['HEADER subject "caf"', [1]],
      ['HEADER In-Reply-To ""', [3]],
      ['HEADER X-Missing ""', []],
    ];
    for (const [text, uids] of cases) assert.deepEqual(await search(text), uids, text);
  });

  it('compares INTERNALDATE dates in their zone and Date headers as written', async () => {
    const cases: [string, number[]][] = [
      ['ON 10-Mar-2026', [2, 3]],
      ['BEFORE 10-Mar-2026', [1]],
      ['SINCE 6-Mar-2026', [2, 3]],
      ['ON 5-Mar-2026', [1]],
      ['SENTON 2-Mar-2026', [1]],
      ['SENTBEFORE 3-Mar-2026', [1]],
      // m2 has no Date header: its INTERNALDATE counts.
      ['SENTSINCE 10-Mar-2026', [2, 3]],
      ['SENTON 10-Mar-2026', [2, 3]],
    ];
    for (const [text, uids] of cases) assert.deepEqual(await search(text), uids, text);
  });

  it('matches sizes and OLDER/YOUNGER against the clock', async () => {
    const sizes = r.map((x) => x.size);
    assert.deepEqual(await search(`LARGER ${sizes[0]}`), [2]);
    assert.deepEqual(await search(`SMALLER ${sizes[0]}`), [3]);
    assert.deepEqual(await search(`LARGER ${sizes[2]} SMALLER ${sizes[1]}`), [1]);
    assert.deepEqual(await search('YOUNGER 3600'), [3]);
    assert.deepEqual(await search('OLDER 3600'), [1, 2]);
  });

  it('matches UID and sequence sets within the session view', async () => {
    assert.deepEqual(await search('UID 2:*'), [2, 3]);
    assert.deepEqual(await search('UID *'), [3]);
    assert.deepEqual(await search('UID 1,3'), [1, 3]);
    assert.deepEqual(await search('2:3'), [2, 3]);
    // The view: seq 1 = uid 3, seq 2 = uid 1; uid 2 is not in it (and 9 no longer exists).
    assert.deepEqual(await search('ALL', [3, 1, 9]), [1, 3]);
    assert.deepEqual(await search('1', [3, 1]), [3]);
    assert.deepEqual(await search('*', [3, 1]), [1]);
    assert.deepEqual(await search('UID *', [1, 2]), [2]);
  });

  it('combines keys with NOT, OR and parenthesised AND', async () => {
    const cases: [string, number[]][] = [
      ['NOT SEEN', [2, 3]],
      ['OR SEEN FLAGGED', [1, 2]],
      ['OR (SEEN ANSWERED) DELETED', [1, 3]],
      ['NOT (OR SEEN (FLAGGED DRAFT))', [3]],
      ['UNSEEN SUBJECT lunch NOT DELETED', [2]],
      ['OR BODY "secret" FROM "élodie"', [1, 2]],
      ['NOT OR KEYWORD $Work BODY tea', [3]],
    ];
    for (const [text, uids] of cases) assert.deepEqual(await search(text), uids, text);
  });

  it('matches MODSEQ, EMAILID and THREADID', async () => {
    const touched = await f.mail.store(f.alice, f.aliceId, box.id, [3], {
      op: 'add',
      flags: ['$Seen2'],
    });
    const result = await f.mail.search(
      f.alice,
      f.aliceId,
      box.id,
      criteria(`MODSEQ ${touched.modseq}`),
    );
    assert.deepEqual(result, { uids: [3], highestModseq: touched.modseq });
    assert.deepEqual(await search(`MODSEQ "/flags/\\\\Seen" all ${r[1]?.modseq}`), [2, 3]);
    assert.deepEqual(await search(`EMAILID ${r[0]?.emailId}`), [1]);
    assert.deepEqual(await search(`THREADID ${r[1]?.threadId}`), [2, 3]);
    assert.deepEqual(await search('THREADID nope'), []);
    const none = await f.mail.search(f.alice, f.aliceId, box.id, criteria('KEYWORD none'));
    assert.deepEqual(none, { uids: [], highestModseq: null });
  });
});
