/**
 * IMAP throughput and push latency: Commune against Dovecot (dovecot-imapd from Debian,
 * maildir) configured here in a temp dir on a loopback port, with the same messages appended
 * through IMAP to both and the same client: a minimal raw IMAP client (so the client's own
 * parsing does not flatten the comparison) over CLIENTS concurrent connections, each case run
 * for a bounded time, from a worker thread (the client never shares the server's event loop).
 *
 * Cases (every connection logged in with INBOX selected):
 *   SELECT             SELECT INBOX again and again
 *   FETCH envelopes    UID FETCH of a random 50-message window (UID FLAGS ENVELOPE), msgs/s
 *   FETCH bodies       UID FETCH <random uid> BODY.PEEK[]
 *   STORE              UID STORE <random uid> +FLAGS.SILENT / -FLAGS.SILENT (\Flagged)
 *   SEARCH             UID SEARCH SUBJECT <random word>
 *   IDLE wake-up       IDLERS connections in IDLE; another connection APPENDs; the time from
 *                      sending the APPEND to each idler reading its EXISTS, p50 and p99
 *
 * Environment: BENCH_IMAP_MESSAGES (1000), BENCH_IMAP_CLIENTS (8), BENCH_IMAP_IDLERS (8),
 * BENCH_IMAP_WAKEUPS (100), BENCH_SECONDS per case and server (5).
 */

import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { cpus, loadavg, tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { loadConfig } from '../src/core/config.ts';
import { silentLogger } from '../src/core/log.ts';
import { buildCore } from '../src/main.ts';
import { createImapServer } from '../src/protocols/imap/imap-server.ts';
import type { BenchModule, BenchResult, BenchRow } from './run.ts';
import { freePort, prng, throughputRow, type Measured } from './bench-support.ts';

const MESSAGES = Number(process.env.BENCH_IMAP_MESSAGES ?? 1000);
const CLIENTS = Number(process.env.BENCH_IMAP_CLIENTS ?? 8);
const IDLERS = Number(process.env.BENCH_IMAP_IDLERS ?? 8);
const WAKEUPS = Number(process.env.BENCH_IMAP_WAKEUPS ?? 100);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const WINDOW = 50;
const USER = 'bench';
const PASSWORD = 'bench-password';

const WORDS = [
  'budget',
  'meeting',
  'invoice',
  'travel',
  'release',
  'roadmap',
  'security',
  'holiday',
  'contract',
  'review',
  'launch',
  'hiring',
  'support',
  'design',
  'audit',
  'quarter',
  'office',
  'server',
  'customer',
  'partner',
];
const NAMES = ['Alice', 'Bruno', 'Chiara', 'Dmitri', 'Elena', 'Farid', 'Greta', 'Hugo'];

function pick<T>(rand: () => number, items: readonly T[]): T {
  return items[Math.floor(rand() * items.length)] as T;
}

/** The messages: 2-5 KB of text, every tenth with a 16 KB attachment. */
function corpus(): Buffer[] {
  const rand = prng(20260310);
  const out: Buffer[] = [];
  for (let i = 0; i < MESSAGES; i++) {
    const from = pick(rand, NAMES);
    const to = pick(rand, NAMES);
    const subject = `${pick(rand, WORDS)} ${pick(rand, WORDS)} #${i}`;
    const lines: string[] = [];
    const count = 30 + Math.floor(rand() * 40);
    for (let l = 0; l < count; l++) {
      lines.push(Array.from({ length: 8 }, () => pick(rand, WORDS)).join(' '));
    }
    const headers = [
      `From: ${from} <${from.toLowerCase()}@example.org>`,
      `To: ${to} <${to.toLowerCase()}@example.test>`,
      `Subject: ${subject}`,
      `Date: Tue, 10 Mar 2026 ${String(8 + (i % 10)).padStart(2, '0')}:00:00 +0000`,
      `Message-ID: <bench-${i}@example.org>`,
      'MIME-Version: 1.0',
    ];
    let text: string;
    if (i % 10 === 0) {
      const attachment = Buffer.alloc(16 * 1024, i % 251).toString('base64');
      text = [
        ...headers,
        'Content-Type: multipart/mixed; boundary="b"',
        '',
        '--b',
        'Content-Type: text/plain; charset=utf-8',
        '',
        ...lines,
        '--b',
        'Content-Type: application/pdf; name="report.pdf"',
        'Content-Transfer-Encoding: base64',
        'Content-Disposition: attachment; filename="report.pdf"',
        '',
        ...(attachment.match(/.{1,76}/g) ?? []),
        '--b--',
        '',
      ].join('\r\n');
    } else {
      text = [...headers, 'Content-Type: text/plain; charset=utf-8', '', ...lines, ''].join('\r\n');
    }
    out.push(Buffer.from(text));
  }
  return out;
}

/**
 * A minimal IMAP client: one command at a time, literals skipped by their size so a body
 * can never be mistaken for a response line; untagged lines go to `onUntagged`.
 */
class Connection {
  readonly #socket: net.Socket;
  #buf: Buffer = Buffer.alloc(0);
  #literal = 0;
  #continuation = false;
  #tag = 0;
  #waiting: { tag: string; resolve: (line: string) => void } | undefined;
  #greeted: (() => void) | undefined;
  #failed: ((err: Error) => void) | undefined;
  onUntagged: ((line: string) => void) | undefined;

  private constructor(socket: net.Socket) {
    this.#socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#receive(chunk));
    const fail = (err: Error): void => {
      this.#failed?.(err);
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('connection closed')));
  }

  static async open(port: number): Promise<Connection> {
    const socket = net.connect({ host: '127.0.0.1', port });
    const conn = new Connection(socket);
    await new Promise<void>((resolve, reject) => {
      conn.#greeted = resolve;
      conn.#failed = reject;
    });
    return conn;
  }

  /** Open, log in and select INBOX. */
  static async ready(port: number, select = true): Promise<Connection> {
    const conn = await Connection.open(port);
    await conn.ok(`LOGIN ${USER} ${PASSWORD}`);
    if (select) await conn.ok('SELECT INBOX');
    return conn;
  }

  #receive(chunk: Buffer): void {
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    let pos = 0;
    while (pos < this.#buf.length) {
      if (this.#literal > 0) {
        const take = Math.min(this.#literal, this.#buf.length - pos);
        pos += take;
        this.#literal -= take;
        if (this.#literal > 0) break;
        continue;
      }
      const eol = this.#buf.indexOf('\r\n', pos);
      if (eol < 0) break;
      const line = this.#buf.toString('latin1', pos, eol);
      pos = eol + 2;
      const literal = /\{(\d+)\+?\}$/.exec(line);
      const continued = this.#continuation;
      this.#continuation = literal !== null;
      if (literal !== null) this.#literal = Number(literal[1]);
      if (continued) continue;
      this.#line(line);
    }
    this.#buf = this.#buf.subarray(pos);
  }

  #line(line: string): void {
    if (this.#greeted !== undefined) {
      const greeted = this.#greeted;
      this.#greeted = undefined;
      greeted();
      return;
    }
    const waiting = this.#waiting;
    if (waiting !== undefined && line.startsWith(`${waiting.tag} `)) {
      this.#waiting = undefined;
      waiting.resolve(line);
      return;
    }
    this.onUntagged?.(line);
  }

  /** Send a command; resolve with its tagged response line. */
  command(text: string | Buffer, literal?: Buffer): Promise<string> {
    const tag = `t${++this.#tag}`;
    return new Promise((resolve, reject) => {
      this.#waiting = { tag, resolve };
      this.#failed = reject;
      const head = typeof text === 'string' ? Buffer.from(text) : text;
      const parts = [Buffer.from(`${tag} `), head];
      if (literal !== undefined) {
        parts.push(Buffer.from(` {${literal.length}+}\r\n`), literal);
      }
      parts.push(Buffer.from('\r\n'));
      this.#socket.write(Buffer.concat(parts));
    });
  }

  /** A command that must succeed. */
  async ok(text: string, literal?: Buffer): Promise<string> {
    const line = await this.command(text, literal);
    if (!/^t\d+ OK/.test(line)) throw new Error(`${text.slice(0, 40)}: ${line}`);
    return line;
  }

  write(text: string): void {
    this.#socket.write(text);
  }

  close(): void {
    this.#failed = undefined;
    this.#socket.destroy();
  }
}

type Operation = (conn: Connection, rand: () => number) => Promise<number>;

const CASES: readonly { name: string; unit: string; op: Operation }[] = [
  {
    name: 'SELECT',
    unit: 'ops/s',
    op: async (conn) => {
      await conn.ok('SELECT INBOX');
      return 1;
    },
  },
  {
    name: `FETCH envelopes (${WINDOW})`,
    unit: 'msgs/s',
    op: async (conn, rand) => {
      const start = 1 + Math.floor(rand() * (MESSAGES - WINDOW));
      await conn.ok(`UID FETCH ${start}:${start + WINDOW - 1} (UID FLAGS ENVELOPE)`);
      return WINDOW;
    },
  },
  {
    name: 'FETCH bodies',
    unit: 'msgs/s',
    op: async (conn, rand) => {
      await conn.ok(`UID FETCH ${1 + Math.floor(rand() * MESSAGES)} BODY.PEEK[]`);
      return 1;
    },
  },
  {
    name: 'STORE',
    unit: 'ops/s',
    op: async (conn, rand) => {
      const sign = rand() < 0.5 ? '+' : '-';
      await conn.ok(
        `UID STORE ${1 + Math.floor(rand() * MESSAGES)} ${sign}FLAGS.SILENT (\\Flagged)`,
      );
      return 1;
    },
  },
  {
    name: 'SEARCH',
    unit: 'ops/s',
    op: async (conn, rand) => {
      await conn.ok(`UID SEARCH SUBJECT ${pick(rand, WORDS)}`);
      return 1;
    },
  },
];

/** Run `op` on CLIENTS connections for SECONDS; units per second. */
async function measure(port: number, op: Operation): Promise<Measured> {
  const conns = await Promise.all(Array.from({ length: CLIENTS }, () => Connection.ready(port)));
  try {
    let done = 0;
    let errors = 0;
    let firstError: unknown;
    const started = performance.now();
    const end = started + SECONDS * 1000;
    await Promise.all(
      conns.map(async (conn, i) => {
        const rand = prng(0x9e3779b9 ^ (i + 1));
        while (performance.now() < end) {
          try {
            const units = await op(conn, rand);
            done += units;
          } catch (err) {
            errors++;
            firstError ??= err;
            if (errors > 100) throw err;
          }
        }
      }),
    );
    if (errors > 0 && done === 0) throw firstError;
    return { rate: done / ((performance.now() - started) / 1000), errors };
  } finally {
    for (const c of conns) c.close();
  }
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

/** IDLE wake-up: the time from sending an APPEND to each idler reading its EXISTS. */
async function idleLatency(port: number): Promise<{ p50: number; p99: number }> {
  const idlers = await Promise.all(Array.from({ length: IDLERS }, () => Connection.ready(port)));
  const appender = await Connection.ready(port, false);
  const status = await new Promise<number>((resolve, reject) => {
    appender.onUntagged = (line) => {
      const m = /MESSAGES (\d+)/.exec(line);
      if (m !== null) resolve(Number(m[1]));
    };
    appender.ok('STATUS INBOX (MESSAGES)').catch(reject);
  });
  appender.onUntagged = undefined;
  const samples: number[] = [];
  try {
    // step: every idler in IDLE ("+ idling")
    await Promise.all(
      idlers.map(
        (conn) =>
          new Promise<void>((resolve) => {
            conn.onUntagged = (line) => {
              if (line.startsWith('+')) resolve();
            };
            conn.write('idle IDLE\r\n');
          }),
      ),
    );
    const note = Buffer.from('Subject: wake up\r\nFrom: bench@example.org\r\n\r\nWake up.\r\n');
    for (let k = 1; k <= WAKEUPS; k++) {
      const target = status + k;
      let sent = 0;
      const seen = Promise.all(
        idlers.map(
          (conn) =>
            new Promise<void>((resolve, reject) => {
              const timer = setTimeout(() => reject(new Error('no EXISTS within 5 s')), 5000);
              conn.onUntagged = (line) => {
                if (line === `* ${target} EXISTS`) {
                  samples.push(performance.now() - sent);
                  clearTimeout(timer);
                  resolve();
                }
              };
            }),
        ),
      );
      sent = performance.now();
      await appender.ok('APPEND INBOX', note);
      await seen;
      await new Promise((r) => setTimeout(r, 5));
    }
  } finally {
    for (const c of idlers) c.close();
    appender.close();
  }
  samples.sort((a, b) => a - b);
  return { p50: percentile(samples, 50), p99: percentile(samples, 99) };
}

/** Append the corpus to the user's INBOX (not measured). */
async function populate(port: number, messages: readonly Buffer[]): Promise<void> {
  const conn = await Connection.ready(port, false);
  try {
    for (const m of messages) await conn.ok('APPEND INBOX', m);
  } finally {
    conn.close();
  }
}

// ---- load generation in a worker thread ----

interface Load {
  readonly role: 'imap-bench-load';
  readonly port: number;
  readonly caseName: string;
}

function inWorker<T>(port: number, caseName: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL(import.meta.url), {
      workerData: { role: 'imap-bench-load', port, caseName } satisfies Load,
    });
    worker.once('message', (m: T | { error: string }) =>
      typeof m === 'object' && m !== null && 'error' in m ? reject(new Error(m.error)) : resolve(m),
    );
    worker.once('error', reject);
  });
}

const load = workerData as Partial<Load> | null;
if (!isMainThread && load?.role === 'imap-bench-load') {
  const port = load.port ?? 0;
  const c = CASES.find((x) => x.name === load.caseName);
  const run =
    load.caseName === 'populate'
      ? populate(port, corpus())
      : load.caseName === 'idle'
        ? idleLatency(port)
        : c === undefined
          ? Promise.reject(new Error(`no case ${load.caseName}`))
          : measure(port, c.op);
  run.then(
    (m) => parentPort?.postMessage(m ?? {}),
    (err: unknown) => parentPort?.postMessage({ error: String(err) }),
  );
}

interface ServerResults {
  readonly cases: Map<string, Measured>;
  idle: { p50: number; p99: number };
}

/**
 * Every case on each server back to back (Commune, then the reference), so a change in the
 * machine's load during the run affects both sides of a ratio alike.
 */
async function runAll(ports: readonly number[]): Promise<ServerResults[]> {
  for (const port of ports) await inWorker(port, 'populate');
  const results: ServerResults[] = ports.map(() => ({
    cases: new Map(),
    idle: { p50: NaN, p99: NaN },
  }));
  for (const c of CASES) {
    for (const [i, port] of ports.entries()) {
      results[i]?.cases.set(c.name, await inWorker<Measured>(port, c.name));
    }
  }
  for (const [i, port] of ports.entries()) {
    const r = results[i];
    if (r !== undefined) r.idle = await inWorker(port, 'idle');
  }
  return results;
}

// ---- the servers ----

async function startCommune(dir: string) {
  const config = loadConfig({
    env: {
      COMMUNE_DATA_DIR: join(dir, 'commune'),
      COMMUNE_LOG_LEVEL: 'silent',
      COMMUNE_IMAP_PORT: '0',
      COMMUNE_IMAPS_ENABLED: 'false',
    },
  });
  const core = await buildCore(config, silentLogger());
  await core.directory.createPrincipal({ address: `${USER}@example.test`, password: PASSWORD });
  const server = createImapServer(core);
  const [endpoint] = await server.start();
  return {
    port: endpoint?.port ?? 0,
    stop: async () => {
      await server.stop(Date.now() + 2000);
      await core.storage.close();
    },
  };
}

function dovecotBinary(): string | undefined {
  for (const bin of ['dovecot', '/usr/sbin/dovecot']) {
    if (spawnSync(bin, ['--version'], { stdio: 'ignore' }).status === 0) return bin;
  }
  return undefined;
}

/** The account Dovecot runs as: its own users under root, else the current user. */
function dovecotUsers(): { internal: string; login: string; uid: number; gid: number } {
  const me = userInfo();
  if (me.uid !== 0) return { internal: me.username, login: me.username, uid: me.uid, gid: me.gid };
  const id = (flag: string, name: string): number =>
    Number(spawnSync('id', [flag, name], { encoding: 'utf8' }).stdout.trim());
  return {
    internal: 'dovecot',
    login: 'dovenull',
    uid: id('-u', 'dovecot'),
    gid: id('-g', 'dovecot'),
  };
}

async function startDovecot(bin: string, dir: string) {
  const root = join(dir, 'dovecot');
  const users = dovecotUsers();
  for (const sub of ['mail', 'home']) {
    mkdirSync(join(root, sub), { recursive: true });
    chownSync(join(root, sub), users.uid, users.gid);
  }
  const port = await freePort();
  const conf = join(root, 'dovecot.conf');
  writeFileSync(
    conf,
    [
      'protocols = imap',
      'listen = 127.0.0.1',
      `base_dir = ${join(root, 'run')}`,
      `state_dir = ${join(root, 'state')}`,
      'instance_name = commune-bench',
      `log_path = ${join(root, 'dovecot.log')}`,
      'ssl = no',
      'disable_plaintext_auth = no',
      'auth_mechanisms = plain login',
      `mail_location = maildir:${join(root, 'mail')}/%u`,
      `default_internal_user = ${users.internal}`,
      `default_internal_group = ${users.internal}`,
      `default_login_user = ${users.login}`,
      'first_valid_uid = 1',
      'passdb {',
      '  driver = static',
      `  args = password=${PASSWORD}`,
      '}',
      'userdb {',
      '  driver = static',
      `  args = uid=${users.uid} gid=${users.gid} home=${join(root, 'home')}/%u`,
      '}',
      'service imap-login {',
      '  chroot =',
      '  inet_listener imap {',
      '    address = 127.0.0.1',
      `    port = ${port}`,
      '  }',
      '  inet_listener imaps {',
      '    port = 0',
      '  }',
      '}',
      'service anvil {',
      '  chroot =',
      '}',
      'protocol imap {',
      '  mail_max_userip_connections = 1000',
      '}',
      '',
    ].join('\n'),
  );
  // step: foreground (-F), so this process owns the master's PID and stops it
  const child: ChildProcess = spawn(bin, ['-F', '-c', conf], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    if (child.exitCode === null) child.kill('SIGKILL');
  };
  for (let i = 0; ; i++) {
    try {
      const probe = await Connection.ready(port, false);
      probe.close();
      break;
    } catch (err) {
      if (i > 100 || child.exitCode !== null) {
        await stop();
        throw new Error(`dovecot did not start: ${stderr}`, { cause: err });
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return { port, stop };
}

const imapBench: BenchModule = {
  name: 'imap',
  async run(): Promise<BenchResult> {
    const dir = mkdtempSync(join(tmpdir(), 'commune-bench-imap-'));
    // step: Dovecot's unprivileged processes must reach their directories
    chmodSync(dir, 0o755);
    const loadBefore = loadavg();
    try {
      const commune = await startCommune(dir);
      const bin = dovecotBinary();
      let ours: ServerResults;
      let theirs: ServerResults | undefined;
      try {
        const dovecot = bin === undefined ? undefined : await startDovecot(bin, dir);
        try {
          const ports = dovecot === undefined ? [commune.port] : [commune.port, dovecot.port];
          const [a, b] = await runAll(ports);
          if (a === undefined) throw new Error('no results');
          ours = a;
          theirs = b;
        } finally {
          await dovecot?.stop();
        }
      } finally {
        await commune.stop();
      }
      const rows: BenchRow[] = CASES.map((c) =>
        throughputRow({
          name: c.name,
          unit: c.unit,
          ours: ours.cases.get(c.name),
          theirs: theirs?.cases.get(c.name),
          referenceName: 'Dovecot',
        }),
      );
      for (const p of ['p50', 'p99'] as const) {
        rows.push({
          case: `IDLE wake-up ${p}`,
          unit: 'ms',
          commune: ours.idle[p],
          ...(theirs === undefined ? {} : { reference: theirs.idle[p] }),
          higherIsBetter: false,
        });
      }
      const size = corpus().reduce((sum, m) => sum + m.length, 0);
      return {
        reference: 'Dovecot imapd (maildir, default settings)',
        ...(bin === undefined
          ? { referenceSkipped: 'dovecot not found (apt-get install dovecot-imapd)' }
          : {}),
        rows,
        notes: [
          `${MESSAGES} messages (${(size / 1024 / 1024).toFixed(1)} MiB) in INBOX, ${CLIENTS} connections, ${SECONDS} s per case and server`,
          `IDLE: ${IDLERS} idling connections, ${WAKEUPS} APPENDs from another connection`,
          'Commune on the level store (embedded default), plain IMAP on loopback',
          `load average before: ${loadBefore.map((l) => l.toFixed(2)).join(' ')}, after: ${loadavg()
            .map((l) => l.toFixed(2))
            .join(' ')} (${cpus().length} CPUs)`,
        ],
      };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

export default imapBench;
