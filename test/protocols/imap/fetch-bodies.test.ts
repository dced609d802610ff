/**
 * FETCH of body sections over the wire: whole messages and sections read at their offsets,
 * small messages served from the server's blob cache after the first read, large ones
 * streamed, partial ranges (RFC 9051 §6.4.5 `<offset.length>`) cut from either.
 */

import assert from 'node:assert/strict';
import { RawClient, message, startImap } from './imap-fixture.ts';
import type { ImapFixture } from './imap-fixture.ts';

/** The literal of `item` (e.g. `BODY[TEXT]<2>`) in a FETCH response (ASCII messages). */
function literalOf(response: string, item: string): string {
  const at = response.indexOf(`${item} {`);
  assert.ok(at >= 0, `no ${item} in ${response.slice(0, 200)}`);
  const open = response.indexOf('{', at);
  const close = response.indexOf('}\r\n', open);
  const size = Number(response.slice(open + 1, close));
  return response.slice(close + 3, close + 3 + size);
}

describe('IMAP FETCH of body sections', function () {
  this.timeout(30_000);
  let fx: ImapFixture;
  let client: RawClient;
  let reads = 0;
  let streams = 0;
  const small = message('small', 'Short body text.');
  const large = message('large', 'a line of a large message body\r\n'.repeat(3000));

  before(async () => {
    fx = await startImap();
    await fx.mail.ensureDefaults(fx.alice.access, fx.alice.id);
    const inbox = await fx.mail.findMailbox(fx.alice.access, fx.alice.id, 'INBOX');
    assert.ok(inbox !== undefined);
    for (const text of [small, large]) {
      await fx.mail.append(fx.alice.access, fx.alice.id, inbox.id, Buffer.from(text));
    }
    const read = fx.mail.readMessage.bind(fx.mail);
    fx.mail.readMessage = (...args) => {
      reads++;
      return read(...args);
    };
    const open = fx.mail.openMessage.bind(fx.mail);
    fx.mail.openMessage = (...args) => {
      streams++;
      return open(...args);
    };
    client = await RawClient.connect(fx.port);
    await client.command('a', 'LOGIN alice alice-secret');
    await client.command('b', 'SELECT INBOX');
  });

  after(async () => {
    client.close();
    await fx.stop();
  });

  it('reads a small message once, then serves its sections from memory', async () => {
    reads = 0;
    const first = await client.command('c1', 'UID FETCH 1 BODY.PEEK[]');
    assert.equal(literalOf(first, 'BODY[]'), small);
    assert.equal(reads, 1);
    const sections = await client.command(
      'c2',
      'UID FETCH 1 (BODY.PEEK[TEXT] BODY.PEEK[TEXT]<6.4> BODY.PEEK[HEADER.FIELDS (SUBJECT)])',
    );
    assert.equal(literalOf(sections, 'BODY[TEXT]'), 'Short body text.\r\n');
    assert.equal(literalOf(sections, 'BODY[TEXT]<6>'), 'body');
    assert.equal(literalOf(sections, 'BODY[HEADER.FIELDS (SUBJECT)]'), 'Subject: small\r\n\r\n');
    assert.equal(reads, 1, 'no more reads: the blob was cached');
  });

  it('streams a large message at the requested range', async () => {
    streams = 0;
    const whole = await client.command('d1', 'UID FETCH 2 BODY.PEEK[]');
    assert.equal(literalOf(whole, 'BODY[]'), large);
    const start = large.indexOf('\r\n\r\n') + 100;
    const part = await client.command('d2', `UID FETCH 2 BODY.PEEK[]<${start}.70000>`);
    assert.equal(literalOf(part, `BODY[]<${start}>`), large.slice(start, start + 70_000));
    assert.equal(streams, 2);
  });
});
