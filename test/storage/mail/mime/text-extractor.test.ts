import assert from 'node:assert/strict';
import { indexMessage } from '../../../../src/storage/mail/mime/mime-indexer.ts';
import { extractBodyText, headerText } from '../../../../src/storage/mail/mime/text-extractor.ts';
import { decodeQuotedPrintable } from '../../../../src/storage/mail/mime/transfer-encoding.ts';
import { parseMessageDate } from '../../../../src/storage/mail/mime/message-date.ts';
import { bytesOf, fixture, text, toCrlf } from './mime-fixtures.ts';

async function bodyText(bytes: Uint8Array, maxChars?: number): Promise<string> {
  const index = indexMessage(bytes);
  return extractBodyText(index.body, index.parts, async (s, e) => bytes.subarray(s, e), maxChars);
}

describe('text extraction for SEARCH', () => {
  it('decodes quoted-printable, base64 and charsets of text parts only', async () => {
    const t = await bodyText(toCrlf(fixture('alternative.eml')));
    assert.ok(t.includes('Café at noon? The naïve plan is fine.'), t);
    assert.ok(t.includes('<html><body><p>Café at noon?</p></body></html>'), t);
    const latin = await bodyText(toCrlf(fixture('rfc2231-params.eml')));
    assert.ok(latin.includes('Café'));
    assert.ok(!latin.includes('data'), 'application parts are not searched');
  });

  it('includes the headers and text of encapsulated messages', async () => {
    const t = await bodyText(toCrlf(fixture('nested-rfc822.eml')));
    assert.ok(t.includes('See below.'));
    assert.ok(t.includes('Subject: Lunch'));
    assert.ok(t.includes('<p>Lunch at 1?</p>'));
  });

  it('stops at maxChars', async () => {
    const msg = bytesOf(`Content-Type: text/plain\r\n\r\n${'x'.repeat(1000)}\r\n`);
    assert.ok((await bodyText(msg, 100)).length <= 100);
  });

  it('decodes header text', () => {
    const h = headerText(bytesOf('Subject: =?UTF-8?B?w4lsb2RpZQ==?=\r\nTo: a@b\r\n\r\n'));
    assert.equal(h, 'Subject: Élodie\nTo: a@b');
  });

  it('decodes soft line breaks and keeps bad escapes', () => {
    assert.equal(text(decodeQuotedPrintable(bytesOf('a=\r\nb=3Dc=zz=\nd='))), 'ab=c=zzd');
  });

  it('parses Date headers including obsolete forms', () => {
    const d = parseMessageDate('Wed, 17 Jul 1996 02:23:25 -0700 (PDT)');
    assert.deepEqual(d && [d.year, d.month, d.day, new Date(d.time).toISOString()], [
      1996,
      7,
      17,
      '1996-07-17T09:23:25.000Z',
    ]);
    const obs = parseMessageDate('5 Mar 26 08:00 EST');
    assert.deepEqual(obs && [obs.year, obs.month, obs.day, new Date(obs.time).toISOString()], [
      2026,
      3,
      5,
      '2026-03-05T13:00:00.000Z',
    ]);
    assert.equal(parseMessageDate('yesterday'), null);
    assert.equal(parseMessageDate('32 Jan 2020 00:00'), null);
  });
});
