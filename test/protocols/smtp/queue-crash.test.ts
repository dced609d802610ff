/**
 * The outbound queue survives SIGKILL: a child process (queue-crash-child.ts) accepts 20
 * messages over submission and delivers them to an in-test sink; the sink kills the child
 * while a delivery is in flight (before answering it), twice, and restarts it each time. Every
 * accepted message must reach the sink exactly once.
 */

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import nodemailer from 'nodemailer';
import { openStorage } from '../../../src/storage/open-storage.ts';
import { OutboundQueue } from '../../../src/storage/queue/outbound-queue.ts';
import { SmtpSink } from './smtp-fixture.ts';

const CHILD = fileURLToPath(new URL('./queue-crash-child.ts', import.meta.url));
// Keep in step with queue-crash-child.ts.
const CHILD_PASSWORD = 'crash-test-password';
const MESSAGES = 20;
const KILL_AT = [5, 12];

interface Child {
  readonly process: ChildProcess;
  readonly port: number;
  readonly exited: Promise<NodeJS.Signals | number | null>;
}

async function spawnChild(dir: string, sinkPort: number): Promise<Child> {
  const child = spawn(process.execPath, [CHILD, dir, String(sinkPort)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) =>
    child.once('exit', (code, signal) => resolve(signal ?? code)),
  );
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout?.setEncoding('utf8').on('data', (s: string) => {
      out += s;
      const m = /ready (\d+)\n/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    void exited.then((how) => reject(new Error(`child exited (${String(how)}): ${stderr}`)));
  });
  return { process: child, port, exited };
}

describe('outbound queue crash safety', function () {
  this.timeout(60_000);
  let dir: string;
  let sink: SmtpSink;
  let child: Child | undefined;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'commune-queue-crash-'));
  });
  after(async () => {
    child?.process.kill('SIGKILL');
    await sink?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('loses nothing and sends nothing twice across SIGKILLs mid-queue', async () => {
    sink = new SmtpSink();
    let arrivals = 0;
    let openGate: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    const kills: Promise<unknown>[] = [];
    sink.onMessage = async () => {
      arrivals++;
      // step: hold deliveries until every submission was accepted
      await gate;
      if (KILL_AT.includes(arrivals) && child !== undefined) {
        const victim = child;
        child = undefined;
        victim.process.kill('SIGKILL');
        kills.push(victim.exited);
        await victim.exited;
        throw new Error('the delivering process died');
      }
    };
    const sinkPort = await sink.start();
    child = await spawnChild(dir, sinkPort);

    // 1. Submit: every 250 means the message is durable in the child's queue.
    const transport = nodemailer.createTransport({
      host: '127.0.0.1',
      port: child.port,
      tls: { rejectUnauthorized: false },
      auth: { user: 'alice@example.test', pass: CHILD_PASSWORD },
      pool: true,
      maxConnections: 4,
    });
    const accepted = await Promise.all(
      Array.from({ length: MESSAGES }, (_, i) =>
        transport
          .sendMail({
            envelope: { from: 'alice@example.test', to: [`r${i}@remote.test`] },
            raw: `From: alice@example.test\r\nTo: r${i}@remote.test\r\nSubject: crash-${i}\r\nMessage-ID: <crash-${i}@example.test>\r\n\r\nmessage ${i}\r\n`,
          })
          .then(() => i),
      ),
    );
    transport.close();
    assert.equal(accepted.length, MESSAGES);
    openGate();

    // 2. Each kill is followed by a restart on the same data directory.
    for (let k = 0; k < KILL_AT.length; k++) {
      const end = Date.now() + 30_000;
      while (kills.length <= k) {
        if (Date.now() > end) throw new Error(`kill ${k + 1} never happened`);
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.equal(await kills[k], 'SIGKILL');
      child = await spawnChild(dir, sinkPort);
    }

    // 3. Everything arrives, each exactly once, and nothing more comes.
    const end = Date.now() + 30_000;
    while (sink.messages.length < MESSAGES && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 50));
    }
    await new Promise((r) => setTimeout(r, 1500));
    const subjects = sink.messages.map((m) => /Subject: (crash-\d+)/.exec(m.data.toString())?.[1]);
    const counts = new Map<string, number>();
    for (const s of subjects) counts.set(s ?? '?', (counts.get(s ?? '?') ?? 0) + 1);
    for (let i = 0; i < MESSAGES; i++) {
      assert.equal(
        counts.get(`crash-${i}`),
        1,
        `crash-${i} delivered ${counts.get(`crash-${i}`) ?? 0} times`,
      );
    }
    assert.equal(sink.messages.length, MESSAGES);
    assert.ok(arrivals > MESSAGES, 'the killed deliveries were attempted again');

    // 4. A graceful stop leaves an empty queue behind.
    const running = child;
    child = undefined;
    running?.process.kill('SIGTERM');
    assert.equal(await running?.exited, 0);
    const storage = await openStorage({ backend: 'level', dataDir: dir });
    try {
      assert.deepEqual(await new OutboundQueue(storage).list(), []);
    } finally {
      await storage.close();
    }
  });
});
