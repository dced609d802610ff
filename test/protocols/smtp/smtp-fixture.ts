/**
 * Shared set-up for SMTP tests: a Core on the memory store (TLS material in a temp dir, a
 * cheap password hasher), a populated directory, the MailService, a fixed DNS table, the SMTP
 * listeners on ephemeral ports, optionally the queue runner, and an in-test SMTP sink that
 * plays a remote MX.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import type { SMTPServerAddress, SMTPServerSession } from 'smtp-server';
import { loadConfig } from '../../../src/core/config.ts';
import { silentLogger } from '../../../src/core/log.ts';
import type { Logger } from '../../../src/core/log.ts';
import type { Endpoint, ProtocolServer } from '../../../src/core/lifecycle.ts';
import type { AccessContext } from '../../../src/core/principal.ts';
import { assembleCore, type Core } from '../../../src/main.ts';
import { createQueueRunner } from '../../../src/protocols/smtp/queue-runner.ts';
import type { QueueRunner } from '../../../src/protocols/smtp/queue-runner.ts';
import { StaticResolver } from '../../../src/protocols/smtp/resolver.ts';
import { createSmtpServers } from '../../../src/protocols/smtp/smtp-server.ts';
import type { SmtpServerDeps } from '../../../src/protocols/smtp/smtp-server.ts';
import type { SmtpSettings } from '../../../src/protocols/smtp/smtp-settings.ts';
import { loadTls } from '../../../src/protocols/shared/tls.ts';
import { AuthRateLimiter } from '../../../src/storage/directory/auth-rate-limiter.ts';
import { Directory } from '../../../src/storage/directory/directory.ts';
import { Argon2idHasher } from '../../../src/storage/directory/password-hasher.ts';
import { DkimKeys } from '../../../src/storage/dkim/dkim-keys.ts';
import type { MailService } from '../../../src/storage/mail/mail-service.ts';
import type { MailboxRole } from '../../../src/storage/mail/mail-types.ts';
import { openStorage } from '../../../src/storage/open-storage.ts';
import type { OutboundQueue } from '../../../src/storage/queue/outbound-queue.ts';
import type { QueueSettings } from '../../../src/storage/queue/queue-settings.ts';

export const PASSWORD = 'correct horse battery';

export interface Accounts {
  readonly alice: number;
  readonly bob: number;
  readonly carol: number;
  readonly dave: number;
  readonly team: number;
}

export interface SmtpFixture {
  readonly core: Core;
  readonly mail: MailService;
  readonly queue: OutboundQueue;
  readonly resolver: StaticResolver;
  readonly dkim: DkimKeys;
  readonly accounts: Accounts;
  readonly mxPort: number;
  readonly submissionPort: number;
  readonly submissionsPort: number;
  readonly server: ProtocolServer;
  readonly runner: QueueRunner | undefined;
  /** Messages (as text) in an account's mailbox of `role` (default inbox). */
  messages(account: number, role?: MailboxRole): Promise<string[]>;
  stop(): Promise<void>;
}

export interface FixtureOptions {
  readonly settings?: Partial<SmtpSettings>;
  readonly env?: Readonly<Record<string, string>>;
  /** Start the queue runner with these settings (mxPort points at the sink). */
  readonly queue?: Partial<QueueSettings>;
  readonly deps?: Partial<SmtpServerDeps>;
  readonly log?: Logger;
}

export function ownerContext(account: number): AccessContext {
  return {
    principalId: account,
    address: '',
    displayName: 'test',
    kind: 'individual',
    memberOf: [],
    admin: false,
    method: 'internal',
  };
}

/**
 * Directory: alice (alias a.liddell), bob, carol (quota 20,000 bytes) in example.test; dave in
 * other.test; group team@example.test = alice + bob.
 */
export async function startSmtp(options: FixtureOptions = {}): Promise<SmtpFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'commune-smtp-'));
  const config = loadConfig({
    env: {
      COMMUNE_DATA_DIR: dir,
      COMMUNE_STORE_BACKEND: 'memory',
      COMMUNE_LOG_LEVEL: 'silent',
      COMMUNE_SERVER_HOSTNAME: 'mx.example.test',
      COMMUNE_SMTP_PORT: '0',
      COMMUNE_SUBMISSION_PORT: '0',
      COMMUNE_SUBMISSIONS_PORT: '0',
      ...options.env,
    },
  });
  const log = options.log ?? silentLogger();
  const storage = await openStorage({ backend: 'memory', dataDir: dir });
  const directory = new Directory({
    storage,
    primaryDomain: 'example.test',
    hasher: new Argon2idHasher({ memoryCost: 64, timeCost: 1, parallelism: 1 }),
    limiter: new AuthRateLimiter({ maxFailuresPerAddress: 1000, maxFailuresPerUser: 1000 }),
  });
  const tls = await loadTls({
    certFile: '',
    keyFile: '',
    dataDir: dir,
    hostname: 'mx.example.test',
  });
  const core: Core = assembleCore({
    config,
    log,
    dataDir: dir,
    storage,
    directory,
    tls,
    adminToken: 'x',
  });

  await directory.addDomain('example.test');
  await directory.addDomain('other.test');
  const alice = await directory.createPrincipal({
    address: 'alice@example.test',
    password: PASSWORD,
  });
  await directory.addAlias(alice.id, 'a.liddell@example.test');
  const bob = await directory.createPrincipal({ address: 'bob@example.test', password: PASSWORD });
  const carol = await directory.createPrincipal({
    address: 'carol@example.test',
    password: PASSWORD,
    quota: 20_000,
  });
  const dave = await directory.createPrincipal({ address: 'dave@other.test', password: PASSWORD });
  const team = await directory.createPrincipal({ address: 'team@example.test', kind: 'group' });
  await directory.addMember(team.id, alice.id);
  await directory.addMember(team.id, bob.id);

  const { mail, queue } = core;
  const resolver = new StaticResolver();
  const dkim = new DkimKeys(storage);
  const server = createSmtpServers(core, {
    mail,
    queue,
    resolver,
    dkim,
    ...(options.settings === undefined ? {} : { settings: options.settings }),
    ...options.deps,
  });
  const endpoints: readonly Endpoint[] = await server.start();
  const port = (name: string): number => endpoints.find((e) => e.protocol === name)?.port ?? 0;
  let runner: QueueRunner | undefined;
  if (options.queue !== undefined) {
    runner = createQueueRunner(core, {
      queue,
      resolver,
      mail,
      settings: options.queue,
      tls: { rejectUnauthorized: false },
    });
    await runner.start();
  }

  return {
    core,
    mail,
    queue,
    resolver,
    dkim,
    accounts: { alice: alice.id, bob: bob.id, carol: carol.id, dave: dave.id, team: team.id },
    mxPort: port('smtp'),
    submissionPort: port('submission'),
    submissionsPort: port('submissions'),
    server,
    runner,
    async messages(account, role = 'inbox') {
      const ctx = ownerContext(account);
      const box = await mail.findByRole(ctx, account, role);
      if (box === undefined) return [];
      const out: string[] = [];
      for (const m of await mail.listMessages(ctx, account, box.id)) {
        out.push(new TextDecoder().decode(await mail.readMessage(ctx, account, box.id, m.uid)));
      }
      return out;
    },
    async stop() {
      await runner?.stop(Date.now() + 1000);
      await server.stop(Date.now() + 1000);
      await storage.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface SinkMessage {
  readonly from: string;
  readonly to: readonly string[];
  readonly data: Buffer;
}

/** An SMTP server playing a remote MX; replies can be scripted per recipient. */
export class SmtpSink {
  readonly messages: SinkMessage[] = [];
  /** Reply error for a recipient (e.g. 451 / 550), or undefined to accept. */
  rcptReply: (address: string) => { code: number; text: string } | undefined = () => undefined;
  /** Called before the final reply to DATA; throw to refuse. */
  onMessage: (message: SinkMessage) => Promise<void> | void = () => undefined;
  /** Require AUTH with these credentials (a smarthost); default: no AUTH. */
  auth: { user: string; pass: string } | undefined;
  /** Who authenticated for the last message, and whether it came over TLS. */
  authenticated: string | undefined;
  secure: boolean | undefined;
  #server: SMTPServer | undefined;
  port = 0;

  async start(): Promise<number> {
    const auth = this.auth;
    this.#server = new SMTPServer({
      authOptional: auth === undefined,
      disabledCommands: auth === undefined ? ['AUTH'] : [],
      onAuth: (a, _s, cb) => {
        if (auth !== undefined && a.username === auth.user && a.password === auth.pass) {
          return cb(null, { user: a.username });
        }
        cb(Object.assign(new Error('5.7.8 bad credentials'), { responseCode: 535 }));
      },
      logger: false,
      disableReverseLookup: true,
      hideENHANCEDSTATUSCODES: false,
      onRcptTo: (address: SMTPServerAddress, _s: SMTPServerSession, cb) => {
        const reply = this.rcptReply(address.address);
        if (reply === undefined) return cb();
        cb(Object.assign(new Error(reply.text), { responseCode: reply.code }));
      },
      onData: (stream, session, cb) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          const message: SinkMessage = {
            from: session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address,
            to: session.envelope.rcptTo.map((r) => r.address),
            data: Buffer.concat(chunks),
          };
          Promise.resolve(this.onMessage(message)).then(
            () => {
              this.authenticated = typeof session.user === 'string' ? session.user : undefined;
              this.secure = session.secure;
              this.messages.push(message);
              cb(null, 'queued');
            },
            (err: Error) => cb(err),
          );
        });
      },
    });
    this.#server.on('error', () => undefined);
    await new Promise<void>((resolve) => this.#server?.listen(0, '127.0.0.1', resolve));
    const address = this.#server.server.address() as net.AddressInfo;
    this.port = address.port;
    return this.port;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    if (server === undefined) return;
    for (const c of server.connections) c.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** A line-based raw SMTP client for transcripts (pipelining, bad commands). */
export class RawSmtp {
  #socket: net.Socket;
  #buffer = '';
  #waiters: (() => void)[] = [];

  private constructor(socket: net.Socket) {
    this.#socket = socket;
    this.#attach(socket);
  }

  #attach(socket: net.Socket): void {
    this.#socket = socket;
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      this.#buffer += d;
      for (const w of this.#waiters.splice(0)) w();
    });
    socket.on('close', () => {
      for (const w of this.#waiters.splice(0)) w();
    });
  }

  static async connect(port: number): Promise<RawSmtp> {
    const socket = net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new RawSmtp(socket);
  }

  get closed(): boolean {
    return this.#socket.destroyed || this.#socket.readableEnded;
  }

  write(text: string): void {
    this.#socket.write(text);
  }

  /** Read `count` complete replies (multi-line replies count once). */
  async replies(count = 1, timeoutMs = 5000): Promise<string[]> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const lines = this.#buffer.split('\r\n');
      const done: string[] = [];
      let consumed = 0;
      let current: string[] = [];
      for (let i = 0; i < lines.length - 1 && done.length < count; i++) {
        const line = lines[i] ?? '';
        consumed += line.length + 2;
        current.push(line);
        if (/^\d{3} /.test(line) || !/^\d{3}-/.test(line)) {
          done.push(current.join('\n'));
          current = [];
        }
      }
      if (done.length >= count) {
        this.#buffer = this.#buffer.slice(consumed);
        return done;
      }
      if (this.closed || Date.now() > end) {
        throw new Error(`wanted ${count} replies, have: ${JSON.stringify(this.#buffer)}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 50);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async command(line: string): Promise<string> {
    this.write(`${line}\r\n`);
    return (await this.replies(1))[0] ?? '';
  }

  /** STARTTLS, then go on over TLS on the same connection (the test certificate is self-signed). */
  async startTls(): Promise<string> {
    const reply = await this.command('STARTTLS');
    if (!reply.startsWith('220')) return reply;
    this.#socket.removeAllListeners('data');
    const secure = tls.connect({ socket: this.#socket, rejectUnauthorized: false });
    await once(secure, 'secureConnect');
    this.#attach(secure);
    return reply;
  }

  close(): void {
    this.#socket.destroy();
  }
}
