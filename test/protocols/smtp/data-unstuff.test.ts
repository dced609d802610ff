import assert from 'node:assert/strict';
import type { PassThrough } from 'node:stream';
// The parser class is not exported by the package; its file is loaded by path.
import { SMTPStream } from '../../../node_modules/smtp-server/dist/esm/smtp-stream.js';
import { feedDataStream } from '../../../src/protocols/smtp/data-unstuff.ts';
import { prng } from '../../support/prng.ts';

interface Outcome {
  readonly payload: string;
  readonly commands: string[];
}

/**
 * Feed `wire` (DATA payload as sent, terminator and pipelined commands after it) to a parser
 * in data mode, cut into the given chunk sizes, with our scanner installed on that instance.
 */
function run(
  wire: Buffer,
  cuts: readonly number[],
  Parser: typeof SMTPStream = SMTPStream,
  fast = true,
): Promise<Outcome> {
  const parser = new Parser() as SMTPStream & { _feedDataStream: typeof feedDataStream };
  if (fast) parser._feedDataStream = feedDataStream;
  const commands: string[] = [];
  parser.oncommand = (line: Buffer, next?: () => void) => {
    commands.push(line.toString('latin1'));
    next?.();
  };
  const data = parser.startDataMode() as PassThrough;
  const out: Buffer[] = [];
  data.on('data', (b: Buffer) => out.push(b));
  const ended = new Promise<void>((resolve) => data.once('end', resolve));
  let pos = 0;
  for (const n of cuts) {
    if (pos >= wire.length) break;
    parser.write(wire.subarray(pos, pos + n));
    pos += n;
  }
  if (pos < wire.length) parser.write(wire.subarray(pos));
  return ended.then(async () => {
    parser.continue();
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    return { payload: Buffer.concat(out).toString('latin1'), commands };
  });
}

/** Dot-stuff as a client does: a dot that starts a line is doubled. */
function stuff(payload: string): string {
  return payload.replace(/(^|\n)\./g, '$1..');
}

describe('SMTP DATA unstuffing (fast scanner)', () => {
  it('ends at CRLF.CRLF, removes escape dots, hands back pipelined commands', async () => {
    const wire = Buffer.from('a\r\n..b\r\n.c\r\n...\r\nend\r\n.\r\nRSET\r\nQUIT\r\n');
    const r = await run(wire, [wire.length]);
    assert.equal(r.payload, 'a\r\n.b\r\n.c\r\n..\r\nend\r\n');
    assert.deepEqual(r.commands, ['RSET', 'QUIT']);
  });

  it('an empty message, and a first line of one (stuffed) dot', async () => {
    assert.equal((await run(Buffer.from('.\r\nNOOP\r\n'), [1, 1, 1])).payload, '');
    const one = await run(Buffer.from('..\r\n.\r\n'), [2, 1, 1, 1]);
    assert.equal(one.payload, '.\r\n');
    // The stuffed dot arriving alone must not make the next "." a terminator.
    const split = await run(Buffer.from('..\r\nx\r\n.\r\nNOOP\r\n'), [1, 1, 1]);
    assert.equal(split.payload, '.\r\nx\r\n');
    assert.deepEqual(split.commands, ['NOOP']);
  });

  it('a bare LF before the dot is no terminator', async () => {
    const r = await run(Buffer.from('a\n.\nb\r\n.\r\n'), [3]);
    assert.equal(r.payload, 'a\n.\nb\r\n');
  });

  it('gives back the payload exactly for random messages and any segmentation', async () => {
    const rand = prng(20261130);
    const parts = ['.', '..', '\r\n', '\n', '\r', 'x', 'abc', '.\r\n', '\r\n.', 'Z\r\n.'];
    for (let round = 0; round < 400; round++) {
      let payload = '';
      const n = 1 + Math.floor(rand() * 40);
      for (let i = 0; i < n; i++) payload += parts[Math.floor(rand() * parts.length)];
      payload += '\r\n';
      const wire = Buffer.from(`${stuff(payload)}.\r\nMAIL FROM:<a@b>\r\n`, 'latin1');
      const cuts = Array.from({ length: 64 }, () => 1 + Math.floor(rand() * 7));
      const r = await run(wire, cuts);
      assert.equal(r.payload, payload, `round ${round}: ${JSON.stringify(payload)}`);
      assert.deepEqual(r.commands, ['MAIL FROM:<a@b>'], `round ${round}`);
    }
  });

  it("agrees with smtp-server's own scanner on unstuffed, malformed input", async () => {
    // A separate instance of the module, whose prototype no server has patched.
    const fresh = new URL(
      '../../../node_modules/smtp-server/dist/esm/smtp-stream.js',
      import.meta.url,
    );
    fresh.search = '?original';
    const original = (await import(fresh.href)) as { SMTPStream: typeof SMTPStream };
    const rand = prng(7);
    const parts = ['.', '..', '\r\n', '\n', '\r', 'x', '.\r', '\r\n.', '\n.\r\n', '\r\n..'];
    for (let round = 0; round < 1500; round++) {
      let wire = 'a';
      const n = 1 + Math.floor(rand() * 30);
      for (let i = 0; i < n; i++) wire += parts[Math.floor(rand() * parts.length)];
      wire += '\r\n.\r\nNOOP\r\n';
      const bytes = Buffer.from(wire, 'latin1');
      const cuts = Array.from({ length: 64 }, () => 1 + Math.floor(rand() * 9));
      const ours = await run(bytes, cuts);
      const theirs = await run(bytes, cuts, original.SMTPStream, false);
      assert.deepEqual(ours, theirs, `round ${round}: ${JSON.stringify(wire)}`);
    }
  });

  it('a 1 MB message in socket-sized chunks', async () => {
    const line = `${'.'.repeat(3)}${'y'.repeat(70)}\r\n`;
    const payload = line.repeat(Math.ceil((1 << 20) / line.length));
    const wire = Buffer.from(`${stuff(payload)}.\r\n`);
    const r = await run(
      wire,
      Array.from({ length: 40 }, () => 65536),
    );
    assert.equal(r.payload.length, payload.length);
    assert.equal(r.payload, payload);
  });
});
