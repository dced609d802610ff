import assert from 'node:assert/strict';
import {
  ResponseWriter,
  needsLiteral,
} from '../../../../src/protocols/imap/compose/response-writer.ts';
import type { LazyBytes } from '../../../../src/protocols/imap/compose/response-writer.ts';
import { wireText } from './wire-text.ts';

const enc = new TextEncoder();

function written(write: (w: ResponseWriter) => void, utf8 = false): string {
  const w = new ResponseWriter({ utf8 });
  write(w);
  return wireText(w.parts());
}

describe('imap ResponseWriter', () => {
  it('quotes plain strings and escapes quote and backslash', () => {
    assert.equal(
      written((w) => w.string('hello world')),
      '"hello world"',
    );
    assert.equal(
      written((w) => w.string('a "b" \\c')),
      '"a \\"b\\" \\\\c"',
    );
    assert.equal(
      written((w) => w.string('')),
      '""',
    );
  });

  it('uses a literal for CR, LF, NUL and for 8-bit unless UTF8=ACCEPT', () => {
    assert.equal(
      written((w) => w.string('a\r\nb')),
      '{4}\r\na\r\nb',
    );
    assert.equal(
      written((w) => w.string('a\0b')),
      '{3}\r\na\0b',
    );
    assert.equal(
      written((w) => w.string('Grüße')),
      '{7}\r\nGrüße',
    );
    assert.equal(
      written((w) => w.string('Grüße'), true),
      '"Grüße"',
    );
    assert.equal(
      written((w) => w.string(enc.encode('Grüße')), true),
      '"Grüße"',
    );
    // Bytes that are not UTF-8 stay literal even in UTF-8 mode
    assert.equal(needsLiteral(Uint8Array.of(0x41, 0xff), true), true);
    assert.equal(needsLiteral('plain', false), false);
  });

  it('writes astrings as atoms when possible', () => {
    assert.equal(
      written((w) => w.astring('INBOX')),
      'INBOX',
    );
    assert.equal(
      written((w) => w.astring('foo]bar')),
      'foo]bar',
    );
    assert.equal(
      written((w) => w.astring('two words')),
      '"two words"',
    );
    assert.equal(
      written((w) => w.astring('NIL')),
      '"NIL"',
    );
    assert.equal(
      written((w) => w.astring('')),
      '""',
    );
    assert.equal(
      written((w) => w.astring('a(b')),
      '"a(b"',
    );
  });

  it('writes nstring, numbers, lists and mailbox names', () => {
    assert.equal(
      written((w) => w.nstring(null).sp().nstring('x')),
      'NIL "x"',
    );
    assert.equal(
      written((w) =>
        w
          .number(42)
          .sp()
          .number(2n ** 63n - 1n),
      ),
      '42 9223372036854775807',
    );
    assert.equal(
      written((w) => w.atomList(['\\Seen', '$Junk'])),
      '(\\Seen $Junk)',
    );
    assert.equal(
      written((w) => w.atomList([])),
      '()',
    );
    assert.equal(
      written((w) => w.mailbox('INBOX').sp().mailbox('Entwürfe')),
      'INBOX "Entw&APw-rfe"',
    );
    assert.equal(
      written((w) => w.mailbox('Entwürfe'), true),
      '"Entwürfe"',
    );
  });

  it('passes literal payloads through by reference', () => {
    const body = enc.encode('x'.repeat(1000));
    const lazy: LazyBytes = {
      size: 5,
      async *open() {
        yield enc.encode('hello');
      },
    };
    const w = new ResponseWriter();
    w.raw('A ').literal(body).raw(' B ').literal(lazy, true).crlf();
    const parts = w.parts();
    assert.equal(parts.length, 5);
    assert.equal(parts[1], body);
    assert.equal(parts[3], lazy);
    assert.equal(new TextDecoder().decode(parts[0] as Uint8Array), 'A {1000}\r\n');
    assert.equal(new TextDecoder().decode(parts[2] as Uint8Array), ' B ~{5}\r\n');
    assert.equal(new TextDecoder().decode(parts[4] as Uint8Array), '\r\n');
    assert.deepEqual(w.parts(), []);
  });
});
