/**
 * A DAV server for tests: Core on a temp data dir (memory or level store), the DAV and
 * well-known services on an HttpServer bound to 127.0.0.1 port 0, and two users.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../../src/core/config.ts';
import { silentLogger } from '../../../src/core/log.ts';
import type { Logger } from '../../../src/core/log.ts';
import { buildCore, type Core } from '../../../src/main.ts';
import { HttpServer } from '../../../src/protocols/http/http-server.ts';
import { createDavService } from '../../../src/protocols/dav/dav-service.ts';
import { createWellKnownService } from '../../../src/protocols/dav/well-known-service.ts';

/** A user the tests log in as. */
export interface DavUser {
  readonly id: number;
  readonly address: string;
  readonly password: string;
}

/** The DAV principal URL path of a user or group. */
export function principalPath(who: { address: string }): string {
  return `/dav/principals/${who.address}/`;
}

export interface DavFixture {
  readonly core: Core;
  readonly base: string;
  readonly port: number;
  readonly alice: DavUser;
  readonly bob: DavUser;
  /** Authorization header value for a user. */
  auth(user: { address: string; password: string }): string;
  /** fetch against the server as alice (or `as`). */
  request(
    method: string,
    path: string,
    options?: {
      body?: string | Uint8Array;
      headers?: Record<string, string>;
      as?: { address: string; password: string } | null;
    },
  ): Promise<Response>;
  close(): Promise<void>;
}

export async function startDavFixture(
  options: { backend?: 'memory' | 'level'; log?: Logger; env?: Record<string, string> } = {},
): Promise<DavFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'commune-dav-'));
  const config = loadConfig({
    env: {
      COMMUNE_DATA_DIR: dir,
      COMMUNE_STORE_BACKEND: options.backend ?? 'memory',
      COMMUNE_LOG_LEVEL: 'silent',
      ...options.env,
    },
  });
  const log = options.log ?? silentLogger();
  const core = await buildCore(config, log);
  const http = new HttpServer({
    listeners: [{ name: 'http', host: '127.0.0.1', port: 0 }],
    tls: core.tls,
    services: [createDavService(core), createWellKnownService()],
    maxConnections: 1000,
    maxConnectionsPerAddress: 1000,
    idleTimeoutMs: 60_000,
    log,
  });
  const [endpoint] = await http.start();
  const port = endpoint?.port ?? 0;
  const make = async (local: string) => {
    const address = `${local}@example.test`;
    const password = `${local}-secret-pw`;
    const p = await core.directory.createPrincipal({
      address,
      password,
      displayName: local[0]?.toUpperCase() + local.slice(1),
    });
    return { id: p.id, address, password };
  };
  const alice = await make('alice');
  const bob = await make('bob');
  const auth = (u: { address: string; password: string }): string =>
    `Basic ${Buffer.from(`${u.address}:${u.password}`).toString('base64')}`;
  const base = `http://127.0.0.1:${port}`;
  return {
    core,
    base,
    port,
    alice,
    bob,
    auth,
    request(method, path, opts = {}) {
      const who = opts.as === undefined ? alice : opts.as;
      const headers: Record<string, string> = { ...opts.headers };
      if (who) headers.authorization = auth(who);
      return fetch(`${base}${path}`, {
        method,
        headers,
        ...(opts.body !== undefined ? { body: opts.body } : {}),
        redirect: 'manual',
      });
    },
    async close() {
      await http.stop(Date.now() + 1000);
      await core.storage.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
