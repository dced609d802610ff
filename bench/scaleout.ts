/**
 * Scale-out: the same IMAP and CalDAV load against three deployments in one run, each node a
 * real `commune serve` process configured only through its environment:
 *   level      one node on the embedded level store (the reference row)
 *   pg x1      one node on PostgreSQL
 *   pg x2      two nodes on one PostgreSQL database, clients split between them
 * PostgreSQL: a fresh database per deployment on PG_URL's server when PG_URL is set, else a
 * throwaway cluster (initdb + pg_ctl from /usr/lib/postgresql/<v>/bin on a loopback port,
 * stopped and removed at the end); without either the postgres rows are skipped, said why.
 * On the throwaway cluster the notes also give the PostgreSQL write transactions per round
 * (transaction ids handed out), the figure that sizes the database.
 *
 * Cases, CLIENTS concurrent clients, each its own user, each case bounded by BENCH_SECONDS
 * and a round count:
 *   IMAP    imapflow, INBOX selected: APPEND a 2 KB message, UID FETCH it (ENVELOPE FLAGS),
 *           UID STORE +FLAGS (\Seen): rounds/s
 *   CalDAV  fetch over keep-alive: PUT a new event into the default calendar, then a
 *           calendar-query for its day (time-range), which must list it: rounds/s
 *
 * Environment: BENCH_SECONDS per case and deployment (5), BENCH_SCALEOUT_CLIENTS (8),
 * PG_URL (optional).
 */

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ImapFlow } from 'imapflow';
import pg from 'pg';
import { LISTENER_SECTIONS, envName } from '../src/core/config.ts';
import type { BenchModule, BenchResult, BenchRow } from './run.ts';
import type { Measured } from './bench-support.ts';
import { freePort } from './bench-support.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CLIENTS = Number(process.env.BENCH_SCALEOUT_CLIENTS ?? 8);
const MAX_ROUNDS = 50_000;
const DOMAIN = 'example.test';
const PASSWORD = 'bench-password-1';
const ADMIN_TOKEN = randomBytes(24).toString('base64url');
const CLI = fileURLToPath(new URL('../bin/commune.ts', import.meta.url));

// ---- PostgreSQL: a server to create databases on ----

interface PgServer {
  /** Connection string of a database with CREATE DATABASE rights. */
  readonly url: string;
  readonly description: string;
  /** A cluster of our own (nothing else runs transactions on it). */
  readonly own: boolean;
  stop(): Promise<void>;
}

function pgBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'pg_ctl')))
    .sort((a, b) => Number(a) - Number(b));
  const last = versions[versions.length - 1];
  return last === undefined ? undefined : join(root, last, 'bin');
}

/** A throwaway cluster in a temp dir (as user postgres when we are root), like .ci/run. */
async function startCluster(): Promise<PgServer> {
  const bin = pgBinDir();
  if (bin === undefined)
    throw new Error('no /usr/lib/postgresql/<version>/bin (apt-get install postgresql)');
  const dir = mkdtempSync(join(tmpdir(), 'commune-bench-pg-'));
  const root = userInfo().uid === 0;
  if (root) {
    const id = (flag: string): number =>
      Number(spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' }).stdout.trim());
    chownSync(dir, id('-u'), id('-g'));
  }
  const run = (cmd: string, args: string[]): void => {
    const r = root
      ? spawnSync('runuser', ['-u', 'postgres', '--', join(bin, cmd), ...args], {
          encoding: 'utf8',
        })
      : spawnSync(join(bin, cmd), args, { encoding: 'utf8' });
    if (r.status !== 0)
      throw new Error(`${cmd}: ${(r.stderr || r.stdout || String(r.error)).trim()}`);
  };
  const port = await freePort();
  const data = join(dir, 'data');
  try {
    run('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres']);
    run('pg_ctl', [
      '-D',
      data,
      '-l',
      join(dir, 'log'),
      '-w',
      '-o',
      `-k ${dir} -p ${port} -c listen_addresses=127.0.0.1 -c max_connections=200`,
      'start',
    ]);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    description: `throwaway cluster (${bin}, default settings, fsync on)`,
    own: true,
    stop: async () => {
      try {
        run('pg_ctl', ['-D', data, '-m', 'fast', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

async function pgServer(): Promise<PgServer> {
  const url = process.env.PG_URL ?? '';
  if (url !== '') {
    await admin(url, 'SELECT 1').catch((err: unknown) => {
      throw new Error(`PG_URL unreachable: ${err instanceof Error ? err.message : String(err)}`);
    });
    return {
      url,
      description: 'PG_URL (a fresh database per deployment)',
      own: false,
      stop: async () => {},
    };
  }
  return startCluster().catch((err: unknown) => {
    const why = err instanceof Error ? err.message : String(err);
    throw new Error(`PG_URL is unset and a throwaway cluster did not start: ${why}`);
  });
}

async function admin(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** The next transaction id the cluster will hand out (each writing transaction takes one). */
async function nextXid(url: string): Promise<bigint> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const r = await client.query<{ x: string }>(
      'SELECT pg_snapshot_xmax(pg_current_snapshot())::text AS x',
    );
    return BigInt(r.rows[0]?.x ?? '0');
  } finally {
    await client.end();
  }
}

/** A fresh database on `server`; its URL and a function dropping it. */
async function freshDatabase(server: PgServer): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `commune_bench_${randomBytes(5).toString('hex')}`;
  await admin(server.url, `CREATE DATABASE ${name}`);
  const url = new URL(server.url);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => admin(server.url, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}

// ---- nodes: `commune serve` processes ----

interface Node {
  readonly imapPort: number;
  readonly httpBase: string;
  stop(): Promise<void>;
}

async function startNode(
  store: { backend: 'level' } | { backend: 'postgres'; url: string },
): Promise<Node> {
  const dir = mkdtempSync(join(tmpdir(), 'commune-bench-node-'));
  const imapPort = await freePort();
  const httpPort = await freePort();
  const env: Record<string, string> = {
    ...process.env,
    COMMUNE_DATA_DIR: dir,
    COMMUNE_LOG_LEVEL: 'error',
    COMMUNE_ADMIN_TOKEN: ADMIN_TOKEN,
    COMMUNE_STORE_BACKEND: store.backend,
    ...(store.backend === 'postgres' ? { COMMUNE_STORE_URL: store.url } : {}),
  };
  for (const s of LISTENER_SECTIONS) env[envName(`${s}.enabled`)] = 'false';
  env[envName('imap.enabled')] = 'true';
  env[envName('imap.port')] = String(imapPort);
  env[envName('http.enabled')] = 'true';
  env[envName('http.port')] = String(httpPort);
  const child: ChildProcess = spawn(process.execPath, [CLI, 'serve'], {
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const httpBase = `http://127.0.0.1:${httpPort}`;
  for (let i = 0; ; i++) {
    try {
      const res = await fetch(`${httpBase}/health`);
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (i > 300 || child.exitCode !== null) {
      await stop();
      throw new Error(
        `commune serve did not start: ${stderr.trim().split('\n').slice(-3).join(' | ')}`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { imapPort, httpBase, stop };
}

async function addUser(node: Node, address: string): Promise<void> {
  const res = await fetch(`${node.httpBase}/admin/api/user.add`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ address, password: PASSWORD }),
  });
  if (res.status !== 200)
    throw new Error(`user.add ${address}: HTTP ${res.status} ${await res.text()}`);
}

// ---- the load ----

const user = (i: number): string => `bench${i}@${DOMAIN}`;

function message(client: number, n: number): Buffer {
  const body = `Round ${n} of client ${client}. `.repeat(60);
  return Buffer.from(
    [
      `From: Bench <bench${client}@${DOMAIN}>`,
      `To: Bench <bench${client}@${DOMAIN}>`,
      `Subject: scale-out ${client}-${n}`,
      'Date: Tue, 10 Mar 2026 12:00:00 +0000',
      `Message-ID: <scaleout-${client}-${n}-${randomBytes(4).toString('hex')}@${DOMAIN}>`,
      '',
      body,
      '',
    ].join('\r\n'),
  );
}

/** Run `round` on every client for SECONDS (at most MAX_ROUNDS in all): rounds per second. */
/** A case's figures: rate and errors, and the rounds done. */
interface CaseResult extends Measured {
  readonly rounds: number;
  /** PostgreSQL write transactions per round (own throwaway cluster only). */
  writesPerRound?: number;
}

async function drive(round: (client: number, n: number) => Promise<void>): Promise<CaseResult> {
  let done = 0;
  let errors = 0;
  let firstError: unknown;
  let next = 0;
  const started = performance.now();
  const end = started + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: CLIENTS }, async (_, client) => {
      while (performance.now() < end && next < MAX_ROUNDS) {
        const n = next++;
        try {
          await round(client, n);
          done++;
        } catch (err) {
          errors++;
          firstError ??= err;
          if (errors > 50) throw err;
        }
      }
    }),
  );
  if (done === 0 && firstError !== undefined) throw firstError;
  return { rate: done / ((performance.now() - started) / 1000), errors, rounds: done };
}

async function imapCase(nodes: readonly Node[]): Promise<CaseResult> {
  const clients = await Promise.all(
    Array.from({ length: CLIENTS }, async (_, i) => {
      const node = nodes[i % nodes.length] as Node;
      const client = new ImapFlow({
        host: '127.0.0.1',
        port: node.imapPort,
        secure: false,
        auth: { user: user(i), pass: PASSWORD },
        logger: false,
        tls: { rejectUnauthorized: false },
      });
      await client.connect();
      await client.mailboxOpen('INBOX');
      return client;
    }),
  );
  try {
    return await drive(async (c, n) => {
      const client = clients[c] as ImapFlow;
      const appended = await client.append('INBOX', message(c, n));
      const uid = appended && appended.uid;
      if (uid === undefined) throw new Error('APPEND without APPENDUID');
      const fetched = await client.fetchOne(
        String(uid),
        { envelope: true, flags: true },
        { uid: true },
      );
      if (!fetched || fetched.envelope?.subject !== `scale-out ${c}-${n}`) {
        throw new Error(`FETCH of UID ${uid} gave another message`);
      }
      await client.messageFlagsAdd(String(uid), ['\\Seen'], { uid: true });
    });
  } finally {
    await Promise.allSettled(clients.map((c) => c.logout()));
  }
}

const ICS = 'text/calendar; charset=utf-8';

function event(uid: string, day: number): string {
  const d = String(day).padStart(2, '0');
  return [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'PRODID:-//commune bench//EN',
    'BEGIN:VEVENT',
    `UID:${uid}`,
    'DTSTAMP:20260301T000000Z',
    `DTSTART:202603${d}T090000Z`,
    `DTEND:202603${d}T100000Z`,
    `SUMMARY:Bench ${uid}`,
    'END:VEVENT',
    'END:VCALENDAR',
    '',
  ].join('\r\n');
}

function calendarQuery(day: number): string {
  const d = String(day).padStart(2, '0');
  const e = String(day + 1).padStart(2, '0');
  return `<?xml version="1.0" encoding="utf-8"?><c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><d:getetag/></d:prop><c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT"><c:time-range start="202603${d}T000000Z" end="202603${e}T000000Z"/></c:comp-filter></c:comp-filter></c:filter></c:calendar-query>`;
}

async function caldavCase(nodes: readonly Node[]): Promise<CaseResult> {
  const auth = (i: number): string =>
    `Basic ${Buffer.from(`${user(i)}:${PASSWORD}`).toString('base64')}`;
  const calendar = (i: number): string => {
    const node = nodes[i % nodes.length] as Node;
    return `${node.httpBase}/dav/calendars/${user(i)}/default/`;
  };
  // step: each calendar exists (and each login is verified once) before the clock starts
  for (let i = 0; i < CLIENTS; i++) {
    const res = await fetch(calendar(i), {
      method: 'PROPFIND',
      headers: { authorization: auth(i), depth: '0' },
    });
    await res.arrayBuffer();
    if (res.status !== 207) throw new Error(`PROPFIND calendar: HTTP ${res.status}`);
  }
  return drive(async (c, n) => {
    const day = 1 + (n % 27);
    const name = `e-${c}-${n}.ics`;
    const put = await fetch(`${calendar(c)}${name}`, {
      method: 'PUT',
      headers: { authorization: auth(c), 'content-type': ICS, 'if-none-match': '*' },
      body: event(`bench-${c}-${n}`, day),
    });
    await put.arrayBuffer();
    if (put.status !== 201) throw new Error(`PUT: HTTP ${put.status}`);
    const res = await fetch(calendar(c), {
      method: 'REPORT',
      headers: { authorization: auth(c), depth: '1', 'content-type': 'application/xml' },
      body: calendarQuery(day),
    });
    const text = await res.text();
    if (res.status !== 207 || !text.includes(name)) {
      throw new Error(`calendar-query: HTTP ${res.status} without ${name}`);
    }
  });
}

// ---- the deployments ----

interface Deployment {
  readonly name: string;
  readonly nodes: number;
  readonly backend: 'level' | 'postgres';
}

const DEPLOYMENTS: readonly Deployment[] = [
  { name: 'level x1', nodes: 1, backend: 'level' },
  { name: 'pg x1', nodes: 1, backend: 'postgres' },
  { name: 'pg x2', nodes: 2, backend: 'postgres' },
];

interface Figures {
  readonly imap: CaseResult;
  readonly caldav: CaseResult;
}

async function measureDeployment(d: Deployment, server: PgServer | undefined): Promise<Figures> {
  const db =
    d.backend === 'postgres' && server !== undefined ? await freshDatabase(server) : undefined;
  const nodes: Node[] = [];
  try {
    const store =
      db === undefined
        ? ({ backend: 'level' } as const)
        : ({ backend: 'postgres', url: db.url } as const);
    // step: the first node creates the schema; the others start on it together
    nodes.push(await startNode(store));
    nodes.push(...(await Promise.all(Array.from({ length: d.nodes - 1 }, () => startNode(store)))));
    for (let i = 0; i < CLIENTS; i++) await addUser(nodes[0] as Node, user(i));
    // step: on our own cluster every transaction id handed out is one of ours
    const counted = async (run: () => Promise<CaseResult>): Promise<CaseResult> => {
      const own = db !== undefined && server?.own === true;
      const before = own ? await nextXid(db.url) : 0n;
      const result = await run();
      if (own && result.rounds > 0) {
        result.writesPerRound = Number((await nextXid(db.url)) - before) / result.rounds;
      }
      return result;
    };
    const imap = await counted(() => imapCase(nodes));
    const caldav = await counted(() => caldavCase(nodes));
    return { imap, caldav };
  } finally {
    await Promise.allSettled(nodes.map((n) => n.stop()));
    await db?.drop();
  }
}

function row(
  name: string,
  measured: Measured | undefined,
  reference: Measured | undefined,
): BenchRow {
  const errors = measured?.errors ?? 0;
  return {
    case: name,
    unit: 'rounds/s',
    commune: measured?.rate ?? 0,
    ...(reference === undefined ? {} : { reference: reference.rate }),
    higherIsBetter: true,
    ...(errors > 0 ? { note: `${errors} failed rounds` } : {}),
  };
}

const scaleoutBench: BenchModule = {
  name: 'scaleout',
  async run(): Promise<BenchResult> {
    const loadBefore = loadavg();
    let server: PgServer | undefined;
    let skipped: string | undefined;
    try {
      server = await pgServer();
    } catch (err) {
      skipped = err instanceof Error ? err.message : String(err);
      process.stderr.write(`bench scaleout: ${skipped}; postgres deployments skipped\n`);
    }
    const figures = new Map<string, Figures>();
    try {
      for (const d of DEPLOYMENTS) {
        if (d.backend === 'postgres' && server === undefined) continue;
        process.stderr.write(`bench scaleout: ${d.name}\n`);
        figures.set(d.name, await measureDeployment(d, server));
      }
    } finally {
      await server?.stop();
    }
    const level = figures.get('level x1');
    const rows: BenchRow[] = [];
    for (const [label, pick] of [
      ['IMAP APPEND+FETCH+STORE', (f: Figures) => f.imap],
      ['CalDAV PUT+calendar-query', (f: Figures) => f.caldav],
    ] as const) {
      for (const d of DEPLOYMENTS) {
        const f = figures.get(d.name);
        if (f === undefined) continue;
        rows.push(
          row(
            `${label}, ${d.name}`,
            pick(f),
            d.name === 'level x1' || level === undefined ? undefined : pick(level),
          ),
        );
      }
    }
    return {
      reference: 'Commune, one node on the level store (ratio = this deployment / level x1)',
      rows,
      notes: [
        ...(skipped === undefined ? [] : [`postgres deployments not run: ${skipped}`]),
        `${CLIENTS} clients (one user each; on pg x2 split evenly between the nodes), ${SECONDS} s per case and deployment`,
        'every node a `commune serve` process (default settings: pool 10 per node), plain IMAP / HTTP on loopback',
        `PostgreSQL: ${server?.description ?? 'none'}`,
        ...[...figures]
          .filter(([, f]) => f.imap.writesPerRound !== undefined)
          .map(
            ([name, f]) =>
              `${name}: PostgreSQL write transactions per round: IMAP ${f.imap.writesPerRound?.toFixed(1)}, CalDAV ${f.caldav.writesPerRound?.toFixed(1)}`,
          ),
        `load average before: ${loadBefore.map((l) => l.toFixed(2)).join(' ')}, after: ${loadavg()
          .map((l) => l.toFixed(2))
          .join(' ')} (${cpus().length} CPUs, shared with the database and the clients)`,
      ],
    };
  },
};

export default scaleoutBench;
