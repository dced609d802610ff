/**
 * SMTP acceptance throughput: messages per second answered 250 (durably accepted) on the MX,
 * 4 KB and 1 MB messages over CONNECTIONS concurrent connections, Commune against Postfix
 * (Debian's postfix package) configured here in a temp dir on a loopback port, delivering to
 * virtual maildirs. Both get the same client: nodemailer's SMTP connection (PIPELINING), one
 * session per connection, one recipient per message.
 *
 * Commune runs with its defaults on the level store: the message is in the recipient's
 * mailbox (indexed, fsynced) and SPF/DKIM/DMARC were checked (DNS from an empty fixed table)
 * before the 250. Postfix answers once the message is fsynced to its queue and delivers to
 * the maildir afterwards, in parallel (as Postfix + an LDA would).
 *
 * The servers take turns case by case, BENCH_ROUNDS times (3); the figures are the means, and
 * each round's ratio is printed too.
 *
 * Environment: BENCH_SECONDS per case, server and round (5); BENCH_ROUNDS (3).
 */

import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { loadConfig } from '../src/core/config.ts';
import { silentLogger } from '../src/core/log.ts';
import { assembleCore, type Core } from '../src/main.ts';
import { StaticResolver } from '../src/protocols/smtp/resolver.ts';
import { createSmtpServers } from '../src/protocols/smtp/smtp-server.ts';
import { loadTls } from '../src/protocols/shared/tls.ts';
import { Directory } from '../src/storage/directory/directory.ts';
import { openStorage } from '../src/storage/open-storage.ts';
import type { BenchModule, BenchResult, BenchRow } from './run.ts';
import { freePort, throughputRow } from './bench-support.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
const CONNECTIONS = 10;
const CASES: readonly { name: string; size: number; max: number }[] = [
  { name: 'accept 4 KB', size: 4 * 1024, max: 100_000 },
  { name: 'accept 1 MB', size: 1024 * 1024, max: 5_000 },
];

/**
 * Measure in a worker thread, so the load generator (nodemailer's client, whose dot-stuffing
 * is costly on 1 MB messages) does not share the event loop of the in-process Commune server;
 * Postfix gets the same client.
 */
function measure(
  port: number,
  size: number,
  max: number,
): Promise<{ rate: number; errors: number }> {
  const worker = new Worker(new URL('./smtp-load.ts', import.meta.url), {
    workerData: { port, size, max, seconds: SECONDS, connections: CONNECTIONS },
  });
  return new Promise((resolve, reject) => {
    worker.once('message', (m: { rate: number; errors: number } | { error: string }) => {
      if ('error' in m) reject(new Error(m.error));
      else resolve(m);
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`load worker exited with ${code}`)));
  });
}

async function startCommune(dir: string) {
  const dataDir = join(dir, 'commune');
  const config = loadConfig({
    env: {
      COMMUNE_DATA_DIR: dataDir,
      COMMUNE_LOG_LEVEL: 'silent',
      COMMUNE_SERVER_HOSTNAME: 'mx.example.test',
      COMMUNE_SMTP_PORT: '0',
      COMMUNE_SUBMISSION_ENABLED: 'false',
      COMMUNE_SUBMISSIONS_ENABLED: 'false',
    },
  });
  const storage = await openStorage({ backend: 'level', dataDir });
  const directory = new Directory({ storage, primaryDomain: 'example.test' });
  await directory.addDomain('example.test');
  await directory.createPrincipal({ address: 'bench@example.test' });
  const tls = await loadTls({ certFile: '', keyFile: '', dataDir, hostname: 'mx.example.test' });
  const core: Core = assembleCore({
    config,
    log: silentLogger(),
    dataDir,
    storage,
    directory,
    tls,
    adminToken: 'x',
  });
  const server = createSmtpServers(core, {
    mail: core.mail,
    queue: core.queue,
    resolver: new StaticResolver(),
  });
  const [endpoint] = await server.start();
  return {
    port: endpoint?.port ?? 0,
    stop: async () => {
      await server.stop(Date.now() + 2000);
      await storage.close();
    },
  };
}

function postfixAvailable(): string | undefined {
  if (spawnSync('postconf', ['-d', 'mail_version'], { stdio: 'ignore' }).error !== undefined) {
    return 'postfix not found (apt-get install postfix)';
  }
  if (process.getuid?.() !== 0) return 'a private Postfix instance needs root to start';
  return undefined;
}

function postfixIds(): { uid: number; gid: number } {
  const line = (file: string, name: string): string[] =>
    (
      readFileSync(file, 'utf8')
        .split('\n')
        .find((l) => l.startsWith(`${name}:`)) ?? ''
    ).split(':');
  return {
    uid: Number(line('/etc/passwd', 'postfix')[2]),
    gid: Number(line('/etc/group', 'postfix')[2]),
  };
}

/** Postfix in `dir`: its own config, queue and maildirs, smtpd on 127.0.0.1:port only. */
async function startPostfix(dir: string) {
  const root = join(dir, 'postfix');
  const etc = join(root, 'etc');
  const mail = join(root, 'mail');
  const { uid, gid } = postfixIds();
  // step: the postfix user must reach its directories under our private temp dir
  chmodSync(dir, 0o755);
  for (const d of [etc, mail, join(root, 'queue'), join(root, 'data')])
    mkdirSync(d, { recursive: true });
  chownSync(mail, uid, gid);
  chownSync(join(root, 'data'), uid, gid);
  const port = await freePort();
  writeFileSync(
    join(etc, 'main.cf'),
    [
      'compatibility_level = 3.6',
      `queue_directory = ${join(root, 'queue')}`,
      `data_directory = ${join(root, 'data')}`,
      'mail_owner = postfix',
      'setgid_group = postdrop',
      'inet_interfaces = 127.0.0.1',
      'inet_protocols = ipv4',
      'myhostname = postfix.bench.test',
      'mydestination =',
      'mynetworks = 127.0.0.0/8',
      'smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination',
      'message_size_limit = 26214400',
      'virtual_mailbox_domains = example.test',
      `virtual_mailbox_base = ${mail}`,
      'virtual_mailbox_maps = static:bench/',
      `virtual_uid_maps = static:${uid}`,
      `virtual_gid_maps = static:${gid}`,
      'virtual_destination_concurrency_limit = 20',
      `maillog_file = ${join(root, 'maillog')}`,
      `maillog_file_prefixes = ${root}`,
      'smtpd_banner = $myhostname ESMTP',
      'biff = no',
      'smtputf8_enable = yes',
      '',
    ].join('\n'),
  );
  // master.cf: the stock services, smtpd only on our port, nothing chrooted
  const stock = readFileSync('/etc/postfix/master.cf', 'utf8')
    .split('\n')
    .filter((l) => !/^(smtp|submission|submissions|smtps)\s+inet\b/.test(l))
    .map((l) => l.replace(/^(\S+\s+\S+\s+\S+\s+\S+\s+)y(\s)/, '$1n$2'));
  stock.push(`127.0.0.1:${port} inet n - n - - smtpd`);
  if (!stock.some((l) => l.startsWith('postlog ')))
    stock.push('postlog unix-dgram n - n - 1 postlogd');
  stock.push('');
  writeFileSync(join(etc, 'master.cf'), stock.join('\n'));
  const postfix = (...args: string[]) =>
    spawnSync('postfix', ['-c', etc, ...args], { encoding: 'utf8' });
  const log = (): string => {
    try {
      return readFileSync(join(root, 'maillog'), 'utf8').split('\n').slice(-5).join('\n');
    } catch {
      return '(no log)';
    }
  };
  const check = postfix('check');
  if (check.status !== 0) throw new Error(`postfix check failed: ${check.stderr} ${log()}`);
  const start = postfix('start');
  if (start.status !== 0) throw new Error(`postfix start failed: ${start.stderr} ${log()}`);
  const stop = async (): Promise<void> => {
    postfix('stop');
    for (let i = 0; i < 100 && postfix('status').status === 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  // step: wait for the greeting
  for (let i = 0; ; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('data', (d: Buffer) => {
        s.destroy();
        resolve(d.toString().startsWith('220'));
      });
      s.once('error', () => resolve(false));
    });
    if (ok) break;
    if (i > 100) {
      await stop();
      throw new Error(`postfix did not start: ${log()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  /** Wait (up to 60 s) until Postfix has delivered what it queued: no files in its queues. */
  const settle = async (): Promise<void> => {
    const queued = (): number =>
      ['maildrop', 'incoming', 'active', 'deferred'].reduce((n, q) => {
        try {
          return n + readdirSync(join(root, 'queue', q), { recursive: true }).length;
        } catch {
          return n;
        }
      }, 0);
    for (let i = 0; i < 600 && queued() > 0; i++) await new Promise((r) => setTimeout(r, 100));
  };
  return { port, stop, settle };
}

type Rates = Map<string, { rate: number; errors: number }>;

/** The mean of each case's rates over the rounds (equal durations), errors summed. */
function meanOf(rounds: readonly Rates[]): Rates {
  const out: Rates = new Map();
  for (const c of CASES) {
    const runs = rounds.map((r) => r.get(c.name)).filter((r) => r !== undefined);
    out.set(c.name, {
      rate: runs.reduce((sum, r) => sum + r.rate, 0) / Math.max(1, runs.length),
      errors: runs.reduce((sum, r) => sum + r.errors, 0),
    });
  }
  return out;
}

/** Each round's ratio for one case, as a note ("0.97x 1.05x"). */
function roundRatios(name: string, ours: readonly Rates[], theirs: readonly Rates[]): string {
  return ours
    .map((o, i) => {
      const a = o.get(name)?.rate ?? 0;
      const b = theirs[i]?.get(name)?.rate ?? 0;
      return b > 0 ? `${(a / b).toFixed(2)}x` : '-';
    })
    .join(' ');
}

const smtpBench: BenchModule = {
  name: 'smtp',
  async run(): Promise<BenchResult> {
    const dir = mkdtempSync(join(tmpdir(), 'commune-bench-smtp-'));
    const skipped = postfixAvailable();
    const servers: { stop: () => Promise<void> }[] = [];
    try {
      const commune = await startCommune(dir);
      servers.push(commune);
      const postfix = skipped === undefined ? await startPostfix(dir) : undefined;
      if (postfix !== undefined) servers.push(postfix);
      // step: the two servers take turns, case by case, ROUNDS times (the machine's load
      // swings by 10-20% over a minute; alternating spreads that over both)
      const ours: Rates[] = [];
      const theirs: Rates[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        const o: Rates = new Map();
        const t: Rates = new Map();
        for (const c of CASES) {
          // step: each measurement starts with Postfix's earlier mail delivered (its
          // deliveries run after its 250; Commune's are done before)
          await postfix?.settle();
          o.set(c.name, await measure(commune.port, c.size, c.max));
          if (postfix === undefined) continue;
          await postfix.settle();
          t.set(c.name, await measure(postfix.port, c.size, c.max));
        }
        ours.push(o);
        theirs.push(t);
      }
      const oursMean = meanOf(ours);
      const theirsMean = postfix === undefined ? undefined : meanOf(theirs);
      const rows: BenchRow[] = CASES.map((c) =>
        throughputRow({
          name: c.name,
          unit: 'msg/s',
          ours: oursMean.get(c.name),
          theirs: theirsMean?.get(c.name),
          referenceName: 'Postfix',
        }),
      );
      return {
        reference: 'Postfix (smtpd -> queue -> virtual maildir)',
        ...(skipped === undefined ? {} : { referenceSkipped: skipped }),
        rows,
        notes: [
          `${CONNECTIONS} connections, one recipient per message, ${SECONDS} s per case and ` +
            `server, ${ROUNDS} alternating rounds (figures are the means)`,
          ...(postfix === undefined
            ? []
            : CASES.map((c) => `${c.name}, ratio per round: ${roundRatios(c.name, ours, theirs)}`)),
          'Commune: level store, delivered into the mailbox and SPF/DKIM/DMARC checked before 250',
        ],
      };
    } finally {
      for (const server of servers.reverse()) await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

export default smtpBench;
