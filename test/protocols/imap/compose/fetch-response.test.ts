import assert from 'node:assert/strict';
import { fetchResponse } from '../../../../src/protocols/imap/compose/fetch-response.ts';
import type { LazyBytes } from '../../../../src/protocols/imap/compose/response-writer.ts';
import { RFC_ENVELOPE, RFC_ENVELOPE_WIRE, TEXT_PLAIN } from './fixtures.ts';
import { wireText } from './wire-text.ts';

const enc = new TextEncoder();

describe('imap FETCH response composition', () => {
  it('matches the RFC example', () => {
    const parts = fetchResponse(12, [
      { item: 'FLAGS', flags: ['\\Seen'] },
      { item: 'INTERNALDATE', date: new Date('1996-07-17T09:44:25Z'), zone: -420 },
      { item: 'RFC822.SIZE', size: 4286 },
      { item: 'ENVELOPE', envelope: RFC_ENVELOPE },
      { item: 'BODY', body: TEXT_PLAIN },
    ]);
    assert.equal(
      wireText(parts),
      '* 12 FETCH (FLAGS (\\Seen) INTERNALDATE "17-Jul-1996 02:44:25 -0700" RFC822.SIZE 4286 ' +
        `ENVELOPE ${RFC_ENVELOPE_WIRE} BODY ("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 3028 92))\r\n`,
    );
  });

  it('names sections and partial origins, and sends data as literals by reference', () => {
    const header = enc.encode('Subject: hi\r\n\r\n');
    const parts = fetchResponse(3, [
      { item: 'UID', uid: 42 },
      {
        item: 'BODY[]',
        section: { part: [], text: { kind: 'HEADER.FIELDS', fields: ['date', 'subject', 'x y'] } },
        origin: null,
        data: header,
      },
      {
        item: 'BODY[]',
        section: { part: [1, 2], text: { kind: 'MIME' } },
        origin: null,
        data: null,
      },
      { item: 'BODY[]', section: { part: [], text: null }, origin: 100, data: enc.encode('') },
      { item: 'BODY[]', section: { part: [2], text: null }, origin: null, data: enc.encode('ab') },
    ]);
    assert.ok(parts.includes(header), 'header bytes not copied');
    assert.equal(
      wireText(parts),
      '* 3 FETCH (UID 42 BODY[HEADER.FIELDS (date subject "x y")] {15}\r\nSubject: hi\r\n\r\n' +
        ' BODY[1.2.MIME] NIL BODY[]<100> {0}\r\n BODY[2] {2}\r\nab)\r\n',
    );
  });

  it('writes BINARY as literal8, BINARY.SIZE, RFC822 items, MODSEQ and object ids', () => {
    const parts = fetchResponse(1, [
      { item: 'BINARY[]', part: [1], origin: 0, data: Uint8Array.of(0, 1) },
      { item: 'BINARY.SIZE[]', part: [1], size: 2 },
      { item: 'RFC822.HEADER', data: enc.encode('A: b\r\n\r\n') },
      { item: 'RFC822.TEXT', data: null },
      { item: 'MODSEQ', modSeq: 624140003n },
      { item: 'EMAILID', id: 'M6d99ac3275bb4e' },
      { item: 'THREADID', id: null },
      { item: 'BODYSTRUCTURE', body: TEXT_PLAIN },
    ]);
    assert.equal(
      wireText(parts),
      '* 1 FETCH (BINARY[1]<0> ~{2}\r\n\0\x01 BINARY.SIZE[1] 2 RFC822.HEADER {8}\r\nA: b\r\n\r\n ' +
        'RFC822.TEXT NIL MODSEQ (624140003) EMAILID (M6d99ac3275bb4e) THREADID NIL ' +
        'BODYSTRUCTURE ("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 3028 92 NIL NIL NIL NIL))\r\n',
    );
  });

  it('keeps lazily streamed bodies as their own part', async () => {
    const lazy: LazyBytes = {
      size: 6,
      async *open() {
        yield enc.encode('abc');
        yield enc.encode('def');
      },
    };
    const parts = fetchResponse(9, [
      { item: 'BODY[]', section: { part: [], text: null }, origin: null, data: lazy },
      { item: 'THREADID', id: 'T1' },
    ]);
    assert.equal(parts.length, 3);
    assert.equal(parts[1], lazy);
    assert.equal(new TextDecoder().decode(parts[0] as Uint8Array), '* 9 FETCH (BODY[] {6}\r\n');
    assert.equal(new TextDecoder().decode(parts[2] as Uint8Array), ' THREADID (T1))\r\n');
    const chunks: string[] = [];
    for await (const chunk of lazy.open()) chunks.push(new TextDecoder().decode(chunk));
    assert.equal(chunks.join(''), 'abcdef');
  });
});
