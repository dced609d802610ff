import assert from 'node:assert/strict';
import { writeBodyStructure } from '../../../../src/protocols/imap/compose/body-structure.ts';
import type { BodyStructure } from '../../../../src/protocols/imap/compose/body-structure.ts';
import { ResponseWriter } from '../../../../src/protocols/imap/compose/response-writer.ts';
import { MIXED, RFC_ENVELOPE, RFC_ENVELOPE_WIRE, TEXT_PLAIN, part } from './fixtures.ts';
import { wireText } from './wire-text.ts';

function wire(body: BodyStructure, extended: boolean): string {
  const w = new ResponseWriter();
  writeBodyStructure(w, body, extended);
  return wireText(w.parts());
}

describe('imap BODY / BODYSTRUCTURE composition', () => {
  it('writes a text part (RFC example) in both forms', () => {
    assert.equal(
      wire(TEXT_PLAIN, false),
      '("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 3028 92)',
    );
    assert.equal(
      wire(TEXT_PLAIN, true),
      '("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 3028 92 NIL NIL NIL NIL)',
    );
  });

  it('writes a multipart (RFC example) with and without extension data', () => {
    const parts =
      '("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 1152 23)' +
      '("TEXT" "PLAIN" ("CHARSET" "US-ASCII" "NAME" "cc.diff") "<960723163407.20117h@cac.washington.edu>" "Compiler diff" "BASE64" 4554 73)';
    assert.equal(wire(MIXED, false), `(${parts} "MIXED")`);
    const extParts = parts
      .replace(/ 23\)/, ' 23 NIL NIL NIL NIL)')
      .replace(/ 73\)/, ' 73 NIL NIL NIL NIL)');
    assert.equal(wire(MIXED, true), `(${extParts} "MIXED" ("BOUNDARY" "xyz") NIL NIL NIL)`);
  });

  it('writes non-text parts without lines and with disposition, language, location', () => {
    const pdf = part({
      type: 'application',
      subtype: 'pdf',
      params: [['name', 'a.pdf']],
      encoding: 'base64',
      size: 1000,
      lines: 13,
      md5: 'Q2hlY2sgSW50ZWdyaXR5IQ==',
      disposition: { type: 'attachment', params: [['filename', 'a.pdf']] },
      language: ['en', 'de'],
      location: 'http://example.com/a.pdf',
    });
    assert.equal(wire(pdf, false), '("application" "pdf" ("name" "a.pdf") NIL NIL "base64" 1000)');
    assert.equal(
      wire(pdf, true),
      '("application" "pdf" ("name" "a.pdf") NIL NIL "base64" 1000 "Q2hlY2sgSW50ZWdyaXR5IQ==" ' +
        '("attachment" ("filename" "a.pdf")) ("en" "de") "http://example.com/a.pdf")',
    );
    assert.ok(wire({ ...pdf, language: ['en'] }, true).includes(' "en" "http'));
  });

  it('writes message/rfc822 with the inner envelope, body and lines', () => {
    const rfc822 = part({
      type: 'MESSAGE',
      subtype: 'RFC822',
      size: 4000,
      lines: 80,
      message: { envelope: RFC_ENVELOPE, body: TEXT_PLAIN },
    });
    const inner = '("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 3028 92)';
    assert.equal(
      wire(rfc822, false),
      `("MESSAGE" "RFC822" NIL NIL NIL "7BIT" 4000 ${RFC_ENVELOPE_WIRE} ${inner} 80)`,
    );
    // Without a parsed inner message it is written as a basic part
    assert.equal(
      wire({ ...rfc822, message: null }, false),
      '("MESSAGE" "RFC822" NIL NIL NIL "7BIT" 4000)',
    );
  });

  it('never writes a multipart without parts', () => {
    const empty: BodyStructure = { ...MIXED, parts: [] };
    assert.equal(wire(empty, false), '(("text" "plain" NIL NIL NIL "7bit" 0 0) "MIXED")');
  });
});
