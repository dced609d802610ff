/**
 * Session fuzz test: random and mutated commands, pipelined, against a live server for a
 * bounded time (IMAP_SESSION_FUZZ_MS, default 3 s; IMAP_SESSION_FUZZ_SEED to replay).
 * Properties: every byte the server sends parses as well-formed responses (tagged, untagged
 * or continuation lines, literals of the announced size), every batch is followed by an
 * answered NOOP (no hang, the session stays in sync), and the server keeps serving other
 * connections.
 */

import assert from 'node:assert/strict';
import net from 'node:net';
import { Rand } from '../../support/prng.ts';
import { errorLog } from '../../support/error-log.ts';
import { message, startImap } from './imap-fixture.ts';
import type { ImapFixture } from './imap-fixture.ts';

const FUZZ_MS = Number(process.env.IMAP_SESSION_FUZZ_MS ?? 3000);
const SEED = Number(process.env.IMAP_SESSION_FUZZ_SEED ?? Date.now() % 1_000_000);

const MAILBOXES = ['INBOX', 'Fuzz', '"Fuzz/Sub"', 'Nope', '"a b"', '"Entw&APw-rfe"', '""', '%'];
const SETS = ['1', '1:*', '*', '2,4:6', '$', '1:4294967295', '0', '3:1'];
const ITEMS = [
  'FLAGS',
  'UID',
  'ENVELOPE',
  'BODYSTRUCTURE',
  'BODY',
  'RFC822.SIZE',
  'INTERNALDATE',
  'BODY.PEEK[]',
  'BODY[HEADER.FIELDS (SUBJECT)]',
  'BODY.PEEK[1]<0.10>',
  'BINARY.PEEK[1]',
  'BINARY.SIZE[1]',
  'MODSEQ',
  'EMAILID',
  'RFC822',
  'ALL',
  'FAST',
];
const TEMPLATES: readonly ((r: Rand) => string)[] = [
  () => 'NOOP',
  () => 'CAPABILITY',
  (r) => `SELECT ${r.pick(MAILBOXES)}${r.chance(0.2) ? ' (CONDSTORE)' : ''}`,
  (r) => `EXAMINE ${r.pick(MAILBOXES)}`,
  (r) => `CREATE ${r.pick(MAILBOXES)}`,
  (r) => `DELETE ${r.pick(MAILBOXES)}`,
  (r) => `RENAME ${r.pick(MAILBOXES)} ${r.pick(MAILBOXES)}`,
  (r) => `SUBSCRIBE ${r.pick(MAILBOXES)}`,
  (r) =>
    `LIST "" ${r.pick(['*', '%', '"F*"', '""'])}${r.chance(0.3) ? ' RETURN (STATUS (MESSAGES SIZE))' : ''}`,
  (r) => `LSUB "" ${r.pick(['*', '%'])}`,
  (r) => `STATUS ${r.pick(MAILBOXES)} (MESSAGES UIDNEXT UNSEEN HIGHESTMODSEQ)`,
  (r) => `${r.pick(['', 'UID '])}FETCH ${r.pick(SETS)} (${r.pickN(ITEMS, 3).join(' ')})`,
  (r) =>
    `${r.pick(['', 'UID '])}STORE ${r.pick(SETS)} ${r.pick(['+', '-', ''])}FLAGS${r.pick(['', '.SILENT'])} (${r.pick(['\\Seen', '\\Deleted', '$Kw', '\\Flagged \\Draft'])})`,
  (r) =>
    `${r.pick(['', 'UID '])}SEARCH ${r.pick(['ALL', 'UNSEEN', 'SUBJECT fuzz', 'RETURN (MIN MAX COUNT SAVE) ALL', 'OR SEEN NOT DELETED', 'MODSEQ 1', 'UID $'])}`,
  (r) => `${r.pick(['', 'UID '])}${r.pick(['COPY', 'MOVE'])} ${r.pick(SETS)} ${r.pick(MAILBOXES)}`,
  (r) => r.pick(['EXPUNGE', 'UID EXPUNGE 1:3', 'CLOSE', 'UNSELECT', 'CHECK']),
  (r) =>
    `APPEND ${r.pick(MAILBOXES)} ${r.chance(0.5) ? '(\\Seen) ' : ''}\u0000LIT\u0000${message('fuzz')}`,
  (r) => `ENABLE ${r.pick(['CONDSTORE', 'QRESYNC', 'UTF8=ACCEPT', 'IMAP4rev2', 'BOGUS'])}`,
  () => 'NAMESPACE',
  () => 'ID ("name" "fuzz")',
  () => 'GETQUOTAROOT INBOX',
  () => 'IDLE',
  () => 'AUTHENTICATE PLAIN',
  () => 'LOGIN alice alice-secret',
  () => 'STARTTLS',
];

/** Mutate command text (literals are encoded afterwards, so their sizes stay honest). */
function mutate(r: Rand, text: string): string {
  switch (r.int(6)) {
    case 0:
      return text.slice(0, r.int(text.length + 1));
    case 1: {
      const at = r.int(text.length + 1);
      const junk = String.fromCharCode(...Array.from({ length: 1 + r.int(4) }, () => r.int(256)));
      return text.slice(0, at) + junk.replace(/[\r\n]/g, ' ') + text.slice(at);
    }
    case 2:
      return text.replace(/[()]/, '');
    case 3:
      return text + ' ' + text;
    default:
      return text;
  }
}

/** One command on the wire; a LIT marker becomes a literal (sync or LITERAL+). */
function encode(r: Rand, tag: string, text: string): Buffer {
  const [head = '', literal] = text.split('\u0000LIT\u0000');
  if (literal === undefined) return Buffer.from(`${tag} ${head}\r\n`, 'latin1');
  const body = Buffer.from(literal, 'utf8');
  const marker = `{${body.length}${r.chance(0.5) ? '+' : ''}}`;
  return Buffer.concat([
    Buffer.from(`${tag} ${head}${marker}\r\n`, 'latin1'),
    body,
    Buffer.from('\r\n'),
  ]);
}

/** Check that `data` is a sequence of well-formed responses; return the tagged lines. */
function responses(data: Buffer): string[] {
  const tagged: string[] = [];
  let i = 0;
  while (i < data.length) {
    let line = '';
    while (true) {
      const eol = data.indexOf('\r\n', i);
      if (eol < 0) return tagged; // incomplete tail: read more
      const part = data.subarray(i, eol).toString('latin1');
      assert.doesNotMatch(part, /[\r\n]/, 'bare CR or LF in a response line');
      line += part;
      i = eol + 2;
      const literal = /~?\{(\d+)\}$/.exec(part);
      if (literal === null) break;
      i += Number(literal[1]);
      line += '<literal>';
    }
    assert.match(line, /^(\* [A-Z0-9]|\+( |$)|[!-~]+ (OK|NO|BAD) )/, `malformed response: ${line}`);
    const t = /^([!-~]+) (OK|NO|BAD) /.exec(line);
    if (t !== null && !line.startsWith('* ') && !line.startsWith('+')) tagged.push(line);
  }
  return tagged;
}

class Connection {
  readonly socket: net.Socket;
  data = Buffer.alloc(0);
  closed = false;

  constructor(port: number) {
    this.socket = net.connect({ host: '127.0.0.1', port });
    this.socket.on('data', (c: Buffer) => (this.data = Buffer.concat([this.data, c])));
    this.socket.on('close', () => (this.closed = true));
    this.socket.on('error', () => undefined);
  }

  /** Wait until a tagged response for `tag` arrived (or the connection closed). */
  async waitFor(tag: string, ms = 10_000): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      const lines = responses(this.data);
      if (lines.some((l) => l.startsWith(`${tag} `))) return true;
      // step: after STARTTLS the server waits for a TLS handshake this client never starts
      if (this.closed || lines.some((l) => / OK Begin TLS/.test(l))) return false;
      await new Promise((r) => setTimeout(r, 5));
    }
    const tail = this.data.subarray(Math.max(0, this.data.length - 600)).toString('latin1');
    throw new Error(`no answer to ${tag} within ${ms} ms (seed ${SEED}); last output: ${tail}`);
  }
}

describe('IMAP session fuzz', function () {
  this.timeout(FUZZ_MS + 60_000);
  let fx: ImapFixture;
  const { log, errors } = errorLog();

  before(async () => {
    fx = await startImap({ log });
    for (let i = 0; i < 5; i++) await fx.mail.deliver(fx.alice.id, message(`seed ${i}`));
  });

  after(async () => {
    await fx.stop();
  });

  it(`stays well-formed and in sync under random commands (seed ${SEED})`, async () => {
    const r = new Rand(SEED);
    const deadline = Date.now() + FUZZ_MS;
    let batches = 0;
    let tagN = 0;
    while (Date.now() < deadline) {
      const conn = new Connection(fx.port);
      if (r.chance(0.8)) {
        conn.socket.write('l LOGIN alice alice-secret\r\n');
        await conn.waitFor('l');
      }
      for (let b = 0; b < 5 && !conn.closed; b++) {
        const parts: Buffer[] = [];
        for (let c = 0; c < 1 + r.int(6); c++) {
          let text = r.pick(TEMPLATES)(r);
          if (r.chance(0.3)) text = mutate(r, text);
          parts.push(encode(r, `t${++tagN}`, text));
        }
        // step: leave IDLE or a SASL exchange, whatever the batch started
        const probe = `p${++tagN}`;
        parts.push(Buffer.from(`\r\nDONE\r\n${probe} NOOP\r\n`));
        conn.socket.write(Buffer.concat(parts));
        if (process.env.IMAP_SESSION_FUZZ_DEBUG === '1') {
          process.stderr.write(`${Buffer.concat(parts).toString('latin1')}\n----\n`);
        }
        const answered = await conn.waitFor(probe);
        if (!answered) break;
        batches++;
      }
      responses(conn.data);
      conn.socket.destroy();
    }
    assert.ok(batches > 0);
    // step: nothing the clients sent made the server fail internally
    assert.deepEqual(errors, []);
    // step: the server still serves a fresh connection
    const check = new Connection(fx.port);
    check.socket.write('c1 LOGIN alice alice-secret\r\nc2 SELECT INBOX\r\nc3 NOOP\r\n');
    assert.ok(await check.waitFor('c3'));
    assert.ok(responses(check.data).some((l) => l.startsWith('c2 OK')));
    check.socket.destroy();
  });
});
