/**
 * WebDAV throughput: Commune's `/dav/files/<user>/` against Apache httpd with mod_dav and
 * mod_dav_fs (Debian's apache2 package), configured here in a temp dir on a loopback port.
 * Both use Basic authentication with a verified-credential cache (Commune's own; Apache's
 * mod_authn_socache over a bcrypt htpasswd), both run on local disk, and both are driven by
 * the same client (fetch over keep-alive connections) from a worker thread, each case bounded
 * in time and operation count.
 *
 * Cases (ops/s):
 *   PUT 4 KB            new 4 KB files, distinct content, CONCURRENCY requests in flight
 *   GET 4 KB            reads of 64 prepared 4 KB files
 *   PUT 10 MB           10 MB files over 4 names (replacing), 2 in flight, at most 30
 *   GET 10 MB           reads of those, 2 in flight
 *   PROPFIND Depth 1    a collection of 5,000 files, four common properties, 2 in flight
 *
 * Environment: BENCH_SECONDS per case and server (5), BENCH_DAV_FILES (5000).
 */

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request as httpRequest } from 'node:http';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import type { BenchModule, BenchResult, BenchRow } from './run.ts';
import { startCommuneDav } from './commune-dav.ts';
import { freePort, runBounded, type Measured } from './bench-support.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const FILES = Number(process.env.BENCH_DAV_FILES ?? 5000);
const CONCURRENCY = 8;
const USER = 'bench@example.test';
const PASSWORD = 'bench-password-1';
const SMALL = 4096;
const LARGE = 10 * 1024 * 1024;
const PROPFIND_BODY =
  '<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:"><D:prop><D:resourcetype/><D:getcontentlength/><D:getetag/><D:getlastmodified/></D:prop></D:propfind>';

interface Target {
  /** Collection URL the benchmark works in, with a trailing slash. */
  readonly base: string;
  readonly authorization: string;
}

interface CaseSpec {
  readonly name: string;
  readonly concurrency: number;
  readonly maxOps: number;
}

const CASES: readonly CaseSpec[] = [
  { name: 'PUT 4 KB', concurrency: CONCURRENCY, maxOps: 200_000 },
  { name: 'GET 4 KB', concurrency: CONCURRENCY, maxOps: 500_000 },
  { name: 'PUT 10 MB', concurrency: 2, maxOps: 30 },
  { name: 'GET 10 MB', concurrency: 2, maxOps: 2000 },
  {
    name: `PROPFIND Depth 1 (${FILES.toLocaleString('en-US')} files)`,
    concurrency: 2,
    maxOps: 10_000,
  },
];

// ---- the client side (worker thread) ----

function body(size: number, n: number): Uint8Array {
  const b = Buffer.alloc(size, 0x61);
  b.writeUInt32BE(n >>> 0, 0);
  b.writeUInt32BE(Math.floor(n / 2 ** 32), 4);
  return b;
}

interface Reply {
  readonly status: number;
  /** Bytes of the body (drained, never kept unless `keep`). */
  readonly size: number;
  readonly text: string;
}

function expectStatus(res: Reply, ok: readonly number[], what: string): void {
  if (!ok.includes(res.status)) throw new Error(`${what}: HTTP ${res.status}`);
}

/** One request over the target's keep-alive agent (node:http: the lightest client). */
function send(
  t: Target,
  method: string,
  path: string,
  init: { body?: Uint8Array | string; headers?: Record<string, string>; keep?: boolean } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const url = new URL(`${t.base}${path}`);
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method,
        agent: agentOf(t),
        headers: { authorization: t.authorization, ...init.headers },
      },
      (res) => {
        let size = 0;
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (init.keep) chunks.push(c);
        });
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            size,
            text: init.keep ? Buffer.concat(chunks).toString('utf8') : '',
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(init.body);
  });
}

const agents = new Map<string, Agent>();
function agentOf(t: Target): Agent {
  let a = agents.get(t.base);
  if (!a) {
    a = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
    agents.set(t.base, a);
  }
  return a;
}

/** Files the GET and PROPFIND cases read. */
async function prepare(t: Target): Promise<void> {
  for (const dir of ['small/', 'large/', 'many/', 'new/']) {
    expectStatus(await send(t, 'MKCOL', dir), [201], `MKCOL ${dir}`);
  }
  for (let i = 0; i < 64; i++) {
    expectStatus(await send(t, 'PUT', `small/f${i}`, { body: body(SMALL, i) }), [201], 'PUT small');
  }
  for (let i = 0; i < 4; i++) {
    expectStatus(await send(t, 'PUT', `large/f${i}`, { body: body(LARGE, i) }), [201], 'PUT large');
  }
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < FILES) {
        const i = next++;
        expectStatus(
          await send(t, 'PUT', `many/file-${String(i).padStart(5, '0')}.txt`, {
            body: `file ${i}\n`,
          }),
          [201],
          'PUT many',
        );
      }
    }),
  );
}

function operation(spec: CaseSpec, t: Target, worker: number): (n: number) => Promise<void> {
  switch (spec.name) {
    case 'PUT 4 KB':
      return async (n) => {
        const res = await send(t, 'PUT', `new/w${worker}-${n}.bin`, {
          body: body(SMALL, worker * 1e9 + n),
        });
        expectStatus(res, [201, 204], spec.name);
      };
    case 'GET 4 KB':
      return async (n) => {
        const res = await send(t, 'GET', `small/f${(n * 7 + worker) % 64}`);
        expectStatus(res, [200], spec.name);
        if (res.size !== SMALL) throw new Error(`GET 4 KB: ${res.size} bytes`);
      };
    case 'PUT 10 MB':
      return async (n) => {
        const res = await send(t, 'PUT', `large/f${(n + worker) % 4}`, {
          body: body(LARGE, 1000 + worker * 1000 + n),
        });
        expectStatus(res, [201, 204], spec.name);
      };
    case 'GET 10 MB':
      return async (n) => {
        const res = await send(t, 'GET', `large/f${(n + worker) % 4}`);
        expectStatus(res, [200], spec.name);
        if (res.size !== LARGE) throw new Error(`GET 10 MB: ${res.size} bytes`);
      };
    default:
      return async () => {
        const res = await send(t, 'PROPFIND', 'many/', {
          body: PROPFIND_BODY,
          headers: { depth: '1', 'content-type': 'application/xml; charset=utf-8' },
          keep: true,
        });
        expectStatus(res, [207], spec.name);
        const responses = (res.text.match(/<\/([A-Za-z0-9]+:)?response>/g) ?? []).length;
        if (responses !== FILES + 1) throw new Error(`PROPFIND: ${responses} responses`);
      };
  }
}

async function measure(t: Target, spec: CaseSpec): Promise<Measured> {
  return runBounded({ ...spec, seconds: SECONDS, maxErrors: 100 }, (lane) =>
    operation(spec, t, lane),
  );
}

type Job =
  | { role: 'dav-bench-load'; target: Target; task: 'prepare' }
  | { role: 'dav-bench-load'; target: Target; task: 'measure'; spec: CaseSpec };

const job = workerData as Job | null;
if (!isMainThread && job?.role === 'dav-bench-load') {
  const work =
    job.task === 'prepare'
      ? prepare(job.target).then(() => ({ rate: 0, errors: 0 }))
      : measure(job.target, job.spec);
  work.then(
    (m) => parentPort?.postMessage(m),
    (err: unknown) => parentPort?.postMessage({ error: String(err) }),
  );
}

type JobData = Job extends infer J ? (J extends Job ? Omit<J, 'role'> : never) : never;

function inWorker(data: JobData): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL(import.meta.url), {
      workerData: { role: 'dav-bench-load', ...data },
    });
    worker.once('message', (m: Measured | { error: string }) => {
      // Its keep-alive sockets would hold the thread open
      void worker.terminate();
      if ('error' in m) reject(new Error(m.error));
      else resolve(m);
    });
    worker.once('error', reject);
  });
}

async function runCases(target: Target): Promise<Map<string, Measured>> {
  await inWorker({ target, task: 'prepare' });
  const out = new Map<string, Measured>();
  for (const spec of CASES) out.set(spec.name, await inWorker({ target, task: 'measure', spec }));
  return out;
}

// ---- the servers ----

const basic = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;

async function startCommune(dir: string): Promise<{ target: Target; stop: () => Promise<void> }> {
  const { davBase, stop } = await startCommuneDav(dir, USER, PASSWORD);
  return {
    target: {
      base: `${davBase}/files/${USER}/`,
      authorization: basic,
    },
    stop,
  };
}

const MODULES = '/usr/lib/apache2/modules';
const APACHE_MODULES = [
  'mpm_event',
  'authz_core',
  'authz_user',
  'authn_core',
  'authn_file',
  'authn_socache',
  'socache_shmcb',
  'auth_basic',
  'dav',
  'dav_fs',
];

function apacheMissing(): string | undefined {
  if (spawnSync('apache2', ['-v'], { stdio: 'ignore' }).error !== undefined)
    return 'apache2 not found (apt-get install apache2)';
  if (spawnSync('htpasswd', ['-h'], { stdio: 'ignore' }).error !== undefined)
    return 'htpasswd not found (apt-get install apache2-utils)';
  const present = new Set(readdirSync(MODULES));
  const missing = APACHE_MODULES.filter((m) => !present.has(`mod_${m}.so`));
  return missing.length > 0 ? `modules missing: ${missing.join(', ')}` : undefined;
}

async function waitForPort(port: number, child: ChildProcess, log: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`apache2 exited (${child.exitCode}); see ${log}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('apache2 did not start listening');
}

async function startApache(dir: string): Promise<{ target: Target; stop: () => Promise<void> }> {
  const root = join(dir, 'apache');
  const www = join(root, 'www');
  const run = join(root, 'run');
  mkdirSync(join(www, 'dav', 'bench'), { recursive: true });
  mkdirSync(run, { recursive: true });
  const port = await freePort();
  const htpasswd = join(root, 'htpasswd');
  const made = spawnSync('htpasswd', ['-b', '-c', '-B', htpasswd, USER, PASSWORD], {
    encoding: 'utf8',
  });
  if (made.status !== 0) throw new Error(`htpasswd failed: ${made.stderr}`);
  // The server's children run as www-data: let them write the document root and lock DB
  const id = (flag: string): number =>
    Number(spawnSync('id', [flag, 'www-data'], { encoding: 'utf8' }).stdout.trim());
  const [uid, gid] = [id('-u'), id('-g')];
  for (const p of [root, www, join(www, 'dav'), join(www, 'dav', 'bench'), run, htpasswd])
    chownSync(p, uid, gid);
  const conf = join(root, 'httpd.conf');
  writeFileSync(
    conf,
    [
      'ServerName localhost',
      `ServerRoot "${root}"`,
      `Listen 127.0.0.1:${port}`,
      `PidFile "${join(run, 'httpd.pid')}"`,
      `DefaultRuntimeDir "${run}"`,
      `ErrorLog "${join(root, 'error.log')}"`,
      'LogLevel warn',
      'User www-data',
      'Group www-data',
      ...APACHE_MODULES.map((m) => `LoadModule ${m}_module ${MODULES}/mod_${m}.so`),
      'KeepAlive On',
      'MaxKeepAliveRequests 0',
      'KeepAliveTimeout 30',
      `DocumentRoot "${www}"`,
      `DavLockDB "${join(run, 'davlock')}"`,
      'AuthnCacheSOCache shmcb',
      `<Directory "${www}">`,
      '  Require all granted',
      '</Directory>',
      '<Location "/dav/">',
      '  Dav On',
      '  AuthType Basic',
      '  AuthName "bench"',
      '  AuthBasicProvider socache file',
      '  AuthnCacheProvideFor file',
      '  AuthnCacheTimeout 600',
      `  AuthUserFile "${htpasswd}"`,
      '  Require valid-user',
      '</Location>',
      '',
    ].join('\n'),
  );
  const child = spawn('apache2', ['-f', conf, '-DFOREGROUND'], { stdio: 'ignore' });
  await waitForPort(port, child, join(root, 'error.log'));
  return {
    target: { base: `http://127.0.0.1:${port}/dav/bench/`, authorization: basic },
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

function diskUse(dir: string): number {
  let total = 0;
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) total += statSync(join(e.parentPath, e.name)).size;
  }
  return total;
}

const davBench: BenchModule = {
  name: 'dav',
  async run(): Promise<BenchResult> {
    const dir = mkdtempSync(join(tmpdir(), 'commune-bench-dav-'));
    // Apache's children (www-data) must reach their document root inside it
    chmodSync(dir, 0o755);
    try {
      const commune = await startCommune(dir);
      let ours: Map<string, Measured>;
      try {
        ours = await runCases(commune.target);
      } finally {
        await commune.stop();
      }
      const communeBytes = diskUse(join(dir, 'commune'));
      rmSync(join(dir, 'commune'), { recursive: true, force: true });

      const skipped = apacheMissing();
      let theirs: Map<string, Measured> | undefined;
      let apacheError: string | undefined;
      if (skipped === undefined) {
        const apache = await startApache(dir);
        try {
          theirs = await runCases(apache.target);
        } catch (err) {
          apacheError = String(err);
        } finally {
          await apache.stop();
        }
      }
      const rows: BenchRow[] = CASES.map((c) => {
        const o = ours.get(c.name);
        const t = theirs?.get(c.name);
        const errors = [
          o?.errors ? `${o.errors} Commune errors` : '',
          t?.errors ? `${t.errors} Apache errors` : '',
        ].filter(Boolean);
        return {
          case: c.name,
          unit: 'ops/s',
          commune: o?.rate ?? 0,
          ...(t ? { reference: t.rate } : {}),
          higherIsBetter: true,
          ...(errors.length > 0 ? { note: errors.join(', ') } : {}),
        };
      });
      return {
        reference: 'Apache httpd mod_dav + mod_dav_fs (event MPM, Basic auth with socache)',
        ...(skipped !== undefined
          ? { referenceSkipped: skipped }
          : apacheError
            ? { referenceSkipped: apacheError }
            : {}),
        rows,
        notes: [
          `${SECONDS} s per case and server; ${CONCURRENCY} requests in flight for 4 KB cases, 2 for the others; client in a worker thread`,
          `Commune: level store + blob files (fsynced), data after the run ${(communeBytes / 1024 / 1024).toFixed(0)} MiB`,
        ],
      };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

export default davBench;
