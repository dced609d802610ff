/**
 * One Commune node over a PostgreSQL schema, for the multi-node tests: Core assembled as
 * src/main.ts does (postgres storage with its own pools and its own LISTEN connection on a
 * per-test channel, directory, mail, queue, TLS in a temp dir), then IMAP, SMTP (MX and
 * submission), HTTP with DAV, and optionally the outbound queue runner, all on 127.0.0.1
 * port 0. startServer() cannot take a schema, hence this assembly; two of these on one schema
 * are two nodes of one deployment. Remote mail for remote.test goes to 127.0.0.1 at the
 * queue's mxPort (the test's SMTP sink).
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/core/config.ts';
import type { Endpoint, ProtocolServer } from '../../src/core/lifecycle.ts';
import { silentLogger } from '../../src/core/log.ts';
import { assembleCore, type Core } from '../../src/main.ts';
import { createDavService } from '../../src/protocols/dav/dav-service.ts';
import { createWellKnownService } from '../../src/protocols/dav/well-known-service.ts';
import { HttpServer } from '../../src/protocols/http/http-server.ts';
import { createImapServer } from '../../src/protocols/imap/imap-server.ts';
import { loadTls } from '../../src/protocols/shared/tls.ts';
import { createQueueRunner, type QueueRunner } from '../../src/protocols/smtp/queue-runner.ts';
import { StaticResolver } from '../../src/protocols/smtp/resolver.ts';
import { createSmtpServers } from '../../src/protocols/smtp/smtp-server.ts';
import { AuthRateLimiter } from '../../src/storage/directory/auth-rate-limiter.ts';
import { Directory } from '../../src/storage/directory/directory.ts';
import { Argon2idHasher } from '../../src/storage/directory/password-hasher.ts';
import { openStorage } from '../../src/storage/open-storage.ts';
import type { QueueSettings } from '../../src/storage/queue/queue-settings.ts';

export const DOMAIN = 'example.test';
export const USERS = ['alice', 'bob'] as const;
export type User = (typeof USERS)[number];
export const PASSWORD = 'multinode-secret';

export interface PgNodeOptions {
  /** Node name: the server hostname is `node-<name>.example.test` (its SMTP EHLO name). */
  readonly name: string;
  readonly url: string;
  readonly schema: string;
  /** NOTIFY channel of the change bus, per test (channels are per database, not schema). */
  readonly channel: string;
  /** Start the outbound queue runner with these settings. */
  readonly queue?: Partial<QueueSettings>;
  readonly poolSize?: number;
}

export interface PgNode {
  readonly name: string;
  readonly core: Core;
  readonly imapPort: number;
  readonly submissionPort: number;
  readonly httpBase: string;
  readonly runner: QueueRunner | undefined;
  /** Start the queue runner now (once). */
  startQueue(settings: Partial<QueueSettings>): Promise<QueueRunner>;
  stop(): Promise<void>;
}

/** DNS as the nodes see it: remote.test's MX is this machine. */
export function testResolver(): StaticResolver {
  return new StaticResolver({
    'remote.test': { MX: [{ exchange: 'mx.remote.test', priority: 10 }] },
    'mx.remote.test': { A: ['127.0.0.1'] },
  });
}

export async function startPgNode(options: PgNodeOptions): Promise<PgNode> {
  const dir = mkdtempSync(join(tmpdir(), `commune-node-${options.name}-`));
  const hostname = `node-${options.name}.${DOMAIN}`;
  const config = loadConfig({
    env: {
      COMMUNE_DATA_DIR: dir,
      COMMUNE_LOG_LEVEL: 'silent',
      COMMUNE_SERVER_HOSTNAME: hostname,
      COMMUNE_SERVER_PRIMARY_DOMAIN: DOMAIN,
      COMMUNE_STORE_BACKEND: 'postgres',
      COMMUNE_STORE_URL: options.url,
      COMMUNE_IMAP_PORT: '0',
      COMMUNE_IMAPS_ENABLED: 'false',
      COMMUNE_SMTP_PORT: '0',
      COMMUNE_SUBMISSION_PORT: '0',
      COMMUNE_SUBMISSIONS_ENABLED: 'false',
    },
  });
  const log = silentLogger();
  const storage = await openStorage({
    backend: 'postgres',
    dataDir: dir,
    url: options.url,
    schema: options.schema,
    channel: options.channel,
    poolSize: options.poolSize ?? 10,
  });
  const servers: ProtocolServer[] = [];
  let runner: QueueRunner | undefined;
  const stop = async (): Promise<void> => {
    const deadline = Date.now() + 2000;
    await runner?.stop(deadline);
    await Promise.allSettled(servers.reverse().map((s) => s.stop(deadline)));
    await storage.close();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const directory = new Directory({
      storage,
      primaryDomain: DOMAIN,
      hasher: new Argon2idHasher({ memoryCost: 64, timeCost: 1, parallelism: 1 }),
      limiter: new AuthRateLimiter({ maxFailuresPerAddress: 1000, maxFailuresPerUser: 1000 }),
    });
    const tls = await loadTls({ certFile: '', keyFile: '', dataDir: dir, hostname });
    const core = assembleCore({
      config,
      log,
      dataDir: dir,
      storage,
      directory,
      tls,
      adminToken: 'x',
    });
    const resolver = testResolver();

    const imap = createImapServer(core);
    servers.push(imap);
    const imapEndpoints = await imap.start();
    const smtp = createSmtpServers(core, { mail: core.mail, queue: core.queue, resolver });
    servers.push(smtp);
    const smtpEndpoints = await smtp.start();
    const http = new HttpServer({
      listeners: [{ name: 'http', host: '127.0.0.1', port: 0 }],
      tls: core.tls,
      services: [createDavService(core), createWellKnownService()],
      maxConnections: 1000,
      maxConnectionsPerAddress: 1000,
      idleTimeoutMs: 60_000,
      log,
    });
    servers.push(http);
    const httpEndpoints = await http.start();
    const port = (endpoints: readonly Endpoint[], protocol: string): number =>
      endpoints.find((e) => e.protocol === protocol)?.port ?? 0;

    const startQueue = async (settings: Partial<QueueSettings>): Promise<QueueRunner> => {
      if (runner !== undefined) return runner;
      const started = createQueueRunner(core, {
        queue: core.queue,
        mail: core.mail,
        resolver,
        settings,
        tls: { rejectUnauthorized: false },
      });
      await started.start();
      runner = started;
      return started;
    };
    if (options.queue !== undefined) await startQueue(options.queue);

    return {
      name: options.name,
      core,
      imapPort: port(imapEndpoints, 'imap'),
      submissionPort: port(smtpEndpoints, 'submission'),
      httpBase: `http://127.0.0.1:${port(httpEndpoints, 'http')}`,
      get runner() {
        return runner;
      },
      startQueue,
      stop,
    };
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}

/** The domain and the users, once per deployment (any node may do it). */
export async function seedDirectory(core: Core): Promise<Record<User, number>> {
  const { directory } = core;
  if ((await directory.getDomain(DOMAIN)) === undefined) await directory.addDomain(DOMAIN);
  const ids = {} as Record<User, number>;
  for (const user of USERS) {
    const address = `${user}@${DOMAIN}`;
    const found = await directory.findByAddress(address);
    ids[user] =
      found?.id ??
      (await directory.createPrincipal({ address, password: PASSWORD, displayName: user })).id;
  }
  return ids;
}
