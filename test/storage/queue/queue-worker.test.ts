import assert from 'node:assert/strict';
import { silentLogger } from '../../../src/core/log.ts';
import { openStorage } from '../../../src/storage/open-storage.ts';
import { OutboundQueue } from '../../../src/storage/queue/outbound-queue.ts';
import { QUEUE_DEFAULTS } from '../../../src/storage/queue/queue-settings.ts';
import type { QueueSettings } from '../../../src/storage/queue/queue-settings.ts';
import { QueueWorker } from '../../../src/storage/queue/queue-worker.ts';
import type {
  DeliveryRequest,
  QueueTransport,
  RecipientOutcome,
  RecipientResult,
} from '../../../src/storage/queue/queue-worker.ts';
import type { Storage } from '../../../src/storage/storage.ts';

/** A transport scripted per recipient: a list of outcomes, one per attempt (last repeats). */
class ScriptedTransport implements QueueTransport {
  readonly attempts: { route: string; request: DeliveryRequest }[] = [];
  readonly script = new Map<string, RecipientOutcome[]>();
  delayMs = 0;

  async route(address: string): Promise<string> {
    return address.slice(address.indexOf('@') + 1);
  }

  async deliver(route: string, request: DeliveryRequest): Promise<RecipientResult[]> {
    this.attempts.push({ route, request });
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    return request.recipients.map((r) => {
      const plan = this.script.get(r.address) ?? ['delivered'];
      const outcome =
        plan.length > 1 ? (plan.shift() as RecipientOutcome) : (plan[0] ?? 'delivered');
      const reply =
        outcome === 'delivered'
          ? '250 2.0.0 ok'
          : outcome === 'deferred'
            ? '451 4.3.0 try later'
            : '550 5.1.1 no such user';
      return {
        address: r.address,
        outcome,
        result: reply,
        status: reply.split(' ')[1] ?? '',
        remoteMta: `mx.${route}`,
        ...(outcome === 'delivered' ? { action: 'relayed' as const } : {}),
      };
    });
  }

  deliveredTo(address: string): number {
    return this.attempts.filter((a) => a.request.recipients.some((r) => r.address === address))
      .length;
  }
}

const FAST: QueueSettings = {
  ...QUEUE_DEFAULTS,
  retryBase: 0.05,
  retryMaxInterval: 0.2,
  maxAge: 60,
  pollInterval: 0.02,
  leaseTime: 2,
  concurrency: 4,
};

async function waitFor(check: () => Promise<boolean> | boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}

const MESSAGE = new TextEncoder().encode(
  'From: alice@example.test\r\nTo: bob@remote.test\r\nSubject: hi\r\nMessage-ID: <m1@example.test>\r\n\r\nhello\r\n',
);

describe('QueueWorker', function () {
  this.timeout(15000);
  let storage: Storage;
  let queue: OutboundQueue;
  let transport: ScriptedTransport;
  let workers: QueueWorker[];

  const worker = (settings: Partial<QueueSettings> = {}, now?: () => number): QueueWorker => {
    const w = new QueueWorker({
      queue,
      transport,
      settings: { ...FAST, ...settings },
      hostname: 'mx.example.test',
      log: silentLogger(),
      random: () => 0.5,
      ...(now === undefined ? {} : { now }),
    });
    workers.push(w);
    return w;
  };

  beforeEach(async () => {
    storage = await openStorage({ backend: 'memory', dataDir: '' });
    queue = new OutboundQueue(storage);
    transport = new ScriptedTransport();
    workers = [];
  });
  afterEach(async () => {
    await Promise.all(workers.map((w) => w.stop(Date.now() + 1000)));
    await storage.close();
  });

  it('delivers a queued message once and removes it', async () => {
    worker().start();
    const entry = await queue.enqueue({
      from: 'alice@example.test',
      recipients: [{ address: 'bob@remote.test' }, { address: 'carol@other.test' }],
      message: MESSAGE,
    });
    await waitFor(async () => (await queue.get(entry.id)) === undefined);
    assert.equal(transport.deliveredTo('bob@remote.test'), 1);
    assert.equal(transport.deliveredTo('carol@other.test'), 1);
    assert.deepEqual(transport.attempts.map((a) => a.route).sort(), ['other.test', 'remote.test']);
    assert.deepEqual(transport.attempts[0]?.request.message, MESSAGE);
  });

  it('retries a temporary failure with backoff, and only the recipients still pending', async () => {
    transport.script.set('bob@remote.test', ['deferred', 'deferred', 'delivered']);
    worker().start();
    const entry = await queue.enqueue({
      from: 'alice@example.test',
      recipients: [{ address: 'bob@remote.test' }, { address: 'dave@remote.test' }],
      message: MESSAGE,
    });
    await waitFor(() => transport.attempts.length >= 1);
    const afterFirst = await queue.get(entry.id);
    assert.ok(afterFirst);
    await waitFor(async () => (await queue.get(entry.id)) === undefined);
    assert.equal(transport.deliveredTo('bob@remote.test'), 3);
    assert.equal(transport.deliveredTo('dave@remote.test'), 1, 'delivered recipient not retried');
    // attempts were spaced by the backoff (50 ms, then 100 ms)
    assert.equal(transport.attempts.length, 3);
  });

  it('bounces a permanent failure: a DSN to the sender is queued in the same commit', async () => {
    transport.script.set('nobody@remote.test', ['failed']);
    worker().start();
    const entry = await queue.enqueue({
      from: 'alice@example.test',
      recipients: [
        { address: 'nobody@remote.test', orcpt: 'rfc822;nobody@remote.test' },
        { address: 'bob@remote.test' },
      ],
      message: MESSAGE,
      envid: 'ENV+2B1',
    });
    await waitFor(() => transport.deliveredTo('alice@example.test') === 1);
    const dsn = transport.attempts.find((a) =>
      a.request.recipients.some((r) => r.address === 'alice@example.test'),
    );
    assert.ok(dsn);
    assert.equal(dsn.request.from, '', 'bounces use the null sender');
    const text = new TextDecoder().decode(dsn.request.message);
    assert.match(text, /^From: Mail Delivery System <MAILER-DAEMON@mx\.example\.test>\r\n/m);
    assert.match(text, /^To: <alice@example\.test>\r\n/m);
    assert.match(text, /^Auto-Submitted: auto-replied\r\n/m);
    assert.match(text, /Content-Type: multipart\/report; report-type=delivery-status;/);
    assert.match(text, /^Reporting-MTA: dns; mx\.example\.test\r\n/m);
    assert.match(text, /^Original-Envelope-Id: ENV\+1\r\n/m);
    assert.match(text, /^Original-Recipient: rfc822;nobody@remote\.test\r\n/m);
    assert.match(text, /^Final-Recipient: rfc822; nobody@remote\.test\r\n/m);
    assert.match(text, /^Action: failed\r\n/m);
    assert.match(text, /^Status: 5\.1\.1\r\n/m);
    assert.match(text, /^Remote-MTA: dns; mx\.remote\.test\r\n/m);
    assert.match(text, /^Diagnostic-Code: smtp; 550 5\.1\.1 no such user\r\n/m);
    assert.ok(!text.includes('Final-Recipient: rfc822; bob@remote.test'));
    assert.match(text, /Content-Type: message\/rfc822\r\n\r\nFrom: alice@example\.test/);
    await waitFor(async () => (await queue.list()).length === 0);
    assert.equal(transport.deliveredTo('nobody@remote.test'), 1, 'a failure is not retried');
    assert.equal(await queue.get(entry.id), undefined);
  });

  it('never bounces a bounce, a null sender, or NOTIFY=NEVER', async () => {
    transport.script.set('x@remote.test', ['failed']);
    worker().start();
    await queue.enqueue({ from: '', recipients: [{ address: 'x@remote.test' }], message: MESSAGE });
    await queue.enqueue({
      from: 'alice@example.test',
      recipients: [{ address: 'x@remote.test', notify: [] }],
      message: MESSAGE,
    });
    await queue.enqueue({
      from: 'alice@example.test',
      recipients: [{ address: 'x@remote.test', notify: ['SUCCESS'] }],
      message: MESSAGE,
    });
    await waitFor(async () => (await queue.list()).length === 0);
    assert.equal(transport.deliveredTo('x@remote.test'), 3);
    assert.equal(transport.deliveredTo('alice@example.test'), 0);
  });

  it('reports NOTIFY=SUCCESS deliveries as "relayed" (best effort, in the final commit)', async () => {
    worker().start();
    await queue.enqueue({
      from: 'alice@example.test',
      recipients: [
        { address: 'bob@remote.test', notify: ['SUCCESS'] },
        { address: 'eve@remote.test' },
      ],
      message: MESSAGE,
    });
    await waitFor(() => transport.deliveredTo('alice@example.test') === 1);
    const notice = transport.attempts.find((a) => a.request.from === '');
    const text = new TextDecoder().decode(notice?.request.message);
    assert.match(text, /^Subject: Successful Mail Delivery Report\r\n/m);
    assert.match(
      text,
      /^Final-Recipient: rfc822; bob@remote\.test\r\nAction: relayed\r\nStatus: 2\.0\.0\r\nRemote-MTA: dns; mx\.remote\.test\r\n/m,
    );
    assert.doesNotMatch(text, /eve@remote\.test/);
  });

  it('bounces what is still pending at the maximum age (status 4.4.7)', async () => {
    transport.script.set('slow@remote.test', ['deferred']);
    const clock = { ms: Date.now() };
    queue = new OutboundQueue(storage, { now: () => clock.ms });
    worker({ maxAge: 3600 }, () => clock.ms).start();
    const entry = await queue.enqueue({
      from: 'alice@example.test',
      recipients: [{ address: 'slow@remote.test' }],
      message: MESSAGE,
      ret: 'HDRS',
    });
    await waitFor(() => transport.deliveredTo('slow@remote.test') >= 1);
    clock.ms += 3600_000;
    await waitFor(() => transport.deliveredTo('alice@example.test') === 1);
    const dsn = transport.attempts.find((a) => a.request.from === '');
    const text = new TextDecoder().decode(dsn?.request.message);
    assert.match(text, /^Status: 4\.4\.7\r\n/m);
    assert.match(text, /Diagnostic-Code: X-Commune; delivery time expired: 451 4\.3\.0 try later/);
    assert.match(text, /Content-Type: text\/rfc822-headers\r\n\r\nFrom: alice/);
    assert.ok(!text.includes('\r\nhello\r\n'), 'RET=HDRS returns the header only');
    await waitFor(async () => (await queue.get(entry.id)) === undefined);
  });

  it('two workers on one store deliver every message exactly once', async () => {
    transport.delayMs = 5;
    worker().start();
    worker().start();
    const ids = [];
    for (let i = 0; i < 40; i++) {
      const entry = await queue.enqueue({
        from: 'alice@example.test',
        recipients: [{ address: `r${i}@remote.test` }],
        message: MESSAGE,
      });
      ids.push(entry.id);
    }
    await waitFor(async () => (await queue.list()).length === 0);
    for (let i = 0; i < 40; i++) assert.equal(transport.deliveredTo(`r${i}@remote.test`), 1);
  });

  it('takes over an entry whose lease expired (its worker died)', async () => {
    const entry = await queue.enqueue({
      from: 'alice@example.test',
      recipients: [{ address: 'bob@remote.test' }],
      message: MESSAGE,
    });
    // a worker that claimed it and vanished
    assert.ok(await queue.claim(entry.id, 'dead-node', 300));
    worker().start();
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(transport.attempts.length, 0, 'the live lease is respected');
    await waitFor(async () => (await queue.get(entry.id)) === undefined);
    assert.equal(transport.deliveredTo('bob@remote.test'), 1);
  });

  it('renews its lease during a long delivery, so nobody else takes the entry', async () => {
    transport.delayMs = 700;
    worker({ leaseTime: 0.3 }).start();
    worker({ leaseTime: 0.3 }).start();
    const entry = await queue.enqueue({
      from: 'alice@example.test',
      recipients: [{ address: 'bob@remote.test' }],
      message: MESSAGE,
    });
    await waitFor(async () => (await queue.get(entry.id)) === undefined);
    assert.equal(transport.deliveredTo('bob@remote.test'), 1);
  });
});
