import assert from 'node:assert/strict';
import { CommuneError } from '../../../src/core/errors.ts';
import { RateLimiter } from '../../../src/protocols/smtp/rate-limiter.ts';
import { Replies, SmtpReply, replyOf } from '../../../src/protocols/smtp/smtp-reply.ts';
import { readSmtpSettings, SMTP_DEFAULTS } from '../../../src/protocols/smtp/smtp-settings.ts';
import { loadConfig } from '../../../src/core/config.ts';
import { QUEUE_DEFAULTS, readQueueSettings } from '../../../src/storage/queue/queue-settings.ts';
import type { Config } from '../../../src/core/config.ts';

describe('SmtpReply', () => {
  it('carries the code, the enhanced code and one clean line', () => {
    const r = new SmtpReply(550, '5.1.1', 'no such\r\nuser');
    assert.equal(r.responseCode, 550);
    assert.equal(r.message, '5.1.1 no such user');
    assert.equal(r.toString(), '550 5.1.1 no such user');
    assert.equal(r.temporary, false);
    assert.equal(new SmtpReply(451, '4.3.0', 'x').temporary, true);
    assert.throws(() => new SmtpReply(550, '4.1.1', 'class mismatch'), RangeError);
    assert.throws(() => new SmtpReply(250, '2.0', 'bad code'), RangeError);
  });

  it('renders errors in one place: CommuneErrors by code, anything else 451 without detail', () => {
    assert.equal(
      replyOf(new CommuneError('over-quota', 'x'), 'rcpt').toString(),
      Replies.mailboxFull().toString(),
    );
    assert.equal(
      replyOf(new CommuneError('over-quota', 'x'), 'data').toString(),
      '552 5.2.2 Mailbox full: quota exceeded',
    );
    assert.equal(replyOf(new CommuneError('auth-failed', 'x')).responseCode, 535);
    assert.equal(
      replyOf(new CommuneError('rate-limited', 'x')).toString(),
      '454 4.7.0 Too many attempts, try again later',
    );
    assert.equal(replyOf(new CommuneError('too-large', 'x')).enhanced, '5.3.4');
    const internal = replyOf(new Error('database password is hunter2'));
    assert.equal(internal.toString(), '451 4.3.0 Local error in processing, try again later');
    const own = Replies.relayDenied();
    assert.equal(replyOf(own), own);
  });
});

describe('RateLimiter', () => {
  it('allows `limit` events per window and slides', () => {
    const clock = { ms: 60_000 * 10 };
    const rl = new RateLimiter({ limit: 3, windowMs: 60_000, now: () => clock.ms });
    assert.deepEqual(
      [rl.take('a'), rl.take('a'), rl.take('a'), rl.take('a')],
      [true, true, true, false],
    );
    assert.equal(rl.take('b'), true, 'keys are separate');
    clock.ms += 60_000; // previous window fully weighted at the start of the next
    assert.equal(rl.take('a'), false);
    clock.ms += 40_000; // a third of the previous window still counts: 1 + 0 < 3
    assert.equal(rl.take('a'), true);
    clock.ms += 120_000;
    assert.deepEqual(
      [rl.take('a'), rl.take('a'), rl.take('a'), rl.take('a')],
      [true, true, true, false],
    );
  });

  it('0 is unlimited, and the key table stays bounded', () => {
    const open = new RateLimiter({ limit: 0, windowMs: 1000 });
    for (let i = 0; i < 1000; i++) assert.equal(open.take('x'), true);
    const small = new RateLimiter({ limit: 1, windowMs: 60_000, maxKeys: 2 });
    assert.equal(small.take('a'), true);
    small.take('b');
    small.take('c'); // evicts a
    assert.equal(small.take('a'), true, 'an evicted key starts over');
  });
});

describe('SMTP and queue settings', () => {
  it('fall back to the defaults when the configuration does not declare them', () => {
    const config = loadConfig({ env: {} });
    assert.deepEqual(readSmtpSettings(config), SMTP_DEFAULTS);
    assert.deepEqual(readQueueSettings(config), QUEUE_DEFAULTS);
  });

  it('read declared keys, ignore wrong types, and take overrides', () => {
    const config = {
      smtp: {
        maxMessageSize: 1_000_000,
        dmarcAction: 'junk',
        catchAll: 'A@x.test, b@y.test',
        maxRecipients: 'lots',
      },
      queue: { maxAge: 3600, smarthost: 'smtp://h:25', concurrency: 0 },
    } as unknown as Config;
    const smtp = readSmtpSettings(config, { verifyInbound: false });
    assert.equal(smtp.maxMessageSize, 1_000_000);
    assert.equal(smtp.dmarcAction, 'junk');
    assert.deepEqual(smtp.catchAll, ['a@x.test', 'b@y.test']);
    assert.equal(smtp.maxRecipients, SMTP_DEFAULTS.maxRecipients);
    assert.equal(smtp.verifyInbound, false);
    const queue = readQueueSettings(config);
    assert.equal(queue.maxAge, 3600);
    assert.equal(queue.smarthost, 'smtp://h:25');
    assert.equal(queue.concurrency, QUEUE_DEFAULTS.concurrency);
  });
});
