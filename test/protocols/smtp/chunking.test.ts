import assert from 'node:assert/strict';
import { RawSmtp, startSmtp } from './smtp-fixture.ts';
import type { SmtpFixture } from './smtp-fixture.ts';

/** A message whose body has lines a DATA reader would treat specially: they must stay as is. */
function rawMessage(subject: string, body: string): string {
  return (
    `From: sender@remote.test\r\nTo: bob@example.test\r\nSubject: ${subject}\r\n` +
    `Message-ID: <${subject}@remote.test>\r\nDate: Mon, 01 Jan 2024 10:00:00 +0000\r\n\r\n${body}`
  );
}

/** Send a BDAT line and its octets (no CRLF after them); the one reply. */
async function bdat(raw: RawSmtp, line: string, octets = ''): Promise<string> {
  raw.write(`${line}\r\n${octets}`);
  return (await raw.replies(1))[0] ?? '';
}

async function greeted(fx: SmtpFixture): Promise<RawSmtp> {
  const raw = await RawSmtp.connect(fx.mxPort);
  await raw.replies(1);
  await raw.command('EHLO client.remote.test');
  return raw;
}

describe('SMTP CHUNKING (BDAT, RFC 3030)', function () {
  this.timeout(20000);
  let fx: SmtpFixture;
  before(async () => {
    fx = await startSmtp({ settings: { maxMessageSize: 64 * 1024 } });
  });
  after(() => fx?.stop());

  const bodyOf = async (subject: string): Promise<string | undefined> => {
    const found = (await fx.messages(fx.accounts.bob)).find((m) =>
      m.includes(`Subject: ${subject}\r\n`),
    );
    return found?.slice(found.indexOf('From: sender@remote.test'));
  };

  it('advertises CHUNKING', async () => {
    const raw = await RawSmtp.connect(fx.mxPort);
    await raw.replies(1);
    assert.match(await raw.command('EHLO client.remote.test'), /^250[- ]CHUNKING$/m);
    raw.close();
  });

  it('takes a message in pipelined chunks, byte for byte (no dot handling)', async () => {
    const message = rawMessage('chunked', '.leading dot\r\n..two\r\n.\r\nafter a lone dot\r\n');
    const cut = [message.slice(0, 40), message.slice(40, 100), message.slice(100)];
    const raw = await greeted(fx);
    raw.write(
      'MAIL FROM:<sender@remote.test>\r\nRCPT TO:<bob@example.test>\r\n' +
        `BDAT ${cut[0]?.length}\r\n${cut[0]}BDAT ${cut[1]?.length}\r\n${cut[1]}` +
        `BDAT ${cut[2]?.length} LAST\r\n${cut[2]}NOOP\r\n`,
    );
    const replies = await raw.replies(6);
    assert.match(replies[0] ?? '', /^250 /);
    assert.match(replies[1] ?? '', /^250 /);
    assert.equal(replies[2], '250 2.0.0 40 octets received');
    assert.equal(replies[3], '250 2.0.0 60 octets received');
    assert.match(replies[4] ?? '', /^250 .*queued/);
    assert.match(replies[5] ?? '', /^250 /);
    assert.equal(await bodyOf('chunked'), message);
    raw.close();
  });

  it('ends with BDAT 0 LAST, and chunks may split lines anywhere', async () => {
    const message = rawMessage('zero-last', 'line one\r\nline two\r\n');
    const raw = await greeted(fx);
    await raw.command('MAIL FROM:<sender@remote.test>');
    await raw.command('RCPT TO:<bob@example.test>');
    for (let at = 0; at < message.length; at += 7) {
      const part = message.slice(at, at + 7);
      assert.match(await bdat(raw, `BDAT ${part.length}`, part), /^250 2\.0\.0 \d+ octets/);
    }
    assert.match(await raw.command('BDAT 0 LAST'), /^250 .*queued/);
    assert.equal(await bodyOf('zero-last'), message);
    raw.close();
  });

  it('refuses BDAT before MAIL or RCPT, and still reads its bytes', async () => {
    const raw = await greeted(fx);
    assert.match(await bdat(raw, 'BDAT 12 LAST', 'RSET\r\nQUIT\r\n'), /^503 5\.5\.1 .*MAIL/);
    assert.match(await raw.command('NOOP'), /^250 /);
    await raw.command('MAIL FROM:<sender@remote.test>');
    assert.match(await bdat(raw, 'BDAT 4', 'NOOP'), /^503 5\.5\.1 .*RCPT/);
    assert.match(await raw.command('NOOP'), /^250 /);
    raw.close();
  });

  it('refuses a message that grows past the size limit, then takes the next one', async () => {
    const raw = await greeted(fx);
    await raw.command('MAIL FROM:<sender@remote.test>');
    await raw.command('RCPT TO:<bob@example.test>');
    const block = 'y'.repeat(30 * 1024);
    assert.match(await bdat(raw, `BDAT ${block.length}`, block), /^250 2\.0\.0 /);
    assert.match(await bdat(raw, `BDAT ${block.length}`, block), /^250 2\.0\.0 /);
    // the third crosses 64 KiB; what follows gets the same answer until LAST
    assert.match(await bdat(raw, `BDAT ${block.length}`, block), /^552 5\.3\.4 /);
    assert.match(await bdat(raw, 'BDAT 3 LAST', 'abc'), /^552 5\.3\.4 /);
    // the transaction is over: a new one goes through
    const message = rawMessage('after-oversize', 'small\r\n');
    await raw.command('MAIL FROM:<sender@remote.test>');
    await raw.command('RCPT TO:<bob@example.test>');
    assert.match(await bdat(raw, `BDAT ${message.length} LAST`, message), /^250 /);
    assert.equal(await bodyOf('after-oversize'), message);
    raw.close();
  });

  it('RSET drops the chunks so far; DATA within BDAT is refused', async () => {
    const raw = await greeted(fx);
    await raw.command('MAIL FROM:<sender@remote.test>');
    await raw.command('RCPT TO:<bob@example.test>');
    assert.match(await bdat(raw, 'BDAT 5', 'Subje'), /^250 2\.0\.0 /);
    assert.match(await raw.command('DATA'), /^503 5\.5\.1 /);
    assert.match(await raw.command('RSET'), /^250 /);
    const message = rawMessage('after-rset', 'fresh\r\n');
    await raw.command('MAIL FROM:<sender@remote.test>');
    await raw.command('RCPT TO:<bob@example.test>');
    assert.match(await bdat(raw, `BDAT ${message.length} LAST`, message), /^250 /);
    assert.equal(await bodyOf('after-rset'), message);
    raw.close();
  });

  it('closes the connection on a BDAT line it cannot parse (501)', async () => {
    const raw = await greeted(fx);
    assert.match(await raw.command('BDAT lots'), /^501 5\.5\.4 /);
    await new Promise((r) => setTimeout(r, 100));
    assert.ok(raw.closed);
  });
});
