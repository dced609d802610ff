/**
 * Outbound delivery end to end: submission -> queue -> the remote MX (an in-test sink found
 * through the fixed DNS table), DKIM verified at the far end, retries of temporary failures,
 * bounces (RFC 3464) into the sender's INBOX, null MX and missing domains, the smarthost.
 */

import assert from 'node:assert/strict';
import { dkimVerify } from 'mailauth';
import nodemailer from 'nodemailer';
import { mailauthResolver } from '../../../src/protocols/smtp/resolver.ts';
import { dnsRecordOf } from '../../../src/storage/dkim/dkim-keys.ts';
import { PASSWORD, SmtpSink, startSmtp } from './smtp-fixture.ts';
import type { SmtpFixture } from './smtp-fixture.ts';

async function waitFor(check: () => Promise<boolean> | boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

function submit(fx: SmtpFixture, to: string[], subject: string, from = 'alice@example.test') {
  return nodemailer
    .createTransport({
      host: '127.0.0.1',
      port: fx.submissionPort,
      tls: { rejectUnauthorized: false },
      auth: { user: from, pass: PASSWORD },
    })
    .sendMail({
      envelope: { from, to },
      raw: `From: ${from}\r\nTo: ${to.join(', ')}\r\nSubject: ${subject}\r\n\r\nBody of ${subject}.\r\n`,
    });
}

const FAST = { retryBase: 0.1, retryMaxInterval: 0.5, pollInterval: 0.05, leaseTime: 5 };

describe('outbound delivery', function () {
  this.timeout(30000);
  let sink: SmtpSink;
  let fx: SmtpFixture;

  before(async () => {
    sink = new SmtpSink();
    const port = await sink.start();
    fx = await startSmtp({ queue: { ...FAST, mxPort: port } });
    const r = fx.resolver;
    r.set('remote.test', { MX: [{ exchange: 'mx.remote.test', priority: 10 }] });
    r.set('mx.remote.test', { A: ['127.0.0.1'] });
    r.set('backup.test', {
      MX: [
        { exchange: 'down.backup.test', priority: 5 },
        { exchange: 'mx.remote.test', priority: 20 },
      ],
    });
    r.set('down.backup.test', { A: ['127.0.0.2'] });
    r.set('nomx.test', { A: ['127.0.0.1'] });
    r.set('nullmx.test', { MX: [{ exchange: '.', priority: 0 }] });
    const key = await fx.dkim.generate('example.test', { selector: 'mail' });
    const record = dnsRecordOf(key);
    r.set(record.name, { TXT: [record.value] });
  });
  after(async () => {
    await fx?.stop();
    await sink?.stop();
  });
  beforeEach(() => {
    sink.messages.length = 0;
    sink.rcptReply = () => undefined;
  });

  it('delivers to the recipient domain MX; the DKIM signature verifies there', async () => {
    await submit(fx, ['ext@remote.test'], 'outbound-1');
    await waitFor(() => sink.messages.length === 1);
    const got = sink.messages[0];
    assert.ok(got);
    assert.equal(got.from, 'alice@example.test');
    assert.deepEqual(got.to, ['ext@remote.test']);
    const verified = await dkimVerify(got.data, { resolver: mailauthResolver(fx.resolver) });
    assert.equal(verified.results.length, 1);
    assert.equal(verified.results[0]?.status.result, 'pass');
    assert.equal(verified.results[0]?.signingDomain, 'example.test');
    await waitFor(async () => (await fx.queue.list()).length === 0);
  });

  it('tries the next MX when one does not answer, and the implicit MX without records', async () => {
    await submit(fx, ['x@backup.test', 'y@nomx.test'], 'outbound-2');
    await waitFor(() => sink.messages.length === 2);
    assert.deepEqual(sink.messages.map((m) => m.to[0]).sort(), ['x@backup.test', 'y@nomx.test']);
  });

  it('retries a temporary failure and delivers once it clears', async () => {
    let refusals = 0;
    sink.rcptReply = (address) => {
      if (address === 'later@remote.test' && refusals < 2) {
        refusals++;
        return { code: 451, text: 'Try again later' };
      }
      return undefined;
    };
    await submit(fx, ['later@remote.test'], 'outbound-3');
    await waitFor(() => sink.messages.length === 1);
    assert.equal(refusals, 2);
    assert.deepEqual(sink.messages[0]?.to, ['later@remote.test']);
    await waitFor(async () => (await fx.queue.list()).length === 0);
  });

  it('bounces a permanent failure into the sender INBOX (RFC 3464)', async () => {
    sink.rcptReply = (address) =>
      address === 'gone@remote.test' ? { code: 550, text: 'User unknown' } : undefined;
    await submit(fx, ['gone@remote.test', 'ok@remote.test'], 'outbound-4');
    await waitFor(async () =>
      (await fx.messages(fx.accounts.alice)).some((m) => m.includes('outbound-4')),
    );
    assert.equal(sink.messages.length, 1);
    assert.deepEqual(sink.messages[0]?.to, ['ok@remote.test']);
    const dsn = (await fx.messages(fx.accounts.alice)).find((m) => m.includes('outbound-4')) ?? '';
    assert.match(dsn, /^Subject: Undelivered Mail Returned to Sender\r\n/m);
    assert.match(dsn, /^Content-Type: multipart\/report; report-type=delivery-status;/m);
    assert.match(dsn, /^Final-Recipient: rfc822; gone@remote\.test\r\n/m);
    assert.match(dsn, /^Status: 5\.1\.1\r\n/m);
    assert.match(dsn, /^Remote-MTA: dns; mx\.remote\.test\r\n/m);
    assert.match(dsn, /^Diagnostic-Code: smtp; 550 5\.1\.1 User unknown\r\n/m);
    assert.doesNotMatch(dsn, /Final-Recipient: rfc822; ok@remote\.test/);
    assert.match(dsn, /Content-Type: message\/rfc822\r\n\r\n[\s\S]*Subject: outbound-4\r\n/);
  });

  it('bounces at once for a null MX (5.1.10) and a domain that does not exist (5.1.2)', async () => {
    await submit(fx, ['a@nullmx.test', 'b@no-such-domain.test'], 'outbound-5');
    await waitFor(async () =>
      (await fx.messages(fx.accounts.alice)).some((m) => m.includes('outbound-5')),
    );
    const dsn = (await fx.messages(fx.accounts.alice)).find((m) => m.includes('outbound-5')) ?? '';
    assert.match(
      dsn,
      /Final-Recipient: rfc822; a@nullmx\.test\r\nAction: failed\r\nStatus: 5\.1\.10/,
    );
    assert.match(
      dsn,
      /Final-Recipient: rfc822; b@no-such-domain\.test\r\nAction: failed\r\nStatus: 5\.1\.2/,
    );
    assert.equal(sink.messages.length, 0);
  });

  it('queues a local recipient whose delivery failed for a retry, and delivers it later', async () => {
    // carol's quota is 20,000 bytes: this message does not fit until the quota is raised
    const big = `${'z'.repeat(998)}\r\n`.repeat(25);
    await nodemailer
      .createTransport({ host: '127.0.0.1', port: fx.mxPort, tls: { rejectUnauthorized: false } })
      .sendMail({
        envelope: { from: 'someone@remote.test', to: ['bob@example.test', 'carol@example.test'] },
        raw: `From: someone@remote.test\r\nSubject: partial-local\r\n\r\n${big}`,
      });
    assert.ok((await fx.messages(fx.accounts.bob)).some((m) => m.includes('partial-local')));
    const queued = (await fx.queue.list()).find(
      (e) => e.recipients[0]?.address === 'carol@example.test',
    );
    assert.ok(queued, 'the failed recipient is queued');
    await fx.core.directory.setQuota(fx.accounts.carol, 0);
    await fx.queue.retryNow(queued.id);
    await waitFor(async () =>
      (await fx.messages(fx.accounts.carol)).some((m) => m.includes('partial-local')),
    );
  });
});

describe('outbound delivery through a smarthost', function () {
  this.timeout(20000);
  let sink: SmtpSink;
  let fx: SmtpFixture;

  before(async () => {
    sink = new SmtpSink();
    sink.auth = { user: 'relay', pass: 's3cret' };
    const port = await sink.start();
    fx = await startSmtp({
      queue: { ...FAST, smarthost: `smtp://relay:s3cret@127.0.0.1:${port}` },
    });
  });
  after(async () => {
    await fx?.stop();
    await sink?.stop();
  });

  it('relays every remote recipient through the smarthost with AUTH over STARTTLS', async () => {
    await submit(fx, ['x@anywhere.test', 'y@elsewhere.test'], 'via-smarthost');
    await waitFor(() => sink.messages.length === 1);
    assert.deepEqual(sink.messages[0]?.to.slice().sort(), ['x@anywhere.test', 'y@elsewhere.test']);
    assert.equal(sink.authenticated, 'relay');
    assert.equal(sink.secure, true);
  });
});
