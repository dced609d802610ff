/**
 * LDAP throughput over a 10,000-person directory: Commune against OpenLDAP slapd (back-mdb,
 * Debian's slapd package) configured here in a temp dir on a loopback port, with the same
 * entries, the same argon2id password hash (slapd's argon2 module reads the PHC string ours
 * writes), and the same client: ldapts over CONNECTIONS concurrent connections, each case run
 * for a bounded time and operation count, from a worker thread (the client never shares the
 * server's event loop).
 *
 * Cases:
 *   bind+search        simple bind as a random user, then an equality search by mail
 *   search (mail)      equality search on already-bound connections
 *   autocomplete       the Thunderbird address-book search with a 3-letter fragment,
 *                      (|(cn=*x*)(mail=*x*)(sn=*x*)(givenName=*x*)), sizeLimit 50
 *
 * Environment: BENCH_LDAP_USERS (10000), BENCH_SECONDS per case and server (5),
 * BENCH_ARGON2 = "m,t,p" (default 19456,2,1: our production cost).
 */

import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { Client } from 'ldapts';
import { loadConfig } from '../src/core/config.ts';
import { silentLogger } from '../src/core/log.ts';
import { assembleCore, type Core } from '../src/main.ts';
import { createLdapServer } from '../src/protocols/ldap/ldap-server.ts';
import { loadTls } from '../src/protocols/shared/tls.ts';
import { AuthRateLimiter } from '../src/storage/directory/auth-rate-limiter.ts';
import { Directory } from '../src/storage/directory/directory.ts';
import { Argon2idHasher } from '../src/storage/directory/password-hasher.ts';
import type { PasswordHasher } from '../src/storage/directory/password-hasher.ts';
import { openStorage } from '../src/storage/open-storage.ts';
import type { BenchModule, BenchResult, BenchRow } from './run.ts';
import { freePort, prng, throughputRow, type Measured } from './bench-support.ts';

const USERS = Number(process.env.BENCH_LDAP_USERS ?? 10_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = 8;
const MAX_OPS = 500_000;
const PASSWORD = 'bench-password';
const BASE = 'dc=example,dc=test';
const PEOPLE = `ou=people,${BASE}`;
const [MEMORY, TIME, LANES] = (process.env.BENCH_ARGON2 ?? '19456,2,1').split(',').map(Number);

const GIVEN = [
  'Alice',
  'Bruno',
  'Chiara',
  'Dmitri',
  'Elena',
  'Farid',
  'Greta',
  'Hugo',
  'Ines',
  'Jonas',
  'Karin',
  'Lars',
  'Maria',
  'Marek',
  'Nadia',
  'Oscar',
  'Paula',
  'Quentin',
  'Rosa',
  'Sven',
  'Tamara',
  'Ugo',
  'Vera',
  'Walter',
  'Xenia',
  'Yusuf',
  'Zora',
  'Martin',
  'Lea',
  'Omar',
];
const FAMILY = [
  'Smith',
  'Martin',
  'Garcia',
  'Rossi',
  'Novak',
  'Schmidt',
  'Dubois',
  'Jensen',
  'Kowalski',
  'Murphy',
  'Silva',
  'Nagy',
  'Horvat',
  'Popescu',
  'Ivanova',
  'Marino',
  'Larsen',
  'Weber',
  'Moreau',
  'Costa',
  'Fischer',
  'Bauer',
  'Lambert',
  'Richter',
  'Keller',
  'Marquez',
  'Berg',
  'Lindqvist',
  'Hoffmann',
  'Bianchi',
  'Petrov',
  'Andersen',
  'Varga',
  'Molnar',
  'Santos',
];

interface Person {
  readonly uid: string;
  readonly given: string;
  readonly family: string;
}

function people(): Person[] {
  return Array.from({ length: USERS }, (_, i) => ({
    uid: `user${i}`,
    given: GIVEN[i % GIVEN.length] ?? 'X',
    family: `${FAMILY[Math.floor(i / GIVEN.length) % FAMILY.length] ?? 'Y'}${Math.floor(i / (GIVEN.length * FAMILY.length)) || ''}`,
  }));
}

function fragment(rand: () => number, all: readonly Person[]): string {
  const p = all[Math.floor(rand() * all.length)];
  const name = (rand() < 0.5 ? p?.given : p?.family) ?? 'mar';
  const at = Math.floor(rand() * Math.max(1, name.length - 2));
  return name.slice(at, at + 3).toLowerCase();
}

type Operation = (client: Client, rand: () => number) => Promise<void>;

const CASES: readonly { name: string; bind: boolean; op: (all: readonly Person[]) => Operation }[] =
  [
    {
      name: 'bind+search',
      bind: false,
      op: (all) => async (client, rand) => {
        const p = all[Math.floor(rand() * all.length)];
        await client.bind(`uid=${p?.uid},${PEOPLE}`, PASSWORD);
        const q = all[Math.floor(rand() * all.length)];
        const { searchEntries } = await client.search(BASE, {
          filter: `(mail=${q?.uid}@example.test)`,
          attributes: ['cn', 'mail'],
        });
        if (searchEntries.length !== 1)
          throw new Error(`expected 1 entry, got ${searchEntries.length}`);
      },
    },
    {
      name: 'search (mail)',
      bind: true,
      op: (all) => async (client, rand) => {
        const q = all[Math.floor(rand() * all.length)];
        const { searchEntries } = await client.search(BASE, {
          filter: `(mail=${q?.uid}@example.test)`,
          attributes: ['cn', 'mail', 'sn', 'givenName'],
        });
        if (searchEntries.length !== 1)
          throw new Error(`expected 1 entry, got ${searchEntries.length}`);
      },
    },
    {
      name: 'autocomplete',
      bind: true,
      op: (all) => async (client, rand) => {
        const x = fragment(rand, all);
        const { searchEntries } = await client.search(BASE, {
          filter: `(|(cn=*${x}*)(mail=*${x}*)(sn=*${x}*)(givenName=*${x}*))`,
          attributes: ['cn', 'mail', 'sn', 'givenName'],
          sizeLimit: 50,
        });
        if (searchEntries.length === 0) throw new Error(`no entry for ${x}`);
      },
    },
  ];

/** Run `op` on CONNECTIONS connections until the time or count bound; ops per second. */
async function measure(
  url: string,
  bind: boolean,
  op: Operation,
): Promise<{ rate: number; errors: number }> {
  const clients = Array.from({ length: CONNECTIONS }, () => new Client({ url, timeout: 30_000 }));
  try {
    if (bind) {
      await Promise.all(clients.map((c, i) => c.bind(`uid=user${i},${PEOPLE}`, PASSWORD)));
    }
    let done = 0;
    let errors = 0;
    let firstError: unknown;
    const started = performance.now();
    const end = started + SECONDS * 1000;
    await Promise.all(
      clients.map(async (client, i) => {
        const rand = prng(0x9e3779b9 ^ (i + 1));
        while (performance.now() < end && done < MAX_OPS) {
          try {
            await op(client, rand);
            done++;
          } catch (err) {
            errors++;
            firstError ??= err;
          }
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    if (errors > 0 && done === 0) throw firstError;
    return { rate: done / seconds, errors };
  } finally {
    await Promise.allSettled(clients.map((c) => c.unbind()));
  }
}

/** A hasher that hands out one precomputed hash, so 10,000 users are created quickly. */
function presetHasher(hash: string, real: PasswordHasher): PasswordHasher {
  return { hash: async () => hash, verify: (h, p) => real.verify(h, p) };
}

async function startCommune(dir: string, all: readonly Person[], hash: string) {
  const config = loadConfig({
    env: {
      COMMUNE_DATA_DIR: join(dir, 'commune'),
      COMMUNE_LOG_LEVEL: 'silent',
      COMMUNE_LDAP_PORT: '0',
      COMMUNE_LDAPS_ENABLED: 'false',
      COMMUNE_AUTH_MAX_FAILURES_PER_ADDRESS: '1000000',
    },
  });
  const log = silentLogger();
  const dataDir = config.server.dataDir;
  const storage = await openStorage({ backend: 'level', dataDir });
  const real = new Argon2idHasher();
  const directory = new Directory({
    storage,
    primaryDomain: 'example.test',
    hasher: presetHasher(hash, real),
    limiter: new AuthRateLimiter({ maxFailuresPerAddress: 1_000_000 }),
  });
  await directory.addDomain('example.test');
  const tls = await loadTls({ certFile: '', keyFile: '', dataDir, hostname: 'localhost' });
  const core: Core = assembleCore({
    config,
    log,
    dataDir,
    storage,
    directory,
    tls,
    adminToken: 'x',
  });
  // step: create in parallel batches (each creation is its own commit)
  for (let i = 0; i < all.length; i += 64) {
    await Promise.all(
      all.slice(i, i + 64).map((p) =>
        directory.createPrincipal({
          address: `${p.uid}@example.test`,
          displayName: `${p.given} ${p.family}`,
          password: PASSWORD,
        }),
      ),
    );
  }
  const server = createLdapServer(core, { sizeLimit: 0 });
  const [endpoint] = await server.start();
  return {
    url: `ldap://127.0.0.1:${endpoint?.port ?? 0}`,
    stop: async () => {
      await server.stop(Date.now() + 2000);
      await storage.close();
    },
  };
}

function slapdAvailable(): string | undefined {
  for (const bin of ['slapd', 'slapadd']) {
    const r = spawnSync(bin, ['-VV'], { stdio: 'ignore' });
    if (r.error !== undefined) return `${bin} not found (apt-get install slapd)`;
  }
  return undefined;
}

function slapdLdif(all: readonly Person[], hash: string): string {
  const out = [
    `dn: ${BASE}\nobjectClass: top\nobjectClass: domain\ndc: example\n`,
    `dn: ${PEOPLE}\nobjectClass: top\nobjectClass: organizationalUnit\nou: people\n`,
  ];
  for (const p of all) {
    out.push(
      [
        `dn: uid=${p.uid},${PEOPLE}`,
        'objectClass: top',
        'objectClass: person',
        'objectClass: organizationalPerson',
        'objectClass: inetOrgPerson',
        `uid: ${p.uid}`,
        `cn: ${p.given} ${p.family}`,
        `sn: ${p.family}`,
        `givenName: ${p.given}`,
        `displayName: ${p.given} ${p.family}`,
        `mail: ${p.uid}@example.test`,
        `userPassword: {ARGON2}${hash}`,
        '',
      ].join('\n'),
    );
  }
  return out.join('\n');
}

async function startSlapd(dir: string, all: readonly Person[], hash: string) {
  const root = join(dir, 'slapd');
  const db = join(root, 'db');
  spawnSync('mkdir', ['-p', db]);
  const conf = join(root, 'slapd.conf');
  writeFileSync(
    conf,
    [
      'include /etc/ldap/schema/core.schema',
      'include /etc/ldap/schema/cosine.schema',
      'include /etc/ldap/schema/inetorgperson.schema',
      'modulepath /usr/lib/ldap',
      'moduleload back_mdb',
      'moduleload argon2',
      `pidfile ${join(root, 'slapd.pid')}`,
      `argsfile ${join(root, 'slapd.args')}`,
      'loglevel 0',
      'sizelimit unlimited',
      'database mdb',
      'maxsize 1073741824',
      `suffix "${BASE}"`,
      `rootdn "cn=admin,${BASE}"`,
      `directory ${db}`,
      'index objectClass eq',
      'index uid,mail,cn,sn,givenName eq,sub',
      'access to attrs=userPassword by anonymous auth by * none',
      'access to * by users read by * none',
      '',
    ].join('\n'),
  );
  const ldif = join(root, 'data.ldif');
  writeFileSync(ldif, slapdLdif(all, hash));
  const load = spawnSync('slapadd', ['-q', '-f', conf, '-l', ldif], { encoding: 'utf8' });
  if (load.status !== 0) throw new Error(`slapadd failed: ${load.stderr}`);
  const port = await freePort();
  const child: ChildProcess = spawn(
    'slapd',
    ['-f', conf, '-h', `ldap://127.0.0.1:${port}/`, '-d', '0'],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  const url = `ldap://127.0.0.1:${port}`;
  // step: wait until it answers
  for (let i = 0; ; i++) {
    const probe = new Client({ url, timeout: 1000, connectTimeout: 1000 });
    try {
      await probe.bind(`uid=user0,${PEOPLE}`, PASSWORD);
      await probe.unbind();
      break;
    } catch (err) {
      if (i > 100 || child.exitCode !== null) {
        child.kill('SIGKILL');
        throw new Error(`slapd did not start: ${stderr}`, { cause: err });
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    url,
    stop: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

/** Load generation runs in a worker thread, so the client does not share the server's loop. */
function measureInWorker(url: string, caseName: string): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL(import.meta.url), {
      workerData: { role: 'ldap-bench-load', url, caseName },
    });
    worker.once('message', (m: Measured | { error: string }) =>
      'error' in m ? reject(new Error(m.error)) : resolve(m),
    );
    worker.once('error', reject);
  });
}

async function runCases(url: string): Promise<Map<string, Measured>> {
  const out = new Map<string, Measured>();
  for (const c of CASES) out.set(c.name, await measureInWorker(url, c.name));
  return out;
}

// step: the worker side
const load = workerData as { role?: string; url?: string; caseName?: string } | null;
if (!isMainThread && load?.role === 'ldap-bench-load') {
  const c = CASES.find((x) => x.name === load.caseName);
  const run =
    c === undefined
      ? Promise.reject(new Error(`no case ${load.caseName}`))
      : measure(load.url ?? '', c.bind, c.op(people()));
  run.then(
    (m) => parentPort?.postMessage(m),
    (err: unknown) => parentPort?.postMessage({ error: String(err) }),
  );
}

const ldapBench: BenchModule = {
  name: 'ldap',
  async run(): Promise<BenchResult> {
    const dir = mkdtempSync(join(tmpdir(), 'commune-bench-ldap-'));
    try {
      const all = people();
      const hash = await new Argon2idHasher({
        memoryCost: MEMORY ?? 19456,
        timeCost: TIME ?? 2,
        parallelism: LANES ?? 1,
      }).hash(PASSWORD);

      const commune = await startCommune(dir, all, hash);
      let ours: Map<string, Measured>;
      try {
        ours = await runCases(commune.url);
      } finally {
        await commune.stop();
      }

      const skipped = slapdAvailable();
      let theirs: Map<string, Measured> | undefined;
      if (skipped === undefined) {
        const slapd = await startSlapd(dir, all, hash);
        try {
          theirs = await runCases(slapd.url);
        } finally {
          await slapd.stop();
        }
      }

      const rows: BenchRow[] = CASES.map((c) =>
        throughputRow({
          name: c.name,
          unit: 'ops/s',
          ours: ours.get(c.name),
          theirs: theirs?.get(c.name),
          referenceName: 'slapd',
        }),
      );
      return {
        reference: 'OpenLDAP slapd (back-mdb, eq+sub indexes on uid mail cn sn givenName)',
        ...(skipped === undefined ? {} : { referenceSkipped: skipped }),
        rows,
        notes: [
          `${USERS} people, ${CONNECTIONS} ldapts connections, ${SECONDS} s per case and server`,
          `argon2id m=${MEMORY} t=${TIME} p=${LANES} for both servers (one PHC hash, shared)`,
          'Commune on the level store (embedded default)',
        ],
      };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

export default ldapBench;
