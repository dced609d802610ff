/**
 * Golden fixtures: client bytes -> expected typed command (or BAD), for every command the
 * parser knows, including lines captured from real clients.
 */

import assert from 'node:assert/strict';
import { CommandReader } from '../../../../src/protocols/imap/parser/command-reader.ts';
import type { ParseContext } from '../../../../src/protocols/imap/parser/args.ts';
import { MAX_NESTING } from '../../../../src/protocols/imap/parser/args.ts';
import { parseCommand } from '../../../../src/protocols/imap/parser/parse-command.ts';
import type { ParseResult } from '../../../../src/protocols/imap/parser/parse-command.ts';
import { parseSequenceSet } from '../../../../src/protocols/imap/parser/sequence-set.ts';
import type { SequenceSet } from '../../../../src/protocols/imap/parser/sequence-set.ts';

const enc = new TextEncoder();

function seq(text: string): SequenceSet {
  const set = parseSequenceSet(text);
  assert.ok(set !== undefined);
  return set;
}

/** A synchronizing literal: `{n}` CRLF data (n in UTF-8 octets). */
function lit(data: string, suffix = ''): string {
  return `{${String(enc.encode(data).length)}${suffix}}\r\n${data}`;
}

function bytes(s: string): Uint8Array {
  return enc.encode(s);
}

/** Read one command from `wire` (CRLF appended) and parse it. */
function parseWire(wire: string | Uint8Array, ctx: ParseContext = { utf8: false }): ParseResult {
  const reader = new CommandReader();
  reader.push(typeof wire === 'string' ? enc.encode(wire + '\r\n') : wire);
  const results: ParseResult[] = [];
  for (let ev = reader.next(); ev !== undefined; ev = reader.next()) {
    if (ev.kind === 'command') results.push(parseCommand(ev.command, ctx));
    else if (ev.kind === 'bad') results.push(ev);
    else assert.equal(ev.kind, 'continue');
  }
  assert.equal(results.length, 1, `one command in ${String(wire)}`);
  return results[0] as ParseResult;
}

type Fixture = readonly [wire: string, expected: object];

function runTable(fixtures: readonly Fixture[], ctx?: ParseContext): void {
  for (const [wire, expected] of fixtures) {
    const result = parseWire(wire, ctx);
    assert.deepEqual(result, { kind: 'command', tag: wire.split(' ')[0], command: expected }, wire);
  }
}

function assertBad(wires: readonly string[], ctx?: ParseContext): void {
  for (const wire of wires) {
    const result = parseWire(wire, ctx);
    assert.equal(result.kind, 'bad', wire);
    assert.ok(result.kind === 'bad');
    assert.equal(result.tag, wire.split(' ')[0], wire);
    assert.match(result.text, /^[\x20-\x7e]+$/, wire);
  }
}

describe('imap parseCommand golden fixtures', () => {
  it('commands without arguments', () => {
    runTable([
      ['a1 CAPABILITY', { name: 'CAPABILITY' }],
      ['a2 noop', { name: 'NOOP' }],
      ['a3 Logout', { name: 'LOGOUT' }],
      ['a4 STARTTLS', { name: 'STARTTLS' }],
      ['a5 IDLE', { name: 'IDLE' }],
      ['a6 CHECK', { name: 'CHECK' }],
      ['a7 CLOSE', { name: 'CLOSE' }],
      ['a8 UNSELECT', { name: 'UNSELECT' }],
      ['a9 NAMESPACE', { name: 'NAMESPACE' }],
      ['b1 NOOP ', { name: 'NOOP' }],
    ]);
    assertBad(['a1 NOOP extra', 'a2 CAPABILITY ()', 'a3 LOGOUT (x)']);
  });

  it('AUTHENTICATE with SASL-IR', () => {
    runTable([
      [
        'a1 AUTHENTICATE PLAIN',
        { name: 'AUTHENTICATE', mechanism: 'PLAIN', initialResponse: null },
      ],
      [
        'a2 authenticate plain AGJvYgBwdw==',
        { name: 'AUTHENTICATE', mechanism: 'PLAIN', initialResponse: bytes('\0bob\0pw') },
      ],
      [
        'a3 AUTHENTICATE PLAIN =',
        { name: 'AUTHENTICATE', mechanism: 'PLAIN', initialResponse: new Uint8Array(0) },
      ],
      [
        'a4 AUTHENTICATE LOGIN',
        { name: 'AUTHENTICATE', mechanism: 'LOGIN', initialResponse: null },
      ],
    ]);
    assertBad([
      'a1 AUTHENTICATE',
      'a2 AUTHENTICATE PLAIN !!!!',
      'a3 AUTHENTICATE PLAIN AGJvYg',
      'a4 AUTHENTICATE PLAIN = x',
    ]);
  });

  it('LOGIN with atoms, quoted strings and literals', () => {
    runTable([
      ['a1 LOGIN bob secret', { name: 'LOGIN', userid: 'bob', password: 'secret' }],
      [
        'a2 LOGIN "bob@example.com" "p a\\"ss\\\\"',
        { name: 'LOGIN', userid: 'bob@example.com', password: 'p a"ss\\' },
      ],
      [
        `a3 LOGIN ${lit('bob', '+')} ${lit('p\r\nw')}`,
        { name: 'LOGIN', userid: 'bob', password: 'p\r\nw' },
      ],
      ['a4 LOGIN "jörg" "pässword"', { name: 'LOGIN', userid: 'jörg', password: 'pässword' }],
    ]);
    assertBad([
      'a1 LOGIN bob',
      'a2 LOGIN',
      'a3 LOGIN (bob) pw',
      'a4 LOGIN bob pw x',
      'a5 LOGIN "bob pw',
    ]);
  });

  it('ENABLE', () => {
    runTable([
      [
        'a1 ENABLE CONDSTORE qresync UTF8=ACCEPT',
        { name: 'ENABLE', capabilities: ['CONDSTORE', 'QRESYNC', 'UTF8=ACCEPT'] },
      ],
      ['a2 ENABLE IMAP4rev2', { name: 'ENABLE', capabilities: ['IMAP4REV2'] }],
    ]);
    assertBad(['a1 ENABLE', 'a2 ENABLE "X"']);
  });

  it('SELECT / EXAMINE with CONDSTORE and QRESYNC', () => {
    const plain = { condstore: false, qresync: null };
    runTable([
      [
        'A3 SELECT INBOX (CONDSTORE)',
        { name: 'SELECT', mailbox: 'INBOX', condstore: true, qresync: null },
      ],
      ['a1 select inbox', { name: 'SELECT', mailbox: 'INBOX', ...plain }],
      ['a2 EXAMINE "Entw&APw-rfe"', { name: 'EXAMINE', mailbox: 'Entwürfe', ...plain }],
      [
        'A02 SELECT INBOX (QRESYNC (67890007 20050715194045000 41,43:211,214:541))',
        {
          name: 'SELECT',
          mailbox: 'INBOX',
          condstore: false,
          qresync: {
            uidValidity: 67890007,
            modSeq: 20050715194045000n,
            knownUids: seq('41,43:211,214:541'),
            seqMatch: null,
          },
        },
      ],
      [
        'B04 SELECT INBOX (QRESYNC (67890007 90060115194045000 1:29997 (5000,7500,9000,9990:9999 15000,22500,27000,29970,29973:29979)) CONDSTORE)',
        {
          name: 'SELECT',
          mailbox: 'INBOX',
          condstore: true,
          qresync: {
            uidValidity: 67890007,
            modSeq: 90060115194045000n,
            knownUids: seq('1:29997'),
            seqMatch: {
              sequences: seq('5000,7500,9000,9990:9999'),
              uids: seq('15000,22500,27000,29970,29973:29979'),
            },
          },
        },
      ],
      [
        'a5 SELECT INBOX (QRESYNC (1 2 (1:3 4:6)))',
        {
          name: 'SELECT',
          mailbox: 'INBOX',
          condstore: false,
          qresync: {
            uidValidity: 1,
            modSeq: 2n,
            knownUids: null,
            seqMatch: { sequences: seq('1:3'), uids: seq('4:6') },
          },
        },
      ],
    ]);
    assertBad([
      'a1 SELECT',
      'a2 SELECT INBOX (FOO)',
      'a3 SELECT INBOX ()',
      'a4 SELECT INBOX (QRESYNC (0 1))',
      'a5 SELECT INBOX (QRESYNC (1 0))',
      'a6 SELECT INBOX (QRESYNC (1 2 1:*))',
      'a7 SELECT "bad&mutf7"',
    ]);
  });

  it('CREATE (with USE), DELETE, RENAME, SUBSCRIBE, UNSUBSCRIBE', () => {
    runTable([
      ['a1 CREATE "Archive/2024"', { name: 'CREATE', mailbox: 'Archive/2024', specialUse: [] }],
      [
        'a2 CREATE MyDrafts (USE (\\drafts))',
        { name: 'CREATE', mailbox: 'MyDrafts', specialUse: ['\\Drafts'] },
      ],
      [
        'a3 CREATE Stuff (USE (\\Sent \\Archive))',
        { name: 'CREATE', mailbox: 'Stuff', specialUse: ['\\Sent', '\\Archive'] },
      ],
      ['a4 DELETE "Old Mail"', { name: 'DELETE', mailbox: 'Old Mail' }],
      ['a5 RENAME "Old" "New/Sub"', { name: 'RENAME', from: 'Old', to: 'New/Sub' }],
      [
        'a6 SUBSCRIBE &BB4EQgQ,BEAEMAQyBDsENQQ9BD0ESwQ1-',
        { name: 'SUBSCRIBE', mailbox: 'Отправленные' },
      ],
      ['a7 UNSUBSCRIBE {5}\r\nTrash', { name: 'UNSUBSCRIBE', mailbox: 'Trash' }],
    ]);
    assertBad([
      'a1 CREATE',
      'a2 CREATE x (FOO)',
      'a3 CREATE x (USE (Sent))',
      'a4 RENAME a',
      'a5 DELETE a b',
    ]);
  });

  it('LIST, LIST-EXTENDED, LIST-STATUS, SPECIAL-USE and LSUB', () => {
    const list = {
      name: 'LIST',
      selectOptions: [],
      returnOptions: [],
      returnStatus: null,
      extended: false,
    };
    runTable([
      ['a1 LIST "" *', { ...list, reference: '', patterns: ['*'] }],
      ['a2 list "" ""', { ...list, reference: '', patterns: [''] }],
      ['a3 LIST "" %', { ...list, reference: '', patterns: ['%'] }],
      [
        'a4 LIST INBOX/ "Entw&APw-rfe/*"',
        { ...list, reference: 'INBOX/', patterns: ['Entwürfe/*'] },
      ],
      [
        'a5 LIST (SUBSCRIBED) "" "*" RETURN (CHILDREN SPECIAL-USE)',
        {
          ...list,
          selectOptions: ['SUBSCRIBED'],
          reference: '',
          patterns: ['*'],
          returnOptions: ['CHILDREN', 'SPECIAL-USE'],
          extended: true,
        },
      ],
      [
        'a6 LIST "" "*" RETURN (SPECIAL-USE CHILDREN SUBSCRIBED STATUS (MESSAGES UNSEEN UIDNEXT SIZE HIGHESTMODSEQ))',
        {
          ...list,
          reference: '',
          patterns: ['*'],
          returnOptions: ['SPECIAL-USE', 'CHILDREN', 'SUBSCRIBED'],
          returnStatus: ['MESSAGES', 'UNSEEN', 'UIDNEXT', 'SIZE', 'HIGHESTMODSEQ'],
          extended: true,
        },
      ],
      [
        'a7 LIST (SPECIAL-USE RECURSIVEMATCH) "" ("INBOX" Archive/%)',
        {
          ...list,
          selectOptions: ['SPECIAL-USE', 'RECURSIVEMATCH'],
          reference: '',
          patterns: ['INBOX', 'Archive/%'],
          extended: true,
        },
      ],
      ['a8 LIST () "" * RETURN ()', { ...list, reference: '', patterns: ['*'], extended: true }],
      ['a9 LSUB "" "*"', { name: 'LSUB', reference: '', pattern: '*' }],
    ]);
    assertBad([
      'a1 LIST (RECURSIVEMATCH) "" *',
      'a2 LIST (FOO) "" *',
      'a3 LIST "" * RETURN (FOO)',
      'a4 LIST ""',
      'a5 LIST "" * FOO',
      'a6 LIST "" ()',
      'a7 LSUB ""',
    ]);
  });

  it('STATUS with every item', () => {
    runTable([
      [
        'a1 STATUS INBOX (MESSAGES UIDNEXT UIDVALIDITY UNSEEN DELETED SIZE HIGHESTMODSEQ APPENDLIMIT MAILBOXID RECENT)',
        {
          name: 'STATUS',
          mailbox: 'INBOX',
          items: [
            'MESSAGES',
            'UIDNEXT',
            'UIDVALIDITY',
            'UNSEEN',
            'DELETED',
            'SIZE',
            'HIGHESTMODSEQ',
            'APPENDLIMIT',
            'MAILBOXID',
            'RECENT',
          ],
        },
      ],
      [
        'a2 status "Sent" (messages messages)',
        { name: 'STATUS', mailbox: 'Sent', items: ['MESSAGES'] },
      ],
    ]);
    assertBad([
      'a1 STATUS INBOX ()',
      'a2 STATUS INBOX (FOO)',
      'a3 STATUS INBOX',
      'a4 STATUS (MESSAGES)',
    ]);
  });

  it('APPEND with flags, date-time, literal, literal8 and UTF8', () => {
    const message = 'From: a@b\r\nSubject: hi\r\n\r\nbody\r\n' + 'x'.repeat(91);
    assert.equal(message.length, 123);
    const append = { name: 'APPEND', date: null, binary: false, utf8: false };
    runTable([
      // mbsync
      [
        `A APPEND "INBOX" (\\Seen) {123+}\r\n${message}`,
        { ...append, mailbox: 'INBOX', flags: ['\\Seen'], message: bytes(message) },
      ],
      [
        `a2 APPEND Sent (\\Seen \\Draft $MDNSent) "17-Jul-1996 02:44:25 -0700" ${lit('hello')}`,
        {
          ...append,
          mailbox: 'Sent',
          flags: ['\\Seen', '\\Draft', '$MDNSent'],
          date: { date: new Date('1996-07-17T09:44:25Z'), zone: -420 },
          message: bytes('hello'),
        },
      ],
      [
        `a3 APPEND INBOX () ${lit('')}`,
        { ...append, mailbox: 'INBOX', flags: [], message: new Uint8Array(0) },
      ],
      [
        'a4 APPEND INBOX ~{3}\r\n\0\x01\x02',
        { ...append, mailbox: 'INBOX', flags: [], message: Uint8Array.of(0, 1, 2), binary: true },
      ],
      [
        'a5 APPEND INBOX UTF8 (~{3+}\r\nabc)',
        { ...append, mailbox: 'INBOX', flags: [], message: bytes('abc'), binary: true, utf8: true },
      ],
      [
        'a6 APPEND INBOX " 7-Jul-1996 02:44:25 +0000" {1}\r\nx',
        {
          ...append,
          mailbox: 'INBOX',
          flags: [],
          date: { date: new Date('1996-07-07T02:44:25Z'), zone: 0 },
          message: bytes('x'),
        },
      ],
    ]);
    assertBad([
      'a1 APPEND INBOX "text"',
      'a2 APPEND INBOX (\\Recent) {1}\r\nx',
      'a3 APPEND INBOX {1+}\r\nx {1+}\r\ny',
      'a4 APPEND INBOX "bad date" {1}\r\nx',
      'a5 APPEND INBOX UTF8 ({1}\r\nx)',
      'a6 APPEND INBOX',
    ]);
  });

  it('EXPUNGE and UID EXPUNGE', () => {
    runTable([
      ['a1 EXPUNGE', { name: 'EXPUNGE', uid: false, uids: null }],
      ['a2 UID EXPUNGE 3:5,7', { name: 'EXPUNGE', uid: true, uids: seq('3:5,7') }],
    ]);
    assertBad(['a1 UID EXPUNGE', 'a2 EXPUNGE 1:3', 'a3 UID EXPUNGE x']);
  });

  it('SEARCH with every key, CHARSET, RETURN and nesting', () => {
    const search = { name: 'SEARCH', uid: false, charset: null, returnOptions: null };
    runTable([
      ['a1 SEARCH ALL', { ...search, criteria: [{ key: 'ALL' }] }],
      ['a2 UID SEARCH UNSEEN', { ...search, uid: true, criteria: [{ key: 'UNSEEN' }] }],
      [
        'A282 SEARCH FLAGGED SINCE 1-Feb-1994 NOT FROM "Smith"',
        {
          ...search,
          criteria: [
            { key: 'FLAGGED' },
            { key: 'SINCE', date: { year: 1994, month: 2, day: 1 } },
            { key: 'NOT', operand: { key: 'FROM', value: 'Smith' } },
          ],
        },
      ],
      [
        `a3 SEARCH CHARSET utf-8 TEXT ${lit('Grüße')}`,
        { ...search, charset: 'UTF-8', criteria: [{ key: 'TEXT', value: 'Grüße' }] },
      ],
      [
        'a4 search or (from a to "b c") not (seen flagged)',
        {
          ...search,
          criteria: [
            {
              key: 'OR',
              left: {
                key: 'AND',
                operands: [
                  { key: 'FROM', value: 'a' },
                  { key: 'TO', value: 'b c' },
                ],
              },
              right: {
                key: 'NOT',
                operand: { key: 'AND', operands: [{ key: 'SEEN' }, { key: 'FLAGGED' }] },
              },
            },
          ],
        },
      ],
      [
        'a5 SEARCH RETURN (MIN MAX COUNT) UNDELETED',
        { ...search, returnOptions: ['MIN', 'MAX', 'COUNT'], criteria: [{ key: 'UNDELETED' }] },
      ],
      [
        'a6 UID SEARCH RETURN () 1:*',
        {
          ...search,
          uid: true,
          returnOptions: [],
          criteria: [{ key: 'SEQUENCE', set: seq('1:*') }],
        },
      ],
      [
        'a7 SEARCH RETURN (SAVE ALL) CHARSET UTF-8 DELETED',
        {
          ...search,
          charset: 'UTF-8',
          returnOptions: ['SAVE', 'ALL'],
          criteria: [{ key: 'DELETED' }],
        },
      ],
      ['a8 UID SEARCH UID $', { ...search, uid: true, criteria: [{ key: 'UID', set: seq('$') }] }],
      [
        'a9 SEARCH MODSEQ "/flags/\\\\draft" all 620162338',
        {
          ...search,
          criteria: [
            { key: 'MODSEQ', modSeq: 620162338n, entry: { name: '/flags/\\draft', type: 'all' } },
          ],
        },
      ],
      [
        'b1 UID SEARCH MODSEQ 12345',
        { ...search, uid: true, criteria: [{ key: 'MODSEQ', modSeq: 12345n, entry: null }] },
      ],
      [
        'b2 SEARCH HEADER Message-ID "<x@y>"',
        { ...search, criteria: [{ key: 'HEADER', field: 'Message-ID', value: '<x@y>' }] },
      ],
      [
        'b3 SEARCH ALL ANSWERED BCC x BEFORE 1-Jan-2020 BODY y CC z DELETED DRAFT FLAGGED FROM f ' +
          'HEADER h v KEYWORD $Junk LARGER 100 NEW NOT SEEN OLD ON 2-Jan-2020 OR ANSWERED DRAFT RECENT SEEN ' +
          'SENTBEFORE 3-Jan-2020 SENTON 4-Jan-2020 SENTSINCE "5-Jan-2020" SINCE 6-Jan-2020 SMALLER 5000 ' +
          'SUBJECT s TEXT t TO u UID 1:* UNANSWERED UNDELETED UNDRAFT UNFLAGGED UNKEYWORD $Seen UNSEEN 1,2 ' +
          'OLDER 3600 YOUNGER 60 EMAILID M123 THREADID T-9_x',
        {
          ...search,
          criteria: [
            { key: 'ALL' },
            { key: 'ANSWERED' },
            { key: 'BCC', value: 'x' },
            { key: 'BEFORE', date: { year: 2020, month: 1, day: 1 } },
            { key: 'BODY', value: 'y' },
            { key: 'CC', value: 'z' },
            { key: 'DELETED' },
            { key: 'DRAFT' },
            { key: 'FLAGGED' },
            { key: 'FROM', value: 'f' },
            { key: 'HEADER', field: 'h', value: 'v' },
            { key: 'KEYWORD', flag: '$Junk' },
            { key: 'LARGER', size: 100 },
            { key: 'NEW' },
            { key: 'NOT', operand: { key: 'SEEN' } },
            { key: 'OLD' },
            { key: 'ON', date: { year: 2020, month: 1, day: 2 } },
            { key: 'OR', left: { key: 'ANSWERED' }, right: { key: 'DRAFT' } },
            { key: 'RECENT' },
            { key: 'SEEN' },
            { key: 'SENTBEFORE', date: { year: 2020, month: 1, day: 3 } },
            { key: 'SENTON', date: { year: 2020, month: 1, day: 4 } },
            { key: 'SENTSINCE', date: { year: 2020, month: 1, day: 5 } },
            { key: 'SINCE', date: { year: 2020, month: 1, day: 6 } },
            { key: 'SMALLER', size: 5000 },
            { key: 'SUBJECT', value: 's' },
            { key: 'TEXT', value: 't' },
            { key: 'TO', value: 'u' },
            { key: 'UID', set: seq('1:*') },
            { key: 'UNANSWERED' },
            { key: 'UNDELETED' },
            { key: 'UNDRAFT' },
            { key: 'UNFLAGGED' },
            { key: 'UNKEYWORD', flag: '$Seen' },
            { key: 'UNSEEN' },
            { key: 'SEQUENCE', set: seq('1,2') },
            { key: 'OLDER', seconds: 3600 },
            { key: 'YOUNGER', seconds: 60 },
            { key: 'EMAILID', id: 'M123' },
            { key: 'THREADID', id: 'T-9_x' },
          ],
        },
      ],
    ]);
    assertBad([
      'a1 SEARCH',
      'a2 SEARCH FOO',
      'a3 SEARCH NOT',
      'a4 SEARCH (SEEN',
      'a5 SEARCH ()',
      'a6 SEARCH SINCE 32-Jan-2020',
      'a7 SEARCH RETURN (FOO) ALL',
      'a8 SEARCH OR SEEN',
      'a9 SEARCH CHARSET UTF-8',
      'b1 SEARCH ' + 'NOT '.repeat(MAX_NESTING + 1) + 'SEEN',
      'b2 SEARCH ' + '('.repeat(MAX_NESTING + 1) + 'SEEN' + ')'.repeat(MAX_NESTING + 1),
      'b3 SEARCH MODSEQ "/flags/\\\\seen" nope 5',
      'b4 SEARCH EMAILID "a b"',
      'b5 SEARCH LARGER -1',
    ]);
  });

  it('FETCH with every item, macros, sections, partials and modifiers', () => {
    const fetch = { name: 'FETCH', uid: false, macro: null, changedSince: null, vanished: false };
    const peekHeaderFields = (fields: string[]): object => ({
      item: 'BODY[]',
      peek: true,
      section: { part: [], text: { kind: 'HEADER.FIELDS', fields } },
      partial: null,
    });
    const appleFields = [
      'date',
      'subject',
      'from',
      'to',
      'cc',
      'message-id',
      'in-reply-to',
      'references',
      'content-type',
      'x-priority',
      'x-uniform-type-identifier',
      'x-universally-unique-identifier',
      'list-id',
      'list-unsubscribe',
      'bimi-indicator',
      'bimi-location',
      'x-bimi-indicator-hash',
      'authentication-results',
      'dkim-signature',
    ];
    runTable([
      // Thunderbird
      [
        '4 UID fetch 1:* (FLAGS)',
        { ...fetch, uid: true, sequence: seq('1:*'), items: [{ item: 'FLAGS' }] },
      ],
      // Apple Mail
      [
        `17 UID FETCH 1:1000 (INTERNALDATE UID RFC822.SIZE FLAGS BODY.PEEK[HEADER.FIELDS (${appleFields.join(' ')})])`,
        {
          ...fetch,
          uid: true,
          sequence: seq('1:1000'),
          items: [
            { item: 'INTERNALDATE' },
            { item: 'UID' },
            { item: 'RFC822.SIZE' },
            { item: 'FLAGS' },
            peekHeaderFields(appleFields),
          ],
        },
      ],
      [
        'a1 FETCH 1:3 ALL',
        {
          ...fetch,
          sequence: seq('1:3'),
          macro: 'ALL',
          items: [
            { item: 'FLAGS' },
            { item: 'INTERNALDATE' },
            { item: 'RFC822.SIZE' },
            { item: 'ENVELOPE' },
          ],
        },
      ],
      [
        'a2 FETCH * fast',
        {
          ...fetch,
          sequence: seq('*'),
          macro: 'FAST',
          items: [{ item: 'FLAGS' }, { item: 'INTERNALDATE' }, { item: 'RFC822.SIZE' }],
        },
      ],
      [
        'a3 FETCH 1 FULL',
        {
          ...fetch,
          sequence: seq('1'),
          macro: 'FULL',
          items: [
            { item: 'FLAGS' },
            { item: 'INTERNALDATE' },
            { item: 'RFC822.SIZE' },
            { item: 'ENVELOPE' },
            { item: 'BODY' },
          ],
        },
      ],
      [
        'a4 FETCH 2 BODY[]',
        {
          ...fetch,
          sequence: seq('2'),
          items: [
            { item: 'BODY[]', peek: false, section: { part: [], text: null }, partial: null },
          ],
        },
      ],
      [
        'a5 FETCH 2 (BODY[1.2.MIME] body.peek[TEXT]<0.2048> BODY[HEADER.FIELDS.NOT (Received "X-Spam")] BODY[3.HEADER] BODY[4.1])',
        {
          ...fetch,
          sequence: seq('2'),
          items: [
            {
              item: 'BODY[]',
              peek: false,
              section: { part: [1, 2], text: { kind: 'MIME' } },
              partial: null,
            },
            {
              item: 'BODY[]',
              peek: true,
              section: { part: [], text: { kind: 'TEXT' } },
              partial: { offset: 0, length: 2048 },
            },
            {
              item: 'BODY[]',
              peek: false,
              section: {
                part: [],
                text: { kind: 'HEADER.FIELDS.NOT', fields: ['Received', 'X-Spam'] },
              },
              partial: null,
            },
            {
              item: 'BODY[]',
              peek: false,
              section: { part: [3], text: { kind: 'HEADER' } },
              partial: null,
            },
            { item: 'BODY[]', peek: false, section: { part: [4, 1], text: null }, partial: null },
          ],
        },
      ],
      [
        'a6 FETCH 3 (BINARY.PEEK[1]<100.200> BINARY.SIZE[2] BINARY[] BINARY[1.2.3])',
        {
          ...fetch,
          sequence: seq('3'),
          items: [
            { item: 'BINARY[]', peek: true, part: [1], partial: { offset: 100, length: 200 } },
            { item: 'BINARY.SIZE[]', part: [2] },
            { item: 'BINARY[]', peek: false, part: [], partial: null },
            { item: 'BINARY[]', peek: false, part: [1, 2, 3], partial: null },
          ],
        },
      ],
      [
        'a7 FETCH 1 (RFC822 RFC822.HEADER RFC822.TEXT RFC822.SIZE ENVELOPE BODYSTRUCTURE BODY INTERNALDATE UID MODSEQ EMAILID THREADID)',
        {
          ...fetch,
          sequence: seq('1'),
          items: [
            'RFC822',
            'RFC822.HEADER',
            'RFC822.TEXT',
            'RFC822.SIZE',
            'ENVELOPE',
            'BODYSTRUCTURE',
            'BODY',
            'INTERNALDATE',
            'UID',
            'MODSEQ',
            'EMAILID',
            'THREADID',
          ].map((item) => ({ item })),
        },
      ],
      [
        'a8 UID FETCH 1:* (FLAGS) (CHANGEDSINCE 12345 VANISHED)',
        {
          ...fetch,
          uid: true,
          sequence: seq('1:*'),
          items: [{ item: 'FLAGS' }],
          changedSince: 12345n,
          vanished: true,
        },
      ],
      [
        'a9 FETCH 1:* (UID FLAGS) (CHANGEDSINCE 12345)',
        {
          ...fetch,
          sequence: seq('1:*'),
          items: [{ item: 'UID' }, { item: 'FLAGS' }],
          changedSince: 12345n,
        },
      ],
      // imapflow
      [
        'b1 UID FETCH 1:* (UID FLAGS BODYSTRUCTURE ENVELOPE INTERNALDATE RFC822.SIZE BODY.PEEK[])',
        {
          ...fetch,
          uid: true,
          sequence: seq('1:*'),
          items: [
            { item: 'UID' },
            { item: 'FLAGS' },
            { item: 'BODYSTRUCTURE' },
            { item: 'ENVELOPE' },
            { item: 'INTERNALDATE' },
            { item: 'RFC822.SIZE' },
            { item: 'BODY[]', peek: true, section: { part: [], text: null }, partial: null },
          ],
        },
      ],
      ['b2 FETCH $ (FLAGS)', { ...fetch, sequence: seq('$'), items: [{ item: 'FLAGS' }] }],
    ]);
    assertBad([
      'a1 FETCH 1 (FOO)',
      'a2 FETCH 1 BODY[MIME]',
      'a3 UID FETCH 1 (FLAGS) (VANISHED)',
      'a4 FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)',
      'a5 FETCH 1 BODY[]<0.0>',
      'a6 FETCH 1 ()',
      'a7 FETCH 0 FLAGS',
      'a8 FETCH 1 BODY[1.]',
      'a9 FETCH 1 BODY.PEEK',
      'b1 FETCH 1 BODY[HEADER.FIELDS ()]',
      'b2 FETCH 1 BODY[0]',
      'b3 FETCH 1 (FLAGS) (FOO)',
      'b4 FETCH 1 BINARY[TEXT]',
      'b5 FETCH 1 (ALL)',
      'b6 FETCH 1 BODY[TEXT',
      'b7 FETCH 1',
    ]);
  });

  it('STORE with +/-FLAGS(.SILENT) and UNCHANGEDSINCE', () => {
    const store = { name: 'STORE', uid: false, unchangedSince: null, silent: false };
    runTable([
      [
        'a1 STORE 2:4 +FLAGS (\\Deleted)',
        { ...store, sequence: seq('2:4'), operation: 'add', flags: ['\\Deleted'] },
      ],
      [
        'a2 UID STORE 1,3 -FLAGS.SILENT (\\Seen $Label1)',
        {
          ...store,
          uid: true,
          sequence: seq('1,3'),
          operation: 'remove',
          silent: true,
          flags: ['\\Seen', '$Label1'],
        },
      ],
      [
        'a3 STORE 1 FLAGS \\Seen \\flagged',
        { ...store, sequence: seq('1'), operation: 'set', flags: ['\\Seen', '\\Flagged'] },
      ],
      ['a4 STORE 1 flags ()', { ...store, sequence: seq('1'), operation: 'set', flags: [] }],
      [
        'a5 STORE 7,5,9 (UNCHANGEDSINCE 320162338) +FLAGS.SILENT (\\Deleted)',
        {
          ...store,
          sequence: seq('7,5,9'),
          unchangedSince: 320162338n,
          operation: 'add',
          silent: true,
          flags: ['\\Deleted'],
        },
      ],
      [
        'a6 UID STORE $ (UNCHANGEDSINCE 0) -FLAGS NonJunk',
        {
          ...store,
          uid: true,
          sequence: seq('$'),
          unchangedSince: 0n,
          operation: 'remove',
          flags: ['NonJunk'],
        },
      ],
    ]);
    assertBad([
      'a1 STORE 1 +FLAGS (\\Recent)',
      'a2 STORE 1 FOO (x)',
      'a3 STORE 1 (FOO 3) FLAGS (x)',
      'a4 STORE 1 +FLAGS',
      'a5 STORE 1 +FLAGS (\\Bogus)',
      'a6 STORE +FLAGS (x)',
    ]);
  });

  it('COPY, MOVE and their UID forms', () => {
    runTable([
      [
        'a1 COPY 2:4 MEETING',
        { name: 'COPY', uid: false, sequence: seq('2:4'), mailbox: 'MEETING' },
      ],
      [
        'a2 UID MOVE 42:69 "Trash"',
        { name: 'MOVE', uid: true, sequence: seq('42:69'), mailbox: 'Trash' },
      ],
      [
        'a3 uid copy 1,$ inbox',
        { name: 'COPY', uid: true, sequence: seq('1,$'), mailbox: 'INBOX' },
      ],
    ]);
    assertBad(['a1 COPY 1', 'a2 MOVE x Trash', 'a3 COPY 1 a b']);
  });

  it('ID', () => {
    runTable([
      [
        'a1 ID ("name" "Thunderbird" "version" "115.0")',
        {
          name: 'ID',
          params: [
            { field: 'name', value: 'Thunderbird' },
            { field: 'version', value: '115.0' },
          ],
        },
      ],
      ['a2 ID NIL', { name: 'ID', params: null }],
      [
        'a3 ID ("name" "imapflow" "vendor" NIL)',
        {
          name: 'ID',
          params: [
            { field: 'name', value: 'imapflow' },
            { field: 'vendor', value: null },
          ],
        },
      ],
      ['a4 ID ()', { name: 'ID', params: [] }],
    ]);
    assertBad(['a1 ID ("name")', 'a2 ID', 'a3 ID (NIL "x")', `a4 ID ("${'f'.repeat(31)}" "x")`]);
  });

  it('GETQUOTA, GETQUOTAROOT, SETQUOTA', () => {
    runTable([
      ['a1 GETQUOTA ""', { name: 'GETQUOTA', root: '' }],
      ['a2 GETQUOTAROOT INBOX', { name: 'GETQUOTAROOT', mailbox: 'INBOX' }],
      [
        'a3 SETQUOTA "" (STORAGE 512 message 1000)',
        {
          name: 'SETQUOTA',
          root: '',
          limits: [
            { resource: 'STORAGE', limit: 512n },
            { resource: 'MESSAGE', limit: 1000n },
          ],
        },
      ],
      ['a4 SETQUOTA "" ()', { name: 'SETQUOTA', root: '', limits: [] }],
    ]);
    assertBad(['a1 GETQUOTA', 'a2 SETQUOTA "" (STORAGE)', 'a3 SETQUOTA ""']);
  });

  it('answers unknown commands with a tagged BAD', () => {
    assert.deepEqual(parseWire('a1 FOO bar'), { kind: 'bad', tag: 'a1', text: 'Unknown command' });
    assert.deepEqual(parseWire('a2 UID FOO 1'), {
      kind: 'bad',
      tag: 'a2',
      text: 'Unknown UID command',
    });
    assertBad(['a3 UID', 'a4 UID NOOP', 'a5 NOTIFY NONE', 'a6 XLIST "" *']);
  });

  it('takes UTF-8 mailbox names once UTF8=ACCEPT is enabled', () => {
    const ctx = { utf8: true };
    runTable(
      [
        [
          'a1 SELECT "Entwürfe"',
          { name: 'SELECT', mailbox: 'Entwürfe', condstore: false, qresync: null },
        ],
        ['a2 CREATE "Tom&Jerry"', { name: 'CREATE', mailbox: 'Tom&Jerry', specialUse: [] }],
        ['a3 RENAME {6}\r\n台北 x', { name: 'RENAME', from: '台北', to: 'x' }],
      ],
      ctx,
    );
    assertBad(['a1 SELECT "a\\"b\rc"'], ctx);
  });
});
