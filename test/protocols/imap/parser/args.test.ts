import assert from 'node:assert/strict';
import { isCommuneError } from '../../../../src/core/errors.ts';
import {
  ArgReader,
  MAX_NESTING,
  decodeMailboxName,
  parseDateText,
  parseDateTime,
} from '../../../../src/protocols/imap/parser/args.ts';
import type { ParseContext } from '../../../../src/protocols/imap/parser/args.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();
const rev1: ParseContext = { utf8: false };
const utf8: ParseContext = { utf8: true };

/** A reader over `line` plus literal segments: reader('a {3}', 'xyz', ' b'). */
function reader(first: string, ...rest: string[]): ArgReader {
  const lines = [enc.encode(first)];
  const literals = [];
  for (let i = 0; i < rest.length; i += 2) {
    literals.push({ data: enc.encode(rest[i] ?? ''), binary: false, sync: true });
    lines.push(enc.encode(rest[i + 1] ?? ''));
  }
  return new ArgReader(lines, literals, rev1);
}

function syntaxFails(fn: () => unknown): void {
  assert.throws(fn, (err: unknown) => isCommuneError(err, 'invalid-argument'));
}

describe('imap ArgReader', () => {
  it('reads atoms, keywords and numbers', () => {
    const r = reader('Foo.Bar 42 x 4294967295 9223372036854775807');
    assert.equal(r.atom(), 'Foo.Bar');
    r.sp();
    assert.equal(r.number(), 42);
    r.sp();
    assert.equal(r.tryKeyword('X'), true);
    r.sp();
    assert.equal(r.nzNumber(), 4294967295);
    r.sp();
    assert.equal(r.number64(), 9223372036854775807n);
    r.end();
    syntaxFails(() => reader('4294967296').number());
    syntaxFails(() => reader('0').nzNumber());
    syntaxFails(() => reader('9223372036854775808').number64());
    syntaxFails(() => reader('(').atom());
  });

  it('does not match a keyword that is only a prefix', () => {
    const r = reader('NILS');
    assert.equal(r.tryKeyword('NIL'), false);
    assert.equal(r.atom(), 'NILS');
  });

  it('reads quoted strings with escapes and keeps 8-bit bytes', () => {
    assert.equal(dec.decode(reader('"a \\"b\\" \\\\ c"').quoted()), 'a "b" \\ c');
    assert.equal(dec.decode(reader('"Grüße"').quoted()), 'Grüße');
    assert.equal(dec.decode(reader('""').quoted()), '');
    syntaxFails(() => reader('"abc').quoted());
    syntaxFails(() => reader('"a\\nb"').quoted());
  });

  it('reads literals in place of strings and continues after them', () => {
    const r = reader(' {5}', 'he"l)', ' "x" {0}', '', '');
    r.sp();
    assert.equal(dec.decode(r.astring()), 'he"l)');
    r.sp();
    assert.equal(dec.decode(r.string()), 'x');
    r.sp();
    assert.equal(dec.decode(r.string()), '');
    r.end();
    // A brace that is not the announced literal is an error
    syntaxFails(() => reader('{5} x').string());
    syntaxFails(() => reader('{x}', 'abc', '').string());
  });

  it('only takes literal8 where allowed', () => {
    const lines = [enc.encode('~{2}'), enc.encode('')];
    const literals = [{ data: Uint8Array.of(0, 1), binary: true, sync: true }];
    assert.deepEqual(new ArgReader(lines, literals, rev1).literal(true).data, Uint8Array.of(0, 1));
    syntaxFails(() => new ArgReader(lines, literals, rev1).string());
  });

  it('reads astring, nstring and NIL', () => {
    const r = reader('foo]bar NIL "NIL" {3}', 'NIL', '');
    assert.equal(dec.decode(r.astring()), 'foo]bar');
    r.sp();
    assert.equal(r.nstring(), null);
    r.sp();
    assert.equal(dec.decode(r.nstring() ?? new Uint8Array()), 'NIL');
    r.sp();
    assert.equal(dec.decode(r.nstring() ?? new Uint8Array()), 'NIL');
    syntaxFails(() => reader('(x)').astring());
  });

  it('reads lists with bounded nesting', () => {
    const flat = reader('( a b  c)');
    assert.deepEqual(
      flat.list(() => flat.atom()),
      ['a', 'b', 'c'],
    );
    const r = reader('(a (b c) ())');
    const parse = (): unknown => (r.peek() === 0x28 ? r.list(parse) : r.atom());
    assert.deepEqual(parse(), ['a', ['b', 'c'], []]);
    const deep = reader('('.repeat(MAX_NESTING + 1) + ')'.repeat(MAX_NESTING + 1));
    const nest = (): unknown => deep.list(nest);
    syntaxFails(nest);
    syntaxFails(() => reader('()').list(() => 1, false));
    const open = reader('(a');
    syntaxFails(() => open.list(() => open.atom()));
  });

  it('reads flags with canonical system flag casing', () => {
    assert.deepEqual(reader('(\\seen \\DELETED $Forwarded \\Custom)').flagList(), [
      '\\Seen',
      '\\Deleted',
      '$Forwarded',
      '\\Custom',
    ]);
    syntaxFails(() => reader('(\\*)').flagList());
  });

  it('reads sequence sets including "$"', () => {
    const r = reader('1:*,3 $');
    assert.deepEqual(r.sequenceSet(), {
      ranges: [
        { start: 1, end: '*' },
        { start: 3, end: 3 },
      ],
      saved: false,
    });
    r.sp();
    assert.deepEqual(r.sequenceSet(), { ranges: [], saved: true });
    syntaxFails(() => reader('0:3').sequenceSet());
    syntaxFails(() => reader('x').sequenceSet());
  });

  it('decodes mailbox names: INBOX, modified UTF-7, UTF-8 mode', () => {
    assert.equal(reader('inbox').mailbox(), 'INBOX');
    assert.equal(reader('"InBoX"').mailbox(), 'INBOX');
    assert.equal(reader('INBOX/Sub').mailbox(), 'INBOX/Sub');
    assert.equal(reader('Entw&APw-rfe').mailbox(), 'Entwürfe');
    assert.equal(reader('"Tom &- Jerry"').mailbox(), 'Tom & Jerry');
    // A rev1 client sending raw UTF-8 is tolerated
    assert.equal(reader('"Entwürfe"').mailbox(), 'Entwürfe');
    syntaxFails(() => reader('"bad&name"').mailbox());
    // UTF8=ACCEPT: names are UTF-8 and "&" is literal
    assert.equal(decodeMailboxName(enc.encode('Entw&APw-rfe'), utf8), 'Entw&APw-rfe');
    assert.equal(decodeMailboxName(enc.encode('台北'), utf8), '台北');
    syntaxFails(() => decodeMailboxName(Uint8Array.of(0xff, 0x41), utf8));
    syntaxFails(() => decodeMailboxName(enc.encode('a\rb'), utf8));
  });

  it('reads LIST patterns with wildcards', () => {
    const r = reader('INBOX.%/* "Entw&APw-rfe/*"');
    assert.equal(r.listMailbox(), 'INBOX.%/*');
    r.sp();
    assert.equal(r.listMailbox(), 'Entwürfe/*');
  });

  it('parses dates and date-times', () => {
    assert.deepEqual(parseDateText('1-Feb-1994'), { year: 1994, month: 2, day: 1 });
    assert.deepEqual(parseDateText('29-feb-2024'), { year: 2024, month: 2, day: 29 });
    assert.equal(parseDateText('29-Feb-2023'), undefined);
    assert.equal(parseDateText('1-Foo-1994'), undefined);
    assert.equal(parseDateText('001-Feb-1994'), undefined);
    assert.deepEqual(reader('"5-Mar-2020"').date(), { year: 2020, month: 3, day: 5 });
    const dt = parseDateTime(' 7-Jul-1996 02:44:25 -0700');
    assert.deepEqual(dt, { date: new Date('1996-07-07T09:44:25Z'), zone: -420 });
    assert.deepEqual(
      parseDateTime('17-Jul-1996 02:44:25 +0530')?.date,
      new Date('1996-07-16T21:14:25Z'),
    );
    assert.equal(parseDateTime('17-Jul-1996 24:00:00 +0000'), undefined);
    assert.equal(parseDateTime('17-Jul-1996 02:44:25'), undefined);
    assert.deepEqual(reader('"17-Jul-1996 02:44:25 +0000"').dateTime().zone, 0);
  });

  it('tolerates runs of spaces and trailing spaces, but not extra arguments', () => {
    const r = reader('a   b  ');
    r.atom();
    r.sp();
    r.atom();
    r.end();
    const extra = reader('a b');
    extra.atom();
    syntaxFails(() => extra.end());
  });
});
