/**
 * The outbound queue across two nodes on one PostgreSQL schema, with node A in its own
 * process (node-child.ts) so it can die for real. Mail submitted to A is queued; the remote
 * MX (an in-test sink) holds A's deliveries unanswered while node B, started afterwards,
 * delivers the rest; B must leave A's leased messages alone while A lives (A renews its
 * leases), and after A is SIGKILLed B must deliver them once their leases expire. Every
 * message is accepted by the MX exactly once and the queue ends empty.
 */

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { requirePostgres } from '../storage/pg-test-db.ts';
import type { QueueSettings } from '../../src/storage/queue/queue-settings.ts';
import { MxSink } from './mx-sink.ts';
import { DOMAIN, seedDirectory, startPgNode, type PgNode, type PgNodeOptions } from './pg-node.ts';
import { freshDeployment, submitter, type Deployment } from './two-nodes.ts';

const CHILD = fileURLToPath(new URL('./node-child.ts', import.meta.url));
const MESSAGES = 10;
/** Short leases and polls so a dead node's messages come back quickly. */
const QUEUE: Partial<QueueSettings> = {
  leaseTime: 2,
  pollInterval: 0.05,
  retryBase: 0.2,
  concurrency: 2,
};
const NODE_A = `node-a.${DOMAIN}`;
const NODE_B = `node-b.${DOMAIN}`;

interface ChildNode {
  readonly process: ChildProcess;
  readonly submission: number;
  readonly dataDir: string;
  readonly exited: Promise<NodeJS.Signals | number | null>;
}

async function spawnNode(options: PgNodeOptions): Promise<ChildNode> {
  const child = spawn(process.execPath, [CHILD, JSON.stringify(options)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) =>
    child.once('exit', (code, signal) => resolve(signal ?? code)),
  );
  const ready = await new Promise<{ submission: number; dataDir: string }>((resolve, reject) => {
    let out = '';
    child.stdout?.setEncoding('utf8').on('data', (s: string) => {
      out += s;
      const m = /ready (\{.*\})\n/.exec(out);
      if (m) resolve(JSON.parse(m[1] ?? '{}') as { submission: number; dataDir: string });
    });
    void exited.then((how) => reject(new Error(`node A exited (${String(how)}): ${stderr}`)));
  });
  return { process: child, submission: ready.submission, dataDir: ready.dataDir, exited };
}

/** Wait until `done()` holds, polling; fail with `what` after `ms`. */
async function until(done: () => boolean, what: string, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!done()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('two nodes over PostgreSQL: outbound queue when a node dies', function () {
  this.timeout(90_000);
  requirePostgres();
  let deployment: Deployment | undefined;
  let sink: MxSink | undefined;
  let nodeA: ChildNode | undefined;
  let nodeB: PgNode | undefined;

  afterEach(async () => {
    if (nodeA !== undefined && nodeA.process.exitCode === null && !nodeA.process.killed) {
      nodeA.process.kill('SIGKILL');
      await nodeA.exited;
    }
    if (nodeA !== undefined) rmSync(nodeA.dataDir, { recursive: true, force: true });
    nodeA = undefined;
    await nodeB?.stop();
    nodeB = undefined;
    await sink?.stop();
    sink = undefined;
    await deployment?.drop();
    deployment = undefined;
  });

  it('node B delivers the mail queued on node A exactly once after A is SIGKILLed', async () => {
    deployment = freshDeployment();
    const mx = new MxSink();
    sink = mx;
    // step: A's deliveries stay unanswered until A is dead, then fail
    let killA: () => void = () => undefined;
    const aKilled = new Promise<void>((resolve) => (killA = resolve));
    mx.onMessage = async (d) => {
      if (d.helo === NODE_A) {
        await aKilled;
        throw new Error('the delivering node died');
      }
    };
    const mxPort = await mx.start();
    const settings = { ...QUEUE, mxPort };

    // 1. Node B (no queue worker yet) seeds the directory; node A runs in its own process.
    nodeB = await startPgNode(deployment.nodeOptions('b'));
    await seedDirectory(nodeB.core);
    nodeA = await spawnNode({ ...deployment.nodeOptions('a'), queue: settings });

    // 2. Submit to A: each 250 means the message is durable in the shared queue.
    const transport = submitter({ submissionPort: nodeA.submission }, 'bob');
    try {
      for (let i = 0; i < MESSAGES; i++) {
        const info = (await transport.sendMail({
          from: `bob@${DOMAIN}`,
          to: `r${i}@remote.test`,
          subject: `queued-${i}`,
          text: `Message ${i}.`,
        })) as { accepted: unknown[] };
        assert.deepEqual(info.accepted, [`r${i}@remote.test`]);
      }
    } finally {
      transport.close();
    }

    // 3. A holds as many deliveries as its concurrency allows, unanswered.
    const concurrency = QUEUE.concurrency ?? 1;
    await until(
      () => mx.arrived.filter((d) => d.helo === NODE_A).length === concurrency,
      `node A delivering ${concurrency} messages`,
    );
    const heldByA = new Set(mx.arrived.filter((d) => d.helo === NODE_A).map((d) => d.subject));
    assert.equal(heldByA.size, concurrency);

    // 4. B's worker starts and delivers everything A has not leased.
    await nodeB.startQueue(settings);
    await until(
      () => mx.accepted.length === MESSAGES - concurrency,
      'node B delivering the messages A did not hold',
    );
    assert.ok(mx.accepted.every((d) => d.helo === NODE_B && !heldByA.has(d.subject)));
    // step: for longer than a lease, A (alive, renewing) keeps its messages: B leaves them
    await new Promise((r) => setTimeout(r, (QUEUE.leaseTime ?? 1) * 1500));
    assert.equal(mx.accepted.length, MESSAGES - concurrency);
    assert.deepEqual(
      mx.arrived.filter((d) => heldByA.has(d.subject)).map((d) => d.helo),
      Array.from({ length: concurrency }, () => NODE_A),
      'only node A has tried its leased messages',
    );

    // 5. SIGKILL A mid-delivery; its leases expire and B takes the messages over.
    const victim = nodeA;
    victim.process.kill('SIGKILL');
    assert.equal(await victim.exited, 'SIGKILL');
    killA();
    await until(() => mx.accepted.length === MESSAGES, 'every message delivered');
    // step: anything sent twice would arrive within a few more polls
    await new Promise((r) => setTimeout(r, 1500));

    const counts = new Map<string, number>();
    for (const d of mx.accepted) counts.set(d.subject, (counts.get(d.subject) ?? 0) + 1);
    for (let i = 0; i < MESSAGES; i++) {
      assert.equal(
        counts.get(`queued-${i}`),
        1,
        `queued-${i} accepted ${counts.get(`queued-${i}`) ?? 0} times`,
      );
    }
    assert.equal(mx.accepted.length, MESSAGES);
    for (const subject of heldByA) {
      const taken = mx.accepted.find((d) => d.subject === subject);
      assert.equal(taken?.helo, NODE_B, `${subject} delivered by node B`);
    }
    assert.deepEqual(
      mx.accepted.map((d) => d.to).sort(),
      Array.from({ length: MESSAGES }, (_, i) => [`r${i}@remote.test`]).sort(),
    );
    // 6. Nothing left queued, nothing left leased.
    await nodeB.runner?.worker.idle();
    assert.deepEqual(await nodeB.core.queue.list(), []);
  });
});
