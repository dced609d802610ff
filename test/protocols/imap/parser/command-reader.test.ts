import assert from 'node:assert/strict';
import {
  CommandReader,
  literalMarkerAtEnd,
} from '../../../../src/protocols/imap/parser/command-reader.ts';
import type {
  CommandReaderOptions,
  ReaderEvent,
} from '../../../../src/protocols/imap/parser/command-reader.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Feed `chunks` in order, draining events after each push. */
function run(
  chunks: readonly (string | Uint8Array)[],
  options?: CommandReaderOptions,
): ReaderEvent[] {
  const reader = new CommandReader(options);
  const events: ReaderEvent[] = [];
  for (const chunk of chunks) {
    reader.push(typeof chunk === 'string' ? enc.encode(chunk) : chunk);
    for (let ev = reader.next(); ev !== undefined; ev = reader.next()) events.push(ev);
  }
  return events;
}

/** Events in a compact comparable form. */
function summary(events: readonly ReaderEvent[]): unknown[] {
  return events.map((ev) => {
    if (ev.kind === 'command') {
      const c = ev.command;
      return {
        command: c.tag,
        name: c.name,
        lines: c.lines.map((l) => dec.decode(l)),
        literals: c.literals.map((l) => ({ data: [...l.data], binary: l.binary, sync: l.sync })),
      };
    }
    if (ev.kind === 'line') return { line: dec.decode(ev.line) };
    return ev;
  });
}

function concat(...parts: (string | Uint8Array)[]): Uint8Array {
  const bytes = parts.map((p) => (typeof p === 'string' ? enc.encode(p) : p));
  const out = new Uint8Array(bytes.reduce((n, b) => n + b.length, 0));
  let at = 0;
  for (const b of bytes) {
    out.set(b, at);
    at += b.length;
  }
  return out;
}

describe('imap CommandReader', () => {
  it('splits pipelined commands, upper-cases the name and keeps the tag', () => {
    const events = summary(run(['a1 noop\r\nA.2 uid fetch 1:* (FLAGS)\r\n']));
    assert.deepEqual(events, [
      { command: 'a1', name: 'NOOP', lines: [''], literals: [] },
      { command: 'A.2', name: 'UID', lines: [' fetch 1:* (FLAGS)'], literals: [] },
    ]);
  });

  it('asks for continuation on a synchronizing literal and keeps its bytes exactly', () => {
    const payload = new Uint8Array(256).map((_, i) => i);
    const events = summary(run(['a1 APPEND INBOX {256}\r\n', concat(payload, ' extra\r\n')]));
    assert.deepEqual(events, [
      { kind: 'continue', tag: 'a1', name: 'APPEND', size: 256 },
      {
        command: 'a1',
        name: 'APPEND',
        lines: [' INBOX {256}', ' extra'],
        literals: [{ data: [...payload], binary: false, sync: true }],
      },
    ]);
  });

  it('reads non-synchronizing literals and literal8 without continuation', () => {
    const events = summary(
      run(['a LOGIN {3+}\r\nbob {2+}\r\npw\r\nb APPEND x ~{3}\r\n\0\r\n\r\n']),
    );
    assert.deepEqual(events, [
      {
        command: 'a',
        name: 'LOGIN',
        lines: [' {3+}', ' {2+}', ''],
        literals: [
          { data: [...enc.encode('bob')], binary: false, sync: false },
          { data: [...enc.encode('pw')], binary: false, sync: false },
        ],
      },
      { kind: 'continue', tag: 'b', name: 'APPEND', size: 3 },
      {
        command: 'b',
        name: 'APPEND',
        lines: [' x ~{3}', ''],
        literals: [{ data: [0, 13, 10], binary: true, sync: true }],
      },
    ]);
  });

  it('does not interpret literal content (CRLF, braces, 8-bit) as syntax', () => {
    const body = concat('x {5}\r\na2 LOGOUT\r\n', new Uint8Array([0xff, 0xfe, 0x80]));
    const events = run([`a1 APPEND INBOX {${String(body.length)}+}\r\n`, body, '\r\n']);
    assert.equal(events.length, 1);
    const ev = events[0];
    assert.ok(ev?.kind === 'command');
    assert.deepEqual(ev.command.literals[0]?.data, body);
  });

  it('gives the same events for every split point of the stream', () => {
    const stream = concat(
      'a1 CAPABILITY\r\n',
      'a2 LOGIN {4}\r\nuser {6+}\r\npa ss!\r\n',
      '\r\n',
      'a3 APPEND "INBOX" (\\Seen) ~{5+}\r\nab\0\r\n\r\n',
      'a4 UID FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (date)])\n',
      '+bad tag\r\n',
      'a5 SELECT INBOX\r\n',
    );
    const whole = summary(run([stream]));
    assert.equal(whole.length, 7);
    for (let i = 1; i < stream.length; i++) {
      assert.deepEqual(
        summary(run([stream.subarray(0, i), stream.subarray(i)])),
        whole,
        `split ${String(i)}`,
      );
    }
    const bytes = [...stream].map((b) => Uint8Array.of(b));
    assert.deepEqual(summary(run(bytes)), whole, 'byte by byte');
  });

  it('accepts bare LF and ignores empty lines', () => {
    const events = summary(run(['\r\n\na1 NOOP\n\r\na2 LOGOUT\r\n']));
    assert.deepEqual(events, [
      { command: 'a1', name: 'NOOP', lines: [''], literals: [] },
      { command: 'a2', name: 'LOGOUT', lines: [''], literals: [] },
    ]);
  });

  it('rejects bad tags and missing command names, then resynchronises', () => {
    const events = summary(run(['+x NOOP\r\n"a" NOOP\r\na1\r\na2 \r\na3 NOOP\r\n']));
    assert.deepEqual(events, [
      { kind: 'bad', text: 'Invalid tag' },
      { kind: 'bad', text: 'Invalid tag' },
      { kind: 'bad', tag: 'a1', text: 'Missing command name' },
      { kind: 'bad', tag: 'a2', text: 'Missing command name' },
      { command: 'a3', name: 'NOOP', lines: [''], literals: [] },
    ]);
  });

  it('skips the non-synchronizing literal of a rejected command', () => {
    const events = summary(run(['"bad" X {5+}\r\nhello more\r\na1 NOOP\r\n']));
    assert.deepEqual(events, [
      { kind: 'bad', text: 'Invalid tag' },
      { command: 'a1', name: 'NOOP', lines: [''], literals: [] },
    ]);
  });

  it('refuses an oversized synchronizing literal before reading it (NO [TOOBIG])', () => {
    const events = summary(run(['a1 APPEND INBOX {101}\r\na2 NOOP\r\n'], { maxLiteralSize: 100 }));
    assert.deepEqual(events, [
      { kind: 'no', tag: 'a1', code: 'TOOBIG', text: 'Literal too large' },
      { command: 'a2', name: 'NOOP', lines: [''], literals: [] },
    ]);
  });

  it('answers an oversized {n+} with BAD [TOOBIG], fatal, and discards the literal', () => {
    const big = 'x'.repeat(101);
    const events = summary(
      run([`a1 APPEND INBOX {101+}\r\n${big} {3+}\r\nabc\r\na2 NOOP\r\n`], { maxLiteralSize: 100 }),
    );
    assert.deepEqual(events, [
      { kind: 'bad', tag: 'a1', code: 'TOOBIG', text: 'Literal too large', fatal: true },
      { command: 'a2', name: 'NOOP', lines: [''], literals: [] },
    ]);
  });

  it('enforces LITERAL- (4096 octets for non-synchronizing literals)', () => {
    const options = { maxNonSyncLiteralSize: 4096 };
    const ok = run([`a1 LOGIN {4096+}\r\n${'u'.repeat(4096)} p\r\n`], options);
    assert.equal(ok[0]?.kind, 'command');
    // step: a larger one is refused but not fatal; its bytes (a command inside) are discarded
    const inside = `\r\nz1 LOGOUT\r\n${'u'.repeat(4084)}`;
    assert.equal(inside.length, 4097);
    const refused = summary(run([`a1 LOGIN {4097+}\r\n${inside} p\r\na2 NOOP\r\n`], options));
    assert.deepEqual(refused, [
      { kind: 'bad', tag: 'a1', code: 'TOOBIG', text: 'Literal too large' },
      { command: 'a2', name: 'NOOP', lines: [''], literals: [] },
    ]);
    // A synchronizing literal over 4096 is still fine
    const sync = run(['a1 LOGIN {5000}\r\n', `${'u'.repeat(5000)} p\r\n`], options);
    assert.deepEqual(
      sync.map((e) => e.kind),
      ['continue', 'command'],
    );
  });

  it('switches from LITERAL- to LITERAL+ for the commands after the switch', () => {
    const reader = new CommandReader({ maxNonSyncLiteralSize: 4096, maxLiteralSize: 10_000 });
    const big = 'x'.repeat(5000);
    reader.push(enc.encode(`a1 LOGIN u p\r\na2 APPEND INBOX {5000+}\r\n${big}\r\n`));
    assert.equal(reader.next()?.kind, 'command');
    // step: the session logs in, then reads on: the pipelined APPEND is read with LITERAL+
    reader.setMaxNonSyncLiteralSize(Infinity);
    const append = reader.next();
    assert.equal(append?.kind, 'command');
    assert.equal(append.kind === 'command' && append.command.literals[0]?.data.length, 5000);
    // step: never beyond maxLiteralSize (fatal there)
    reader.push(enc.encode(`a3 APPEND INBOX {10001+}\r\n`));
    assert.deepEqual(reader.next(), {
      kind: 'bad',
      tag: 'a3',
      code: 'TOOBIG',
      text: 'Literal too large',
      fatal: true,
    });
  });

  it('keeps bytes intact when its buffers are reused between commands', () => {
    const reader = new CommandReader();
    const seen: string[] = [];
    const sent: string[] = [];
    let seed = 7;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const drain = (): void => {
      for (let ev = reader.next(); ev !== undefined; ev = reader.next()) {
        assert.equal(ev.kind, 'command');
        if (ev.kind === 'command') seen.push(dec.decode(ev.command.literals[0]?.data));
      }
    };
    const parts: string[] = [];
    for (let i = 0; i < 300; i++) {
      const payload = `p${i}-${'x'.repeat(rand(3) === 0 ? rand(5000) : rand(40))}`;
      sent.push(payload);
      parts.push(`t${i} APPEND INBOX {${payload.length}+}\r\n${payload}\r\n`);
    }
    const wire = enc.encode(parts.join(''));
    // step: random chunk sizes (small ones coalesced), events drained now and then, so
    // pipelined commands sit in the buffers while others are consumed
    for (let at = 0; at < wire.length;) {
      const n = 1 + rand(rand(3) === 0 ? 6000 : 60);
      reader.push(wire.slice(at, at + n));
      at += n;
      if (rand(4) === 0) drain();
    }
    drain();
    assert.deepEqual(seen, sent);
  });

  it('bounds the line length and resynchronises at the next line', () => {
    const long = 'a1 SEARCH ' + 'X'.repeat(200) + '\r\n';
    const events = summary(run([long, 'a2 NOOP\r\n'], { maxLineLength: 100 }));
    assert.deepEqual(events, [
      { kind: 'bad', tag: 'a1', text: 'Command line too long' },
      { command: 'a2', name: 'NOOP', lines: [''], literals: [] },
    ]);
    // Exactly at the limit is accepted
    const exact = 'a3 X ' + 'Y'.repeat(95);
    assert.equal(exact.length, 100);
    assert.equal(run([exact + '\r\n'], { maxLineLength: 100 })[0]?.kind, 'command');
    assert.equal(run([exact + 'Z\r\n'], { maxLineLength: 100 })[0]?.kind, 'bad');
  });

  it('skips a literal announced at the end of an over-long line', () => {
    const long = 'a1 APPEND ' + 'X'.repeat(200) + ' {4+}\r\nabcd\r\na2 NOOP\r\n';
    const events = summary(run([long], { maxLineLength: 100 }));
    assert.deepEqual(events, [
      { kind: 'bad', tag: 'a1', text: 'Command line too long' },
      { command: 'a2', name: 'NOOP', lines: [''], literals: [] },
    ]);
  });

  it('bounds the whole command size', () => {
    const options = { maxCommandSize: 64, maxLiteralSize: 1000 };
    const events = summary(run(['a1 APPEND x {50}\r\n', 'a2 NOOP\r\n'], options));
    assert.deepEqual(events, [
      { kind: 'no', tag: 'a1', code: 'TOOBIG', text: 'Literal too large' },
      { command: 'a2', name: 'NOOP', lines: [''], literals: [] },
    ]);
  });

  it('hands out raw lines in line mode (AUTHENTICATE, IDLE DONE)', () => {
    const reader = new CommandReader();
    reader.push(
      enc.encode('a1 AUTHENTICATE PLAIN\r\nAGJvYgBwdw==\r\na2 IDLE\r\nDONE\r\na3 NOOP\r\n'),
    );
    const first = reader.next();
    assert.ok(first?.kind === 'command' && first.command.name === 'AUTHENTICATE');
    reader.setMode('line');
    assert.deepEqual(summary([reader.next() as ReaderEvent]), [{ line: 'AGJvYgBwdw==' }]);
    reader.setMode('command');
    const idle = reader.next();
    assert.ok(idle?.kind === 'command' && idle.command.name === 'IDLE');
    reader.setMode('line');
    assert.equal(reader.getMode(), 'line');
    assert.deepEqual(summary([reader.next() as ReaderEvent]), [{ line: 'DONE' }]);
    reader.setMode('command');
    const noop = reader.next();
    assert.ok(noop?.kind === 'command' && noop.command.tag === 'a3');
    assert.equal(reader.next(), undefined);
    assert.equal(reader.buffered, 0);
  });

  it('bounds lines in line mode too', () => {
    const reader = new CommandReader({ maxLineLength: 10 });
    reader.setMode('line');
    reader.push(enc.encode('0123456789ABC DEF\r\nDONE\r\n'));
    assert.deepEqual(reader.next(), { kind: 'bad', text: 'Line too long' });
    assert.deepEqual(summary([reader.next() as ReaderEvent]), [{ line: 'DONE' }]);
  });

  it('lets the session abort a command after a continuation event', () => {
    const reader = new CommandReader();
    reader.push(enc.encode('a1 APPEND INBOX {100000}\r\n'));
    assert.deepEqual(reader.next(), { kind: 'continue', tag: 'a1', name: 'APPEND', size: 100000 });
    reader.abortCommand();
    reader.push(enc.encode('a2 NOOP\r\n'));
    const ev = reader.next();
    assert.ok(ev?.kind === 'command' && ev.command.tag === 'a2');
  });

  it('waits for the rest of a literal announced but not yet sent', () => {
    const reader = new CommandReader();
    reader.push(enc.encode('a1 LOGIN {5+}\r\nab'));
    assert.equal(reader.next(), undefined);
    reader.push(enc.encode('cde x\r'));
    assert.equal(reader.next(), undefined);
    reader.push(enc.encode('\n'));
    const ev = reader.next();
    assert.ok(ev?.kind === 'command');
    assert.equal(ev.command.size, 'a1 LOGIN {5+}\r\nabcde x\r\n'.length);
  });

  it('finds literal markers only at the very end of a line', () => {
    assert.deepEqual(literalMarkerAtEnd(enc.encode('x {12}')), {
      size: 12,
      sync: true,
      binary: false,
    });
    assert.deepEqual(literalMarkerAtEnd(enc.encode('x ~{0+}')), {
      size: 0,
      sync: false,
      binary: true,
    });
    assert.equal(literalMarkerAtEnd(enc.encode('x {12} ')), undefined);
    assert.equal(literalMarkerAtEnd(enc.encode('x {}')), undefined);
    assert.equal(literalMarkerAtEnd(enc.encode('x {1a}')), undefined);
    assert.equal(literalMarkerAtEnd(enc.encode('{+}')), undefined);
    assert.equal(literalMarkerAtEnd(enc.encode('x {99999999999999999999}'))?.size, Infinity);
  });
});

describe('imap CommandReader with trickled input', () => {
  it('reads a long line arriving one byte at a time (quadratic scanning would time out)', () => {
    const line = 'a1 SEARCH TEXT "' + 'x'.repeat(60000) + '"\r\nb1 NOOP\r\n';
    const reader = new CommandReader();
    const bytes = enc.encode(line);
    const events: ReaderEvent[] = [];
    for (let i = 0; i < bytes.length; i++) {
      reader.push(bytes.subarray(i, i + 1));
      for (let ev = reader.next(); ev !== undefined; ev = reader.next()) events.push(ev);
    }
    assert.deepEqual(
      events.map((e) => (e.kind === 'command' ? e.command.tag : e.kind)),
      ['a1', 'b1'],
    );
  });

  it('keeps bytes pushed after the buffer was fully consumed', () => {
    const reader = new CommandReader();
    reader.push(enc.encode('a1 NOOP\r\n'));
    assert.equal(reader.next()?.kind, 'command');
    reader.push(enc.encode('a2 NO'));
    assert.equal(reader.next(), undefined);
    reader.push(enc.encode('OP\r\n'));
    const ev = reader.next();
    assert.ok(ev?.kind === 'command' && ev.command.tag === 'a2' && ev.command.name === 'NOOP');
  });
});
