/**
 * Shared set-up for LDAP server tests: a Core on the memory store in a temp data dir (TLS
 * material generated there), a populated directory, the LDAP server on ephemeral ports, and a
 * raw BER client for what ldapts cannot send (garbage, pipelining, abandon).
 */

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../../src/core/config.ts';
import { silentLogger } from '../../../src/core/log.ts';
import type { Logger } from '../../../src/core/log.ts';
import type { ProtocolServer } from '../../../src/core/lifecycle.ts';
import { buildCore } from '../../../src/main.ts';
import type { Core } from '../../../src/main.ts';
import { BerFramer } from '../../../src/protocols/ldap/ber/ber-framer.ts';
import { createLdapServer } from '../../../src/protocols/ldap/ldap-server.ts';
import type { LdapServerOptions } from '../../../src/protocols/ldap/ldap-server.ts';
import { decodeResponse, encodeMessage } from '../../../src/protocols/ldap/messages.ts';
import type {
  Control,
  LdapMessage,
  RequestOp,
  ResponseOp,
} from '../../../src/protocols/ldap/messages.ts';

export const BASE = 'dc=example,dc=test';
export const PEOPLE = `ou=people,${BASE}`;
export const ALICE_DN = `uid=alice,${PEOPLE}`;
export const PASSWORDS: Readonly<Record<string, string>> = {
  alice: 'alice-secret',
  bob: 'bob-secret',
  mark: 'mark-secret',
  maria: 'maria-secret',
  zed: 'zed-secret',
  victim: 'victim-secret',
};

export interface LdapFixture {
  readonly core: Core;
  readonly server: ProtocolServer;
  readonly ldapPort: number;
  readonly ldapsPort: number;
  readonly url: string;
  readonly ldapsUrl: string;
  /** PEM of the server certificate (self-signed: also the CA to trust). */
  readonly cert: string;
  /** Alice's app password, as shown once. */
  readonly appPassword: string;
  stop(): Promise<void>;
}

export interface FixtureOptions {
  readonly env?: Readonly<Record<string, string>>;
  readonly server?: LdapServerOptions;
  /** Number of extra users user01..userNN (the named five are always there). */
  readonly extraUsers?: number;
  readonly log?: Logger;
}

/**
 * The directory: alice (alias a.liddell, app password), bob, mark, maria, zed and victim as
 * individuals, `extraUsers` more, group staff (alice, bob) with group all-staff containing
 * staff, room1 and a projector, and carol in a second domain other.test.
 */
export async function startLdap(options: FixtureOptions = {}): Promise<LdapFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'commune-ldap-'));
  const config = loadConfig({
    env: {
      COMMUNE_DATA_DIR: dir,
      COMMUNE_STORE_BACKEND: 'memory',
      COMMUNE_LOG_LEVEL: 'silent',
      COMMUNE_LDAP_PORT: '0',
      COMMUNE_LDAPS_PORT: '0',
      ...options.env,
    },
  });
  const core = await buildCore(config, options.log ?? silentLogger());
  try {
    const d = core.directory;
    const names: [string, string][] = [
      ['alice', 'Alice Liddell'],
      ['bob', 'Bob Marley'],
      ['mark', 'Mark Twain'],
      ['maria', 'Maria Callas'],
      ['zed', 'Zed'],
      ['victim', 'Vic Tim'],
    ];
    const ids = new Map<string, number>();
    for (const [local, displayName] of names) {
      const p = await d.createPrincipal({
        address: `${local}@example.test`,
        displayName,
        password: PASSWORDS[local] ?? 'x',
      });
      ids.set(local, p.id);
    }
    const alice = ids.get('alice') ?? 0;
    await d.addAlias(alice, 'a.liddell@example.test');
    const app = await d.addAppPassword(alice, 'thunderbird');
    for (let i = 1; i <= (options.extraUsers ?? 0); i++) {
      const n = String(i).padStart(2, '0');
      await d.createPrincipal({
        address: `user${n}@example.test`,
        displayName: `User ${n} Tester`,
        password: `user${n}-secret`,
      });
    }
    const staff = await d.createPrincipal({
      address: 'staff@example.test',
      kind: 'group',
      displayName: 'Staff',
    });
    await d.addMember(staff.id, alice);
    await d.addMember(staff.id, ids.get('bob') ?? 0);
    const allStaff = await d.createPrincipal({
      address: 'all-staff@example.test',
      kind: 'group',
      displayName: 'All Staff',
    });
    await d.addMember(allStaff.id, staff.id);
    await d.createPrincipal({
      address: 'room1@example.test',
      kind: 'room',
      displayName: 'Marble Room',
    });
    await d.createPrincipal({
      address: 'projector@example.test',
      kind: 'resource',
      displayName: 'Projector',
    });
    await d.createPrincipal({
      address: 'carol@other.test',
      displayName: 'Carol Jones',
      password: 'carol-secret',
      createDomain: true,
    });

    const server = createLdapServer(core, options.server);
    const endpoints = await server.start();
    const port = (name: string): number => {
      const e = endpoints.find((x) => x.protocol === name);
      assert.ok(e, `${name} endpoint`);
      return e.port;
    };
    const ldapPort = port('ldap');
    const ldapsPort = port('ldaps');
    return {
      core,
      server,
      ldapPort,
      ldapsPort,
      url: `ldap://127.0.0.1:${ldapPort}`,
      ldapsUrl: `ldaps://127.0.0.1:${ldapsPort}`,
      cert: core.tls.cert,
      appPassword: app.secret,
      stop: async () => {
        await server.stop(Date.now() + 2000);
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

/** A raw LDAP connection: send requests (or bytes), read decoded responses in order. */
export class RawClient {
  readonly socket: net.Socket;
  readonly #framer = new BerFramer();
  readonly #queue: LdapMessage<ResponseOp>[] = [];
  #waiters: (() => void)[] = [];
  #closed = false;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.#framer.push(chunk);
      for (;;) {
        const frame = this.#framer.next();
        if (frame.kind !== 'message') break;
        this.#queue.push(decodeResponse(frame.bytes));
      }
      this.#wake();
    });
    socket.on('close', () => {
      this.#closed = true;
      this.#wake();
    });
    socket.on('error', () => undefined);
  }

  static connect(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: '127.0.0.1', port }, () => resolve(new RawClient(socket)));
      socket.once('error', reject);
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  send(messageId: number, protocolOp: RequestOp, controls: readonly Control[] = []): void {
    this.socket.write(encodeMessage({ messageId, protocolOp, controls }));
  }

  write(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  /** The next response; rejects when the connection closes first or after `ms`. */
  async next(ms = 5000): Promise<LdapMessage<ResponseOp>> {
    const deadline = Date.now() + ms;
    for (;;) {
      const msg = this.#queue.shift();
      if (msg !== undefined) return msg;
      if (this.#closed) throw new Error('connection closed');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('timed out waiting for a response');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Responses up to and including the one of type `until`. */
  async collect(until: ResponseOp['type'], ms = 5000): Promise<LdapMessage<ResponseOp>[]> {
    const out: LdapMessage<ResponseOp>[] = [];
    for (;;) {
      const msg = await this.next(ms);
      out.push(msg);
      if (msg.protocolOp.type === until) return out;
    }
  }

  /** Resolves once the server has closed the connection. */
  async waitClosed(ms = 5000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!this.#closed) {
      if (Date.now() > deadline) throw new Error('connection still open');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 50);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** A simple bind request. */
export function simpleBind(name: string, password: string): RequestOp {
  return {
    type: 'bindRequest',
    version: 3,
    name,
    authentication: { kind: 'simple', password: new TextEncoder().encode(password) },
  };
}
