/**
 * The composition root: build Core once (config, log, storage, directory, TLS) and start every
 * enabled protocol server over it. Nothing else in the program constructs shared services.
 */

import { randomBytes } from 'node:crypto';
import { access, constants, mkdir, rm, writeFile, rename } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Config, ListenerSection } from './core/config.ts';
import { LISTENER_SECTIONS } from './core/config.ts';
import { CommuneError, isCommuneError } from './core/errors.ts';
import type { Endpoint, HttpService, ProtocolServer } from './core/lifecycle.ts';
import type { Logger } from './core/log.ts';
import { VERSION } from './core/version.ts';
import { adminApiService } from './protocols/http/admin-api.ts';
import { createDavService } from './protocols/dav/dav-service.ts';
import { createWellKnownService } from './protocols/dav/well-known-service.ts';
import { createImapServer } from './protocols/imap/imap-server.ts';
import { createLdapServer } from './protocols/ldap/ldap-server.ts';
import { healthService } from './protocols/http/health-service.ts';
import { HttpServer, type HttpListenerSpec } from './protocols/http/http-server.ts';
import { loadTls, type TlsMaterial } from './protocols/shared/tls.ts';
import { AuthRateLimiter } from './storage/directory/auth-rate-limiter.ts';
import { Directory } from './storage/directory/directory.ts';
import { Argon2idHasher } from './storage/directory/password-hasher.ts';
import { MailService } from './storage/mail/mail-service.ts';
import { openStorage } from './storage/open-storage.ts';
import { OutboundQueue } from './storage/queue/outbound-queue.ts';
import { createQueueRunner } from './protocols/smtp/queue-runner.ts';
import { systemResolver } from './protocols/smtp/resolver.ts';
import { createSmtpServers } from './protocols/smtp/smtp-server.ts';
import type { Storage } from './storage/storage.ts';
import { isHealthCheckable } from './storage/store.ts';

/** Everything protocol servers are built from. */
export interface Core {
  readonly config: Config;
  readonly log: Logger;
  readonly dataDir: string;
  readonly storage: Storage;
  readonly directory: Directory;
  /** Mailboxes and messages, shared by IMAP, SMTP delivery and the queue. */
  readonly mail: MailService;
  /** The durable outbound SMTP queue. */
  readonly queue: OutboundQueue;
  readonly tls: TlsMaterial;
  readonly adminToken: string;
}

export interface RunningServer {
  readonly core: Core;
  readonly endpoints: readonly Endpoint[];
  /** Graceful stop within config.server.shutdownTimeout. */
  stop(): Promise<void>;
}

/** The parts of Core a caller brings; mail and queue are made over its storage when absent. */
export type CoreParts = Omit<Core, 'mail' | 'queue'> & Partial<Pick<Core, 'mail' | 'queue'>>;

/** Assemble Core from its parts (tests and benchmarks that build their own storage). */
export function assembleCore(parts: CoreParts): Core {
  return {
    ...parts,
    mail: parts.mail ?? new MailService({ storage: parts.storage, directory: parts.directory }),
    queue: parts.queue ?? new OutboundQueue(parts.storage),
  };
}

/** Where a running server tells the CLI how to reach it. */
export function runtimeFilePath(dataDir: string): string {
  return join(dataDir, 'run', 'server.json');
}

export interface RuntimeInfo {
  readonly pid: number;
  readonly adminUrl: string;
  readonly token: string;
  readonly startedAt: string;
  readonly version: string;
}

/** Protocols whose servers exist in this build; the other listener sections are reserved. */
const IMPLEMENTED: readonly ListenerSection[] = [
  'http',
  'https',
  'imap',
  'imaps',
  'ldap',
  'ldaps',
  'smtp',
  'submission',
  'submissions',
];

async function prepareDataDir(dataDir: string): Promise<void> {
  try {
    await mkdir(dataDir, { recursive: true, mode: 0o750 });
    await access(dataDir, constants.R_OK | constants.W_OK | constants.X_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    const why =
      code === 'EACCES' || code === 'EPERM' ? 'permission denied' : (err as Error).message;
    throw new CommuneError('unavailable', `data directory ${dataDir} is not usable: ${why}`);
  }
}

export async function buildCore(config: Config, log: Logger): Promise<Core> {
  const dataDir = resolve(config.server.dataDir);
  await prepareDataDir(dataDir);
  const storage = await openStorage({
    backend: config.store.backend,
    dataDir,
    url: config.store.url,
    poolSize: config.store.poolSize,
    blobs: config.store.blobs,
    ...(config.store.blobDir !== '' ? { blobDir: config.store.blobDir } : {}),
    onBusError: (err) => log.error({ err }, 'storage background error'),
  });
  try {
    const directory = new Directory({
      storage,
      primaryDomain: config.server.primaryDomain,
      hasher: new Argon2idHasher(),
      limiter: new AuthRateLimiter({
        maxFailuresPerUser: config.auth.maxFailuresPerUser,
        maxFailuresPerAddress: config.auth.maxFailuresPerAddress,
        windowMs: config.auth.failureWindow * 1000,
      }),
    });
    if (!(await directory.getDomain(config.server.primaryDomain))) {
      await directory.addDomain(config.server.primaryDomain);
    }
    const tls = await loadTls({
      certFile: config.tls.cert,
      keyFile: config.tls.key,
      dataDir,
      hostname: config.server.hostname,
    });
    const adminToken =
      config.admin.token !== '' ? config.admin.token : randomBytes(32).toString('base64url');
    return assembleCore({ config, log, dataDir, storage, directory, tls, adminToken });
  } catch (err) {
    await storage.close();
    throw err;
  }
}

function describeListenError(err: unknown, what: string): Error {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') return new CommuneError('unavailable', `${what} is already in use`);
  if (code === 'EACCES') return new CommuneError('unavailable', `${what}: permission denied`);
  if (code === 'EADDRNOTAVAIL')
    return new CommuneError('unavailable', `${what}: address not available on this machine`);
  return err instanceof Error ? err : new Error(String(err));
}

/** Build Core and start every enabled protocol server. */
export async function startServer(config: Config, log: Logger): Promise<RunningServer> {
  const startedAt = Date.now();
  const core = await buildCore(config, log);
  const servers: ProtocolServer[] = [];
  const endpoints: Endpoint[] = [];
  let ready = false;

  const stopAll = async (): Promise<void> => {
    const deadline = Date.now() + config.server.shutdownTimeout * 1000;
    await Promise.allSettled(servers.reverse().map((s) => s.stop(deadline)));
    await rm(runtimeFilePath(core.dataDir), { force: true });
    await core.storage.close();
  };

  try {
    // HTTP-hosted services, all on the one listener
    const services: HttpService[] = [
      healthService({
        version: VERSION,
        startedAt,
        isReady: () => ready,
        storeOk: async () =>
          isHealthCheckable(core.storage.store) ? core.storage.store.healthCheck() : true,
        endpoints: () => endpoints,
      }),
      adminApiService({
        services: {
          directory: core.directory,
          storage: core.storage,
          dkimSelector: config.smtp.dkimSelector,
        },
        token: core.adminToken,
        allowRemote: config.admin.allowRemote,
      }),
      createDavService(core),
      createWellKnownService(),
    ];
    const httpListeners: HttpListenerSpec[] = [];
    if (config.http.enabled)
      httpListeners.push({ name: 'http', host: config.server.bind, port: config.http.port });
    if (config.https.enabled)
      httpListeners.push({ name: 'https', host: config.server.bind, port: config.https.port });
    if (httpListeners.length > 0) {
      const http = new HttpServer({
        listeners: httpListeners,
        tls: core.tls,
        services,
        maxConnections: config.limits.maxConnections,
        maxConnectionsPerAddress: config.limits.maxConnectionsPerAddress,
        idleTimeoutMs: config.limits.idleTimeout * 1000,
        log,
      });
      servers.push(http);
      try {
        endpoints.push(...(await http.start()));
      } catch (err) {
        const which = httpListeners.map((l) => `${l.name} port ${l.port}`).join(' / ');
        throw describeListenError(err, `${which} on ${config.server.bind}`);
      }
    }

    if (config.ldap.enabled || config.ldaps.enabled) {
      const ldap = createLdapServer(core);
      servers.push(ldap);
      try {
        endpoints.push(...(await ldap.start()));
      } catch (err) {
        throw describeListenError(
          err,
          `ldap port ${config.ldap.port} / ldaps port ${config.ldaps.port} on ${config.server.bind}`,
        );
      }
    }

    if (config.imap.enabled || config.imaps.enabled) {
      const imap = createImapServer(core, { mail: core.mail });
      servers.push(imap);
      try {
        endpoints.push(...(await imap.start()));
      } catch (err) {
        throw describeListenError(
          err,
          `imap port ${config.imap.port} / imaps port ${config.imaps.port} on ${config.server.bind}`,
        );
      }
    }

    // Mail transfer: the outbound queue worker, then the SMTP listeners
    const resolver = systemResolver();
    const runner = createQueueRunner(core, { mail: core.mail, queue: core.queue, resolver });
    servers.push(runner);
    await runner.start();
    if (config.smtp.enabled || config.submission.enabled || config.submissions.enabled) {
      const smtp = createSmtpServers(core, { mail: core.mail, queue: core.queue, resolver });
      servers.push(smtp);
      try {
        endpoints.push(...(await smtp.start()));
      } catch (err) {
        const which = (['smtp', 'submission', 'submissions'] as const)
          .filter((s) => config[s].enabled)
          .map((s) => `${s} port ${config[s].port}`)
          .join(' / ');
        throw describeListenError(err, `${which} on ${config.server.bind}`);
      }
    }

    for (const e of endpoints)
      log.info(
        { protocol: e.protocol, host: e.host, port: e.port, tls: e.tls },
        `listening: ${e.protocol} on ${e.host}:${e.port}`,
      );
    const pending = LISTENER_SECTIONS.filter((s) => config[s].enabled && !IMPLEMENTED.includes(s));
    if (pending.length > 0)
      log.warn({ protocols: pending }, `not served by this build yet: ${pending.join(', ')}`);

    // Tell the CLI how to reach us
    const http = endpoints.find((e) => e.protocol === 'http');
    if (http) {
      const host = http.host === '0.0.0.0' || http.host === '::' ? '127.0.0.1' : http.host;
      const info: RuntimeInfo = {
        pid: process.pid,
        adminUrl: `http://${host.includes(':') ? `[${host}]` : host}:${http.port}/admin/api/`,
        token: core.adminToken,
        startedAt: new Date(startedAt).toISOString(),
        version: VERSION,
      };
      const path = runtimeFilePath(core.dataDir);
      await mkdir(join(core.dataDir, 'run'), { recursive: true, mode: 0o700 });
      await writeFile(`${path}.tmp`, JSON.stringify(info, null, 2), { mode: 0o600 });
      await rename(`${path}.tmp`, path);
    }
    ready = true;
    log.info(
      { version: VERSION, store: config.store.backend, dataDir: core.dataDir },
      'commune started',
    );
  } catch (err) {
    await stopAll().catch(() => undefined);
    throw err;
  }

  let stopping: Promise<void> | undefined;
  return {
    core,
    endpoints,
    stop: () => {
      stopping ??= (async () => {
        ready = false;
        log.info('stopping');
        await stopAll();
        log.info('stopped');
      })();
      return stopping;
    },
  };
}

/** One line for an error at start-up: the cause, not a stack trace. */
export function startupErrorMessage(err: unknown): string {
  if (isCommuneError(err)) return err.message;
  return err instanceof Error ? err.message : String(err);
}
