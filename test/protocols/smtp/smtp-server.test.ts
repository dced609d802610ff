import assert from 'node:assert/strict';
import { connect as tlsConnect } from 'node:tls';
import nodemailer from 'nodemailer';
import { RawSmtp, PASSWORD, startSmtp } from './smtp-fixture.ts';
import type { FixtureOptions, SmtpFixture } from './smtp-fixture.ts';

interface SendError extends Error {
  responseCode?: number;
  response?: string;
}

function mx(fx: SmtpFixture) {
  return nodemailer.createTransport({
    host: '127.0.0.1',
    port: fx.mxPort,
    secure: false,
    tls: { rejectUnauthorized: false },
    name: 'client.remote.test',
  });
}

function submission(
  fx: SmtpFixture,
  user = 'alice@example.test',
  options: { implicit?: boolean; ignoreTLS?: boolean; pass?: string } = {},
) {
  return nodemailer.createTransport({
    host: '127.0.0.1',
    port: options.implicit ? fx.submissionsPort : fx.submissionPort,
    secure: options.implicit ?? false,
    ignoreTLS: options.ignoreTLS ?? false,
    tls: { rejectUnauthorized: false },
    auth: { user, pass: options.pass ?? PASSWORD },
  });
}

function message(from: string, to: string, subject: string, body = 'Hello there.\r\n'): string {
  return [
    `From: ${from}`,
    `To: ${to}`,
    `Subject: ${subject}`,
    'Date: Mon, 01 Jan 2024 10:00:00 +0000',
    `Message-ID: <${subject.replace(/\W/g, '')}.${Math.random().toString(36).slice(2)}@remote.test>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    '',
    body,
  ].join('\r\n');
}

async function refused(promise: Promise<unknown>): Promise<SendError> {
  try {
    await promise;
  } catch (err) {
    return err as SendError;
  }
  throw new Error('expected the server to refuse');
}

describe('SMTP server', function () {
  this.timeout(20000);

  describe('inbound MX', () => {
    let fx: SmtpFixture;
    before(async () => {
      fx = await startSmtp({
        settings: { maxMessageSize: 64 * 1024, catchAll: ['dave@other.test'], verifyInbound: true },
      });
    });
    after(() => fx?.stop());

    it('delivers into the INBOX with Received and Authentication-Results, after the data is durable', async () => {
      const info = await mx(fx).sendMail({
        envelope: { from: 'sender@remote.test', to: ['bob@example.test'] },
        raw: message('sender@remote.test', 'bob@example.test', 'first'),
      });
      assert.match(info.response, /^250 2\.6\.0 Ok: queued as \S+/);
      const inbox = await fx.messages(fx.accounts.bob);
      assert.equal(inbox.length, 1);
      const text = inbox[0] ?? '';
      assert.match(
        text,
        /^Received: from client\.remote\.test \(\[127\.0\.0\.1\]\)\r\n\tby mx\.example\.test \(Commune\) with ESMTPS id \S+\r\n\t\(version=TLSv1\.3 cipher=\S+\)\r\n\tfor <bob@example\.test>; \w{3}, \d\d \w{3} \d{4} [\d:]{8} \+0000\r\n/,
      );
      assert.match(text, /^Authentication-Results: mx\.example\.test;/m);
      assert.match(text, /Subject: first\r\n/);
      assert.ok(text.endsWith('Hello there.\r\n'));
    });

    it('resolves aliases, subaddresses and groups (each account once)', async () => {
      await mx(fx).sendMail({
        envelope: {
          from: 'sender@remote.test',
          to: ['a.liddell@example.test', 'alice+news@example.test', 'team@example.test'],
        },
        raw: message('sender@remote.test', 'team@example.test', 'expansion'),
      });
      const alice = (await fx.messages(fx.accounts.alice)).filter((m) => m.includes('expansion'));
      const bob = (await fx.messages(fx.accounts.bob)).filter((m) => m.includes('expansion'));
      assert.equal(alice.length, 1, 'alice gets one copy for alias, subaddress and group');
      assert.equal(bob.length, 1);
      // several recipients: the Received field names none of them
      assert.ok(!/\tfor </.test(alice[0] ?? ''));
    });

    it('sends unknown local parts of a domain to its catch-all address', async () => {
      await mx(fx).sendMail({
        envelope: { from: 'sender@remote.test', to: ['whoever@other.test'] },
        raw: message('sender@remote.test', 'whoever@other.test', 'catchall'),
      });
      const dave = await fx.messages(fx.accounts.dave);
      assert.equal(dave.filter((m) => m.includes('catchall')).length, 1);
    });

    it('refuses to relay and refuses unknown users', async () => {
      const relay = await refused(
        mx(fx).sendMail({
          envelope: { from: 'sender@remote.test', to: ['someone@elsewhere.test'] },
          raw: message('sender@remote.test', 'someone@elsewhere.test', 'relay'),
        }),
      );
      assert.equal(relay.responseCode, 554);
      assert.match(relay.response ?? '', /^554 5\.7\.1 Relay access denied/);
      const unknown = await refused(
        mx(fx).sendMail({
          envelope: { from: 'sender@remote.test', to: ['nobody@example.test'] },
          raw: message('sender@remote.test', 'nobody@example.test', 'unknown'),
        }),
      );
      assert.match(unknown.response ?? '', /^550 5\.1\.1 No such user here/);
    });

    it('partially accepts: refused recipients do not stop the others', async () => {
      const info = await mx(fx).sendMail({
        envelope: { from: 'sender@remote.test', to: ['nobody@example.test', 'bob@example.test'] },
        raw: message('sender@remote.test', 'bob@example.test', 'partial'),
      });
      assert.deepEqual(info.accepted, ['bob@example.test']);
      assert.deepEqual(info.rejected, ['nobody@example.test']);
    });

    it('checks the quota per recipient: 452 4.2.2 when full, 552 5.2.2 past the whole quota', async () => {
      // SIZE larger than carol's whole quota (20,000 bytes)
      const raw = await RawSmtp.connect(fx.mxPort);
      await raw.replies(1);
      await raw.command('EHLO client.remote.test');
      assert.match(await raw.command('MAIL FROM:<s@remote.test> SIZE=30000'), /^250 /);
      assert.match(await raw.command('RCPT TO:<carol@example.test>'), /^552 5\.2\.2 /);
      await raw.command('RSET');
      // a message that does not fit at DATA time
      const big = 'x'.repeat(76) + '\r\n';
      const err = await refused(
        mx(fx).sendMail({
          envelope: { from: 'sender@remote.test', to: ['carol@example.test'] },
          raw: message('s@remote.test', 'carol@example.test', 'big', big.repeat(300)),
        }),
      );
      assert.match(err.response ?? '', /^552 5\.2\.2 /);
      // nearly fill the mailbox: a declared size that does not fit what is left is deferred
      await mx(fx).sendMail({
        envelope: { from: 'sender@remote.test', to: ['carol@example.test'] },
        raw: message('s@remote.test', 'carol@example.test', 'fill', big.repeat(240)),
      });
      assert.match(await raw.command('MAIL FROM:<s@remote.test> SIZE=5000'), /^250 /);
      assert.match(await raw.command('RCPT TO:<carol@example.test>'), /^452 4\.2\.2 /);
      await raw.command('RSET');
      // over quota (the quota was lowered): every message is deferred at RCPT
      await fx.core.directory.setQuota(fx.accounts.carol, 10_000);
      assert.match(await raw.command('MAIL FROM:<s@remote.test>'), /^250 /);
      assert.match(await raw.command('RCPT TO:<carol@example.test>'), /^452 4\.2\.2 /);
      raw.close();
    });

    it('refuses oversized messages: SIZE= at MAIL, and the data itself', async () => {
      const raw = await RawSmtp.connect(fx.mxPort);
      await raw.replies(1);
      const ehlo = await raw.command('EHLO client.remote.test');
      assert.match(ehlo, /SIZE 65536/);
      assert.match(await raw.command('MAIL FROM:<s@remote.test> SIZE=100000'), /^552 5\.3\.4 /);
      raw.close();
      const err = await refused(
        mx(fx).sendMail({
          envelope: { from: 'sender@remote.test', to: ['bob@example.test'] },
          raw: message('s@remote.test', 'bob@example.test', 'huge', 'y'.repeat(70_000)),
        }),
      );
      assert.match(err.response ?? '', /^552 5\.3\.4 /);
    });

    it('advertises the ESMTP extensions, and no AUTH on the MX', async () => {
      const raw = await RawSmtp.connect(fx.mxPort);
      const [greeting] = await raw.replies(1);
      assert.match(greeting ?? '', /^220 mx\.example\.test ESMTP Commune/);
      const ehlo = await raw.command('EHLO client.remote.test');
      for (const ext of [
        'PIPELINING',
        '8BITMIME',
        'SMTPUTF8',
        'ENHANCEDSTATUSCODES',
        'DSN',
        'STARTTLS',
        'SIZE',
      ]) {
        assert.match(ehlo, new RegExp(`^250[- ]${ext}\\b`, 'm'), ext);
      }
      assert.doesNotMatch(ehlo, /AUTH/);
      assert.match(await raw.command('AUTH PLAIN AGFsaWNlAHg='), /^50[02] /);
      raw.close();
    });

    it('answers bad commands and bad sequences', async () => {
      const raw = await RawSmtp.connect(fx.mxPort);
      await raw.replies(1);
      assert.match(await raw.command('MAIL FROM:<a@remote.test>'), /^503 5\.5\.1 /);
      await raw.command('EHLO client.remote.test');
      assert.match(await raw.command('FROBNICATE'), /^500 5\.5\.2 /);
      assert.match(await raw.command('RCPT TO:<bob@example.test>'), /^503 5\.5\.1 /);
      assert.match(await raw.command('DATA'), /^503 5\.5\.1 /);
      assert.match(await raw.command('MAIL FROM:<not an address'), /^501 5\.1\.7 /);
      assert.match(await raw.command('MAIL FROM:<a@remote.test> BODY=9BIT'), /^501 /);
      assert.match(await raw.command('MAIL FROM:<a@remote.test>'), /^250 2\.1\.0 /);
      assert.match(await raw.command('MAIL FROM:<a@remote.test>'), /^503 /);
      assert.match(await raw.command('RCPT TO:<>'), /^501 /);
      assert.match(await raw.command('RSET'), /^250 /);
      assert.match(await raw.command('NOOP'), /^250 /);
      assert.match(await raw.command('QUIT'), /^221 /);
      raw.close();
    });

    it('answers pipelined commands in order (RFC 2920)', async () => {
      const raw = await RawSmtp.connect(fx.mxPort);
      await raw.replies(1);
      await raw.command('EHLO client.remote.test');
      raw.write(
        'MAIL FROM:<p@remote.test>\r\nRCPT TO:<nobody@example.test>\r\nRCPT TO:<bob@example.test>\r\nRCPT TO:<x@elsewhere.test>\r\nDATA\r\n',
      );
      const replies = await raw.replies(5);
      assert.match(replies[0] ?? '', /^250 2\.1\.0 /);
      assert.match(replies[1] ?? '', /^550 5\.1\.1 /);
      assert.match(replies[2] ?? '', /^250 2\.1\.5 /);
      assert.match(replies[3] ?? '', /^554 5\.7\.1 /);
      assert.match(replies[4] ?? '', /^354 /);
      raw.write(`${message('p@remote.test', 'bob@example.test', 'pipelined')}\r\n.\r\nQUIT\r\n`);
      const [data, quit] = await raw.replies(2);
      assert.match(data ?? '', /^250 2\.6\.0 /);
      assert.match(quit ?? '', /^221 /);
      raw.close();
      const bob = await fx.messages(fx.accounts.bob);
      assert.equal(bob.filter((m) => m.includes('Subject: pipelined')).length, 1);
    });

    it('takes SMTPUTF8 addresses, IDN domains and 8-bit bodies intact', async () => {
      await fx.core.directory.addDomain('bücher.test');
      const anna = await fx.core.directory.createPrincipal({ address: 'anna@bücher.test' });
      const raw = await RawSmtp.connect(fx.mxPort);
      await raw.replies(1);
      await raw.command('EHLO client.remote.test');
      assert.match(
        await raw.command('MAIL FROM:<josé@exämple.org> SMTPUTF8 BODY=8BITMIME'),
        /^250 /,
      );
      assert.match(await raw.command('RCPT TO:<anna@bücher.test>'), /^250 /);
      assert.match(await raw.command('RCPT TO:<anna@xn--bcher-kva.test>'), /^250 /);
      assert.match(await raw.command('DATA'), /^354 /);
      const body = 'Grüße aus Köln — ☃\r\n';
      raw.write(
        `From: José <josé@exämple.org>\r\nTo: anna@bücher.test\r\nSubject: Grüße\r\n\r\n${body}.\r\n`,
      );
      assert.match((await raw.replies(1))[0] ?? '', /^250 /);
      raw.close();
      const inbox = await fx.messages(anna.id);
      assert.equal(inbox.length, 1, 'both spellings reach one account once');
      assert.ok(inbox[0]?.includes(`Subject: Grüße\r\n\r\n${body}`));
      assert.ok(inbox[0]?.includes('From: José <josé@exämple.org>'));
    });

    it('answers NOTIFY=SUCCESS with a "delivered" DSN to the sender (RFC 3461)', async () => {
      const raw = await RawSmtp.connect(fx.mxPort);
      await raw.replies(1);
      await raw.command('EHLO client.remote.test');
      assert.match(
        await raw.command('MAIL FROM:<sender@remote.test> RET=FULL ENVID=abc+2B1'),
        /^250 /,
      );
      assert.match(
        await raw.command(
          'RCPT TO:<bob@example.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;bob@example.test',
        ),
        /^250 /,
      );
      assert.match(await raw.command('RCPT TO:<alice@example.test> NOTIFY=NEVER'), /^250 /);
      assert.match(await raw.command('DATA'), /^354 /);
      raw.write(`${message('sender@remote.test', 'bob@example.test', 'dsn-success')}\r\n.\r\n`);
      assert.match((await raw.replies(1))[0] ?? '', /^250 /);
      raw.close();
      const notices = (await fx.queue.list()).filter((e) => e.isBounce);
      assert.equal(notices.length, 1);
      const notice = notices[0];
      assert.ok(notice);
      assert.equal(notice.from, '');
      assert.deepEqual(
        notice.recipients.map((r) => r.address),
        ['sender@remote.test'],
      );
      const text = new TextDecoder().decode(await fx.queue.message(notice));
      assert.match(text, /^Subject: Successful Mail Delivery Report\r\n/m);
      assert.match(text, /^Original-Envelope-Id: abc\+1\r\n/m);
      assert.match(
        text,
        /^Original-Recipient: rfc822;bob@example\.test\r\nFinal-Recipient: rfc822; bob@example\.test\r\nAction: delivered\r\nStatus: 2\.0\.0\r\n/m,
      );
      assert.doesNotMatch(text, /alice@example\.test/);
      assert.match(text, /Content-Type: text\/rfc822-headers/);
      await fx.queue.delete(notice.id);
    });

    it('removes Authentication-Results that claim to be ours', async () => {
      await mx(fx).sendMail({
        envelope: { from: 'sender@remote.test', to: ['bob@example.test'] },
        raw:
          'Authentication-Results: mx.example.test; dkim=pass header.d=bank.test\r\n' +
          'Authentication-Results: other.example; spf=pass\r\n' +
          message('sender@remote.test', 'bob@example.test', 'forged-ar'),
      });
      const text = (await fx.messages(fx.accounts.bob)).find((m) => m.includes('forged-ar')) ?? '';
      assert.doesNotMatch(text, /dkim=pass header\.d=bank\.test/);
      assert.match(text, /^Authentication-Results: other\.example; spf=pass\r\n/m);
      assert.equal(text.match(/^Authentication-Results: mx\.example\.test;/gm)?.length, 1);
    });
  });

  describe('submission', () => {
    let fx: SmtpFixture;
    before(async () => {
      fx = await startSmtp({ deps: { loopbackPlaintextAuth: false } });
      await fx.dkim.generate('example.test', { selector: 'sel1' });
    });
    after(() => fx?.stop());

    it('requires AUTH before MAIL (530 5.7.0)', async () => {
      const raw = await RawSmtp.connect(fx.submissionPort);
      await raw.replies(1);
      const ehlo = await raw.command('EHLO client');
      assert.match(ehlo, /^250[- ]STARTTLS/m);
      assert.match(await raw.command('MAIL FROM:<alice@example.test>'), /^530 5\.7\.0 /);
      raw.close();
    });

    it('offers AUTH only once the connection is encrypted', async () => {
      const raw = await RawSmtp.connect(fx.submissionPort);
      await raw.replies(1);
      assert.doesNotMatch(await raw.command('EHLO client'), /AUTH/);
      assert.match(await raw.startTls(), /^220 /);
      const ehlo = await raw.command('EHLO client');
      assert.match(ehlo, /^250[- ]AUTH PLAIN LOGIN$/m);
      assert.doesNotMatch(ehlo, /STARTTLS/);
      raw.close();
    });

    it('takes a password only over TLS (538 5.7.11 before STARTTLS)', async () => {
      const raw = await RawSmtp.connect(fx.submissionPort);
      await raw.replies(1);
      await raw.command('EHLO client');
      const plain = Buffer.from(`\0alice@example.test\0${PASSWORD}`).toString('base64');
      assert.match(await raw.command(`AUTH PLAIN ${plain}`), /^538 5\.7\.11 /);
      raw.close();
      // A client that stays in plaintext is offered no AUTH, so it can't send at all.
      const err = await refused(
        submission(fx, 'alice@example.test', { ignoreTLS: true }).sendMail({
          envelope: { from: 'alice@example.test', to: ['bob@example.test'] },
          raw: message('alice@example.test', 'bob@example.test', 'plain'),
        }),
      );
      assert.match(err.response ?? '', /^530 5\.7\.0 /);
      assert.equal(
        (await fx.messages(fx.accounts.bob)).filter((m) => m.includes('Subject: plain\r\n')).length,
        0,
      );
    });

    it('authenticates after STARTTLS and on implicit TLS; wrong passwords get 535 5.7.8', async () => {
      await submission(fx).verify();
      await submission(fx, 'alice@example.test', { implicit: true }).verify();
      const err = await refused(submission(fx, 'alice@example.test', { pass: 'wrong' }).verify());
      assert.match((err as SendError).response ?? '', /^535 5\.7\.8 /);
    });

    it('delivers to local recipients directly, adding Message-ID, Date and a DKIM signature', async () => {
      const raw =
        'From: Alice <alice@example.test>\r\nTo: bob@example.test\r\nSubject: direct\r\n\r\nHi Bob\r\n';
      await submission(fx).sendMail({
        envelope: { from: 'alice@example.test', to: ['bob@example.test'] },
        raw,
      });
      const text = (await fx.messages(fx.accounts.bob)).find((m) => m.includes('Subject: direct'));
      assert.ok(text);
      assert.match(text, /^DKIM-Signature: .*d=example\.test/m);
      assert.match(text, /s=sel1/);
      assert.match(text, /^Message-ID: <[0-9a-f]+@mx\.example\.test>\r\n/m);
      assert.match(text, /^Date: \w{3}, /m);
      assert.match(text, /with ESMTPSA id/);
    });

    it('lets a user send as their own addresses, aliases and subaddresses only', async () => {
      await submission(fx).sendMail({
        envelope: { from: 'a.liddell@example.test', to: ['bob@example.test'] },
        raw: message('"Alice" <a.liddell@example.test>', 'bob@example.test', 'alias-sender'),
      });
      await submission(fx).sendMail({
        envelope: { from: 'alice+lists@example.test', to: ['bob@example.test'] },
        raw: message('alice+lists@example.test', 'bob@example.test', 'detail-sender'),
      });
      const envelope = await refused(
        submission(fx).sendMail({
          envelope: { from: 'bob@example.test', to: ['carol@example.test'] },
          raw: message('bob@example.test', 'carol@example.test', 'spoof'),
        }),
      );
      assert.match(envelope.response ?? '', /^553 5\.7\.1 /);
      const header = await refused(
        submission(fx).sendMail({
          envelope: { from: 'alice@example.test', to: ['carol@example.test'] },
          raw: message('Bob <bob@example.test>', 'carol@example.test', 'spoof-header'),
        }),
      );
      assert.match(header.response ?? '', /^550 5\.7\.1 /);
      const nullSender = await refused(
        submission(fx).sendMail({
          envelope: { from: '', to: ['carol@example.test'] },
          raw: message('alice@example.test', 'carol@example.test', 'null'),
        }),
      );
      assert.match(nullSender.response ?? '', /^553 5\.7\.1 /);
    });

    it('lets a group member send as the group address', async () => {
      await submission(fx, 'bob@example.test').sendMail({
        envelope: { from: 'team@example.test', to: ['carol@example.test'] },
        raw: message('Team <team@example.test>', 'carol@example.test', 'as-group'),
      });
      const carol = await fx.messages(fx.accounts.carol);
      assert.equal(carol.filter((m) => m.includes('as-group')).length, 1);
    });

    it('queues remote recipients durably before answering', async () => {
      const info = await submission(fx).sendMail({
        envelope: { from: 'alice@example.test', to: ['ext@remote.test', 'bob@example.test'] },
        raw: message('alice@example.test', 'ext@remote.test', 'to-remote'),
      });
      assert.deepEqual(info.accepted.sort(), ['bob@example.test', 'ext@remote.test']);
      const queued = await fx.queue.list();
      const entry = queued.find((e) => e.recipients.some((r) => r.address === 'ext@remote.test'));
      assert.ok(entry, 'the remote recipient is in the queue');
      assert.equal(entry.from, 'alice@example.test');
      assert.equal(entry.recipients.length, 1);
      assert.equal(entry.submitter, fx.accounts.alice);
      const body = new TextDecoder().decode(await fx.queue.message(entry));
      assert.match(body, /^DKIM-Signature: /);
    });
  });

  describe('limits and lifecycle', () => {
    let fx: SmtpFixture | undefined;
    afterEach(async () => {
      await fx?.stop();
      fx = undefined;
    });

    const start = async (options: FixtureOptions): Promise<SmtpFixture> => {
      fx = await startSmtp(options);
      return fx;
    };

    it('limits recipients per message (452 4.5.3)', async () => {
      const f = await start({ settings: { maxRecipients: 2 } });
      const raw = await RawSmtp.connect(f.mxPort);
      await raw.replies(1);
      await raw.command('EHLO c');
      await raw.command('MAIL FROM:<s@remote.test>');
      assert.match(await raw.command('RCPT TO:<alice@example.test>'), /^250 /);
      assert.match(await raw.command('RCPT TO:<bob@example.test>'), /^250 /);
      assert.match(await raw.command('RCPT TO:<carol@example.test>'), /^452 4\.5\.3 /);
      raw.close();
    });

    it('limits the connection rate per client address (421 4.7.0)', async () => {
      const f = await start({ settings: { connectionRateLimit: 2 } });
      for (let i = 0; i < 2; i++) {
        const ok = await RawSmtp.connect(f.mxPort);
        assert.match((await ok.replies(1))[0] ?? '', /^220 /);
        ok.close();
      }
      const third = await RawSmtp.connect(f.mxPort);
      assert.match((await third.replies(1))[0] ?? '', /^421 4\.7\.0 /);
      third.close();
    });

    it('limits concurrent connections per client address', async () => {
      const f = await start({ env: { COMMUNE_LIMITS_MAX_CONNECTIONS_PER_ADDRESS: '2' } });
      const a = await RawSmtp.connect(f.mxPort);
      const b = await RawSmtp.connect(f.mxPort);
      await a.replies(1);
      await b.replies(1);
      const c = await RawSmtp.connect(f.mxPort);
      assert.match((await c.replies(1))[0] ?? '', /^421 4\.7\.0 /);
      a.close();
      b.close();
      c.close();
    });

    it('limits the message rate per client address on the MX', async () => {
      const f = await start({ settings: { messageRateLimit: 1 } });
      const raw = await RawSmtp.connect(f.mxPort);
      await raw.replies(1);
      await raw.command('EHLO c');
      assert.match(await raw.command('MAIL FROM:<s@remote.test>'), /^250 /);
      await raw.command('RSET');
      assert.match(await raw.command('MAIL FROM:<s@remote.test>'), /^451 4\.7\.1 /);
      raw.close();
    });

    it('limits submissions per user', async () => {
      const f = await start({ settings: { submissionRateLimit: 1 } });
      const t = submission(f);
      await t.sendMail({
        envelope: { from: 'alice@example.test', to: ['bob@example.test'] },
        raw: message('alice@example.test', 'bob@example.test', 'one'),
      });
      const err = await refused(
        t.sendMail({
          envelope: { from: 'alice@example.test', to: ['bob@example.test'] },
          raw: message('alice@example.test', 'bob@example.test', 'two'),
        }),
      );
      assert.match(err.response ?? '', /^451 4\.7\.1 /);
    });

    it('closes idle connections with 421', async () => {
      const f = await start({ env: { COMMUNE_LIMITS_IDLE_TIMEOUT: '0.3' } });
      const raw = await RawSmtp.connect(f.mxPort);
      await raw.replies(1);
      const [bye] = await raw.replies(1, 3000);
      assert.match(bye ?? '', /^421 /);
      raw.close();
    });

    it('stops gracefully: idle sessions get 421 at once, a message in DATA is finished', async () => {
      const f = await start({});
      const idle = await RawSmtp.connect(f.mxPort);
      await idle.replies(1);
      await idle.command('EHLO c');
      const busy = await RawSmtp.connect(f.mxPort);
      await busy.replies(1);
      await busy.command('EHLO c');
      await busy.command('MAIL FROM:<s@remote.test>');
      await busy.command('RCPT TO:<bob@example.test>');
      assert.match(await busy.command('DATA'), /^354 /);
      busy.write('Subject: during stop\r\n\r\nfirst half\r\n');
      const stopping = f.server.stop(Date.now() + 3000);
      const [goodbye] = await idle.replies(1);
      assert.match(goodbye ?? '', /^421 4\.3\.2 /);
      busy.write('second half\r\n.\r\n');
      const [accepted] = await busy.replies(1);
      assert.match(accepted ?? '', /^250 /);
      const [after] = await busy.replies(1);
      assert.match(after ?? '', /^421 /);
      await stopping;
      const inbox = await f.messages(f.accounts.bob);
      assert.equal(inbox.filter((m) => m.includes('during stop')).length, 1);
      idle.close();
      busy.close();
    });

    it('serves implicit TLS on the submissions port', async () => {
      const f = await start({});
      const socket = tlsConnect({
        host: '127.0.0.1',
        port: f.submissionsPort,
        rejectUnauthorized: false,
      });
      const greeting = await new Promise<string>((resolve, reject) => {
        socket.once('data', (d: Buffer) => resolve(d.toString()));
        socket.once('error', reject);
      });
      assert.match(greeting, /^220 mx\.example\.test ESMTP/);
      assert.equal(socket.getProtocol(), 'TLSv1.3');
      socket.destroy();
    });
  });
});
