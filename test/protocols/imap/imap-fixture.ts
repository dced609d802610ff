/**
 * Shared set-up for IMAP server tests: a Core on the memory store in a temp data dir (TLS
 * material generated there), users alice and bob, the IMAP server on ephemeral ports (plain
 * with STARTTLS, and implicit TLS), an imapflow client factory and a raw line client for
 * golden transcripts.
 */

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImapFlow } from 'imapflow';
import type { ImapFlowOptions } from 'imapflow';
import { loadConfig } from '../../../src/core/config.ts';
import type { Logger } from '../../../src/core/log.ts';
import { silentLogger } from '../../../src/core/log.ts';
import type { ProtocolServer } from '../../../src/core/lifecycle.ts';
import type { AccessContext } from '../../../src/core/principal.ts';
import { buildCore } from '../../../src/main.ts';
import type { Core } from '../../../src/main.ts';
import { createImapServer } from '../../../src/protocols/imap/imap-server.ts';
import type { ImapServerOptions } from '../../../src/protocols/imap/imap-server.ts';
import { MailService } from '../../../src/storage/mail/mail-service.ts';

export const PASSWORDS: Readonly<Record<string, string>> = {
  alice: 'alice-secret',
  bob: 'bob-secret',
};

export interface ImapFixture {
  readonly core: Core;
  readonly mail: MailService;
  readonly server: ProtocolServer;
  /** Plain port (STARTTLS offered). */
  readonly port: number;
  /** Implicit TLS port. */
  readonly tlsPort: number;
  /** PEM of the self-signed server certificate. */
  readonly cert: string;
  readonly alice: { readonly id: number; readonly access: AccessContext };
  readonly bob: { readonly id: number; readonly access: AccessContext };
  stop(): Promise<void>;
}

export interface FixtureOptions {
  readonly env?: Readonly<Record<string, string>>;
  readonly server?: Omit<ImapServerOptions, 'mail'>;
  readonly mail?: { readonly maxMessageSize?: number };
  readonly log?: Logger;
}

export async function startImap(options: FixtureOptions = {}): Promise<ImapFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'commune-imap-'));
  const config = loadConfig({
    env: {
      COMMUNE_DATA_DIR: dir,
      COMMUNE_STORE_BACKEND: 'memory',
      COMMUNE_LOG_LEVEL: 'silent',
      COMMUNE_IMAP_PORT: '0',
      COMMUNE_IMAPS_PORT: '0',
      ...options.env,
    },
  });
  const core = await buildCore(config, options.log ?? silentLogger());
  try {
    const ids: number[] = [];
    for (const local of ['alice', 'bob']) {
      const p = await core.directory.createPrincipal({
        address: `${local}@example.test`,
        displayName: local,
        password: PASSWORDS[local] ?? 'x',
      });
      ids.push(p.id);
    }
    const maxMessageSize = options.mail?.maxMessageSize;
    const mail =
      maxMessageSize === undefined
        ? core.mail
        : new MailService({ storage: core.storage, directory: core.directory, maxMessageSize });
    const server = createImapServer(core, { ...options.server, mail });
    const endpoints = await server.start();
    const plain = endpoints.find((e) => e.protocol === 'imap');
    const tls = endpoints.find((e) => e.protocol === 'imaps');
    const principal = async (id: number) => {
      const p = await core.directory.getPrincipal(id);
      assert.ok(p);
      return core.directory.accessContext(p, 'internal');
    };
    const [aliceId = 0, bobId = 0] = ids;
    return {
      core,
      mail,
      server,
      port: plain?.port ?? 0,
      tlsPort: tls?.port ?? 0,
      cert: core.tls.cert,
      alice: { id: aliceId, access: await principal(aliceId) },
      bob: { id: bobId, access: await principal(bobId) },
      stop: async () => {
        await server.stop(Date.now() + 1000);
        await core.storage.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await core.storage.close();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

/** An imapflow client for `user` (STARTTLS on the plain port unless told otherwise). */
export function imapClient(
  fx: ImapFixture,
  user = 'alice',
  options: Partial<ImapFlowOptions> = {},
): ImapFlow {
  return new ImapFlow({
    host: '127.0.0.1',
    port: fx.port,
    secure: false,
    auth: { user, pass: PASSWORDS[user] ?? 'x' },
    logger: false,
    tls: { rejectUnauthorized: false },
    ...options,
  });
}

/** A plain message with CRLF line ends. */
export function message(subject: string, body = 'Hello.', extra: readonly string[] = []): string {
  return [
    'From: Bob <bob@example.test>',
    'To: Alice <alice@example.test>',
    `Subject: ${subject}`,
    'Date: Tue, 10 Mar 2026 12:00:00 +0000',
    `Message-ID: <${subject.replace(/[^A-Za-z0-9]/g, '')}@example.test>`,
    ...extra,
    '',
    body,
    '',
  ].join('\r\n');
}

/**
 * A raw IMAP client for transcripts: `send` writes one line (CRLF added), `until` waits for a
 * line matching a pattern and returns everything received up to and including it.
 */
export class RawClient {
  readonly socket: net.Socket;
  #buffer = '';
  #waiters: (() => void)[] = [];
  closed = false;
  /** The server greeting line. */
  greeting = '';

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.#buffer += chunk;
      for (const w of this.#waiters.splice(0)) w();
    });
    socket.on('close', () => {
      this.closed = true;
      for (const w of this.#waiters.splice(0)) w();
    });
    socket.on('error', () => undefined);
  }

  static async connect(port: number): Promise<RawClient> {
    const socket = net.connect({ host: '127.0.0.1', port });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const client = new RawClient(socket);
    client.greeting = (await client.until(/^\* (OK|BYE|PREAUTH)/)).replace(/\r\n$/, '');
    return client;
  }

  write(data: string | Uint8Array): void {
    this.socket.write(data);
  }

  send(line: string): void {
    this.socket.write(`${line}\r\n`);
  }

  /** Everything received up to and including the first line matching `pattern`. */
  async until(pattern: RegExp, timeoutMs = 5000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (true) {
      const lines = this.#buffer.split('\r\n');
      let consumed = 0;
      for (let i = 0; i < lines.length - 1; i++) {
        consumed += (lines[i] as string).length + 2;
        if (pattern.test(lines[i] as string)) {
          const out = this.#buffer.slice(0, consumed);
          this.#buffer = this.#buffer.slice(consumed);
          return out;
        }
      }
      if (this.closed) throw new Error(`connection closed waiting for ${pattern}: ${this.#buffer}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${pattern}; got: ${this.#buffer}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Send `tag command` and return the response through the tagged line. */
  async command(tag: string, command: string): Promise<string> {
    this.send(`${tag} ${command}`);
    return this.until(new RegExp(`^${tag} (OK|NO|BAD)`));
  }

  close(): void {
    this.socket.destroy();
  }
}
