/**
 * Parser fuzz test: random and mutated valid commands through the CommandReader and
 * parseCommand for a bounded time (IMAP_FUZZ_MS, default 10 s; IMAP_FUZZ_SEED to replay).
 * Properties: nothing throws, nothing hangs, every error carries a tag (when it had one)
 * and a one-line printable text that composes into exactly one response line, and mailbox
 * names survive compose -> parse.
 */

import assert from 'node:assert/strict';
import {
  taggedResponse,
  untaggedResponse,
} from '../../../src/protocols/imap/compose/response-line.ts';
import {
  ResponseWriter,
  partsToBytes,
} from '../../../src/protocols/imap/compose/response-writer.ts';
import { ArgReader } from '../../../src/protocols/imap/parser/args.ts';
import type { ParseContext } from '../../../src/protocols/imap/parser/args.ts';
import { CommandReader } from '../../../src/protocols/imap/parser/command-reader.ts';
import type { RawLiteral, ReaderEvent } from '../../../src/protocols/imap/parser/command-reader.ts';
import { parseCommand } from '../../../src/protocols/imap/parser/parse-command.ts';
import type { ParseResult } from '../../../src/protocols/imap/parser/parse-command.ts';
import { Rand } from '../../support/prng.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();

function lit(g: Rand, data: string): string {
  const n = enc.encode(data).length;
  return `${g.chance(0.2) ? '~' : ''}{${String(n)}${g.chance(0.5) ? '+' : ''}}\r\n${data}`;
}

function str(g: Rand): string {
  const text = g.pick([
    'INBOX',
    'Sent',
    'a b',
    'Entw&APw-rfe',
    'Grüße',
    '',
    'x"y\\z',
    'foo]bar',
    'NIL',
    '台北',
    '%*',
  ]);
  switch (g.int(3)) {
    case 0:
      return /^[A-Za-z0-9&\-\]]+$/.test(text)
        ? text
        : `"${text.replace(/[\\"]/g, (c) => '\\' + c)}"`;
    case 1:
      return `"${text.replace(/[\\"]/g, (c) => '\\' + c)}"`;
    default:
      return lit(g, text + (g.chance(0.3) ? '\r\nline' : ''));
  }
}

function seqSet(g: Rand): string {
  if (g.chance(0.1)) return '$';
  const num = (): string =>
    g.chance(0.2) ? '*' : String(1 + g.int(g.chance(0.1) ? 4294967295 : 50));
  return g.times(1, 4, () => (g.chance(0.5) ? `${num()}:${num()}` : num())).join(',');
}

function flags(g: Rand): string {
  return `(${g.times(0, 3, () => g.pick(['\\Seen', '\\deleted', '\\Flagged', '\\Draft', '\\Answered', '$Junk', 'NonJunk'])).join(' ')})`;
}

function date(g: Rand): string {
  return `${String(1 + g.int(28))}-${g.pick(['Jan', 'feb', 'MAR', 'Dec'])}-${String(1990 + g.int(40))}`;
}

function searchKey(g: Rand, depth: number): string {
  const simple = [
    'ALL',
    'ANSWERED',
    'DELETED',
    'DRAFT',
    'FLAGGED',
    'NEW',
    'OLD',
    'RECENT',
    'SEEN',
    'UNANSWERED',
    'UNDELETED',
    'UNDRAFT',
    'UNFLAGGED',
    'UNSEEN',
  ];
  if (depth > 3) return g.pick(simple);
  switch (g.int(10)) {
    case 0:
      return `${g.pick(['FROM', 'TO', 'CC', 'BCC', 'SUBJECT', 'BODY', 'TEXT'])} ${str(g)}`;
    case 1:
      return `${g.pick(['BEFORE', 'ON', 'SINCE', 'SENTBEFORE', 'SENTON', 'SENTSINCE'])} ${date(g)}`;
    case 2:
      return `HEADER ${str(g)} ${str(g)}`;
    case 3:
      return `${g.pick(['LARGER', 'SMALLER', 'OLDER', 'YOUNGER'])} ${String(1 + g.int(100000))}`;
    case 4:
      return g.chance(0.5) ? `UID ${seqSet(g)}` : seqSet(g);
    case 5:
      return `NOT ${searchKey(g, depth + 1)}`;
    case 6:
      return `OR ${searchKey(g, depth + 1)} ${searchKey(g, depth + 1)}`;
    case 7:
      return `(${g.times(1, 3, () => searchKey(g, depth + 1)).join(' ')})`;
    case 8:
      return g.chance(0.5)
        ? `MODSEQ ${String(g.int(1e9))}`
        : `MODSEQ "/flags/\\\\seen" all ${String(g.int(1e9))}`;
    default:
      return `${g.pick(['KEYWORD', 'UNKEYWORD'])} $Label${String(g.int(9))}`;
  }
}

function fetchAtt(g: Rand): string {
  const section = (): string => {
    const part = g.chance(0.5) ? g.times(1, 3, () => String(1 + g.int(5))).join('.') : '';
    const text = g.pick([
      '',
      'HEADER',
      'TEXT',
      'MIME',
      'HEADER.FIELDS (date subject)',
      'header.fields.not (received "x-y")',
    ]);
    return `[${part}${part && text ? '.' : ''}${text}]`;
  };
  const partial = (): string =>
    g.chance(0.3) ? `<${String(g.int(1000))}.${String(1 + g.int(1000))}>` : '';
  switch (g.int(4)) {
    case 0:
      return `BODY${g.chance(0.5) ? '.PEEK' : ''}${section()}${partial()}`;
    case 1:
      return `BINARY${g.pick(['', '.PEEK', '.SIZE'])}[${g.chance(0.5) ? '1.2' : ''}]${partial()}`;
    default:
      return g.pick([
        'FLAGS',
        'UID',
        'ENVELOPE',
        'BODYSTRUCTURE',
        'BODY',
        'INTERNALDATE',
        'RFC822',
        'RFC822.SIZE',
        'RFC822.HEADER',
        'RFC822.TEXT',
        'MODSEQ',
        'EMAILID',
        'THREADID',
      ]);
  }
}

/** One syntactically valid (or nearly valid) command line, without the tag. */
function validCommand(g: Rand): string {
  const mbox = (): string => str(g);
  switch (g.int(22)) {
    case 0:
      return g.pick([
        'CAPABILITY',
        'NOOP',
        'LOGOUT',
        'STARTTLS',
        'CHECK',
        'CLOSE',
        'UNSELECT',
        'NAMESPACE',
        'EXPUNGE',
      ]);
    case 1:
      return `LOGIN ${str(g)} ${str(g)}`;
    case 2:
      return `AUTHENTICATE ${g.pick(['PLAIN', 'LOGIN', 'XOAUTH2'])}${g.chance(0.5) ? ' AGJvYgBwdw==' : ''}`;
    case 3:
      return `ENABLE ${g.times(1, 3, () => g.pick(['CONDSTORE', 'QRESYNC', 'UTF8=ACCEPT', 'IMAP4rev2'])).join(' ')}`;
    case 4:
      return `${g.pick(['SELECT', 'EXAMINE'])} ${mbox()}${g.pick(['', ' (CONDSTORE)', ' (QRESYNC (1 2 1:5 (1,3 2,4)))', ' (QRESYNC (7 9))'])}`;
    case 5:
      return `CREATE ${mbox()}${g.chance(0.3) ? ' (USE (\\Sent \\drafts))' : ''}`;
    case 6:
      return `${g.pick(['DELETE', 'SUBSCRIBE', 'UNSUBSCRIBE', 'GETQUOTAROOT'])} ${mbox()}`;
    case 7:
      return `RENAME ${mbox()} ${mbox()}`;
    case 8:
      return `LIST ${g.pick(['', '(SUBSCRIBED) ', '(SPECIAL-USE RECURSIVEMATCH) ', '() '])}${str(g)} ${g.chance(0.3) ? `(${str(g)} %)` : g.pick(['*', '%', '""', 'INBOX/*'])}${g.pick(['', ' RETURN (CHILDREN)', ' RETURN (SPECIAL-USE SUBSCRIBED STATUS (MESSAGES UNSEEN SIZE))'])}`;
    case 9:
      return `LSUB ${str(g)} ${g.pick(['*', '%'])}`;
    case 10:
      return `STATUS ${mbox()} (${g.times(1, 4, () => g.pick(['MESSAGES', 'UIDNEXT', 'UIDVALIDITY', 'UNSEEN', 'SIZE', 'HIGHESTMODSEQ', 'MAILBOXID'])).join(' ')})`;
    case 11:
      return `APPEND ${mbox()}${g.chance(0.5) ? ' ' + flags(g) : ''}${g.chance(0.3) ? ' "17-Jul-1996 02:44:25 -0700"' : ''} ${lit(g, 'Subject: x\r\n\r\nbody\r\n')}`;
    case 12:
      return `${g.chance(0.5) ? 'UID ' : ''}SEARCH ${g.pick(['', 'RETURN (MIN MAX) ', 'RETURN () ', 'RETURN (SAVE) '])}${g.chance(0.3) ? 'CHARSET UTF-8 ' : ''}${g.times(1, 4, () => searchKey(g, 0)).join(' ')}`;
    case 13:
    case 14:
      return `${g.chance(0.5) ? 'UID ' : ''}FETCH ${seqSet(g)} ${g.chance(0.2) ? g.pick(['ALL', 'FAST', 'FULL']) : `(${g.times(1, 5, () => fetchAtt(g)).join(' ')})`}${g.pick(['', ' (CHANGEDSINCE 5)', ' (CHANGEDSINCE 5 VANISHED)'])}`;
    case 15:
      return `${g.chance(0.5) ? 'UID ' : ''}STORE ${seqSet(g)}${g.chance(0.3) ? ' (UNCHANGEDSINCE 3)' : ''} ${g.pick(['', '+', '-'])}FLAGS${g.chance(0.5) ? '.SILENT' : ''} ${flags(g)}`;
    case 16:
      return `${g.chance(0.5) ? 'UID ' : ''}${g.pick(['COPY', 'MOVE'])} ${seqSet(g)} ${mbox()}`;
    case 17:
      return `UID EXPUNGE ${seqSet(g)}`;
    case 18:
      return g.chance(0.5) ? `ID ("name" ${str(g)} "version" NIL)` : 'ID NIL';
    case 19:
      return g.pick(['GETQUOTA ""', 'SETQUOTA "" (STORAGE 512)', 'IDLE']);
    case 20:
      return `FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (${g.times(1, 8, () => g.pick(['date', 'subject', 'from', 'x-priority', 'list-id'])).join(' ')})])`;
    default:
      return g.pick(['XUNKNOWN', 'NOTIFY NONE', 'UID', 'UID FOO 1', 'SEARCH', 'FETCH']);
  }
}

const INTERESTING = [...'(){}[]<>"\\ *%$~+-.:,0123456789\r\nAZaz\0'].map((c) => c.charCodeAt(0));

function mutate(g: Rand, bytes: Uint8Array): Uint8Array {
  let out = [...bytes];
  const rounds = g.int(4);
  for (let i = 0; i < rounds; i++) {
    const at = g.int(out.length + 1);
    switch (g.int(8)) {
      case 0:
        if (out.length > 0) out[g.int(out.length)] = g.int(256);
        break;
      case 1:
        out.splice(at, 0, g.pick(INTERESTING));
        break;
      case 2:
        out.splice(at, 1 + g.int(8));
        break;
      case 3:
        out.splice(at, 0, ...out.slice(g.int(out.length + 1), g.int(out.length + 1)));
        break;
      case 4:
        out.splice(
          at,
          0,
          ...enc.encode(
            g.pick([
              '{3}\r\n',
              '{2+}\r\n',
              '~{1}\r\n',
              '{4294967296}\r\n',
              '{0}\r\n',
              '{99999999999999999999+}\r\n',
            ]),
          ),
        );
        break;
      case 5:
        out.splice(at, 0, 13, 10);
        break;
      case 6:
        out = out.slice(0, at);
        break;
      default:
        out.splice(at, 0, ...Array.from({ length: 1 + g.int(6) }, () => g.int(256)));
    }
  }
  return Uint8Array.from(out);
}

const TAG_RE = /^[\x21-\x7e]+$/;
const TEXT_RE = /^[\x20-\x7e]+$/;

function checkError(ev: { tag?: string; text: string }, context: () => string): void {
  assert.match(ev.text, TEXT_RE, context());
  if (ev.tag !== undefined) {
    assert.match(ev.tag, TAG_RE, context());
    assert.ok(!ev.tag.includes('+') && !ev.tag.includes('{') && !ev.tag.includes('"'), context());
  }
  const line = dec.decode(
    ev.tag === undefined
      ? untaggedResponse('BAD', ev.text)
      : taggedResponse(ev.tag, 'BAD', ev.text),
  );
  assert.equal(line.indexOf('\r'), line.length - 2, context());
  assert.equal(line.indexOf('\n'), line.length - 1, context());
}

/** compose(mailbox) -> parse must give the same name back. */
function checkMailboxRoundTrip(name: string, ctx: ParseContext, context: () => string): void {
  const w = new ResponseWriter(ctx);
  w.raw('r1 DELETE ').mailbox(name).crlf();
  const reader = new CommandReader();
  reader.push(partsToBytes(w.parts()));
  let parsed: ParseResult | undefined;
  for (let ev = reader.next(); ev !== undefined; ev = reader.next()) {
    if (ev.kind === 'command') parsed = parseCommand(ev.command, ctx);
  }
  assert.ok(parsed?.kind === 'command' && parsed.command.name === 'DELETE', context());
  assert.equal(parsed.command.mailbox, name, context());
}

function mailboxesOf(result: ParseResult): string[] {
  if (result.kind !== 'command') return [];
  const c = result.command;
  if ('mailbox' in c) return [c.mailbox];
  if (c.name === 'RENAME') return [c.from, c.to];
  return [];
}

describe('imap parser fuzz', function () {
  const budget = Number(process.env['IMAP_FUZZ_MS'] ?? 10000);
  const seed = Number(process.env['IMAP_FUZZ_SEED'] ?? Math.floor(Math.random() * 2 ** 31));
  this.timeout(budget + 30000);

  it(`survives random and mutated commands (seed ${String(seed)})`, () => {
    const g = new Rand(seed);
    const deadline = Date.now() + budget;
    let iterations = 0;
    let commands = 0;
    let bads = 0;
    let ok = 0;
    while (Date.now() < deadline) {
      iterations++;
      const ctx: ParseContext = { utf8: g.chance(0.3) };
      const options = g.chance(0.5)
        ? {}
        : {
            maxLineLength: 16 + g.int(512),
            maxLiteralSize: g.int(64),
            maxNonSyncLiteralSize: g.int(64),
            maxCommandSize: 32 + g.int(1024),
          };
      // A stream of commands, some mutated, fed in random chunks
      const pieces: Uint8Array[] = [];
      for (let i = 0, n = 1 + g.int(6); i < n; i++) {
        const tag = g.chance(0.95) ? `t${String(i)}` : g.pick(['+x', '"q"', '', '*', 'a{1}']);
        const cmd = enc.encode(`${tag} ${validCommand(g)}\r\n`);
        pieces.push(g.chance(0.4) ? mutate(g, cmd) : cmd);
      }
      const stream = Uint8Array.from(pieces.flatMap((p) => [...p]));
      const context = (): string =>
        `seed ${String(seed)} iteration ${String(iterations)} options ${JSON.stringify(options)} stream ${JSON.stringify(dec.decode(stream))}`;

      const reader = new CommandReader(options);
      const events: ReaderEvent[] = [];
      let pos = 0;
      let linesLeft = 0;
      while (pos < stream.length) {
        const size = 1 + g.int(g.chance(0.5) ? 8 : 512);
        reader.push(stream.subarray(pos, pos + size));
        pos += size;
        for (let ev = reader.next(); ev !== undefined; ev = reader.next()) {
          events.push(ev);
          assert.ok(events.length <= stream.length + 16, `too many events: ${context()}`);
          if (ev.kind === 'continue' && g.chance(0.1)) reader.abortCommand();
          if (ev.kind === 'line' && --linesLeft <= 0) reader.setMode('command');
          if (
            ev.kind === 'command' &&
            (ev.command.name === 'IDLE' || ev.command.name === 'AUTHENTICATE')
          ) {
            reader.setMode('line');
            linesLeft = 1 + g.int(2);
          }
        }
      }

      for (const ev of events) {
        if (ev.kind === 'bad' || ev.kind === 'no') {
          bads++;
          checkError(ev, context);
        } else if (ev.kind === 'command') {
          commands++;
          const result = parseCommand(ev.command, ctx);
          if (result.kind === 'bad') {
            bads++;
            assert.equal(result.tag, ev.command.tag, context());
            checkError(result, context);
          } else {
            ok++;
            assert.equal(result.tag, ev.command.tag, context());
            for (const name of mailboxesOf(result)) checkMailboxRoundTrip(name, ctx, context);
          }
        }
      }
    }
    if (process.env['IMAP_FUZZ_STATS'] !== undefined) {
      console.log({ iterations, commands, bads, ok });
    }
    assert.ok(iterations > 100, 'fuzz loop ran');
    assert.ok(commands > 0 && bads > 0, 'both valid and invalid input were exercised');
  });

  it('never throws on argument segments that do not match the grammar', () => {
    const g = new Rand(seed ^ 0x5bd1e995);
    const names = [
      'FETCH',
      'SEARCH',
      'STORE',
      'APPEND',
      'LIST',
      'SELECT',
      'LOGIN',
      'ID',
      'UID',
      'STATUS',
      'CREATE',
    ];
    const deadline = Date.now() + Math.min(2000, budget);
    while (Date.now() < deadline) {
      const lines: Uint8Array[] = [];
      const literals: RawLiteral[] = [];
      const segments = 1 + g.int(3);
      for (let i = 0; i < segments; i++) {
        const base = enc.encode(' ' + validCommand(g).split(' ').slice(1).join(' '));
        lines.push(mutate(g, base));
        if (i < segments - 1) {
          literals.push({
            data: mutate(g, enc.encode('lit')),
            binary: g.chance(0.3),
            sync: g.chance(0.5),
          });
        }
      }
      const raw = { tag: 'f1', name: g.pick(names), lines, literals, size: 0 };
      const result = parseCommand(raw, { utf8: g.chance(0.5) });
      if (result.kind === 'bad')
        checkError(
          result,
          () => `seed ${String(seed)} ${JSON.stringify(lines.map((l) => dec.decode(l)))}`,
        );
      // The tokenizer itself must also stay within bounds
      const r = new ArgReader(lines, literals, { utf8: false });
      assert.equal(typeof r.atEnd(), 'boolean');
    }
  });
});
