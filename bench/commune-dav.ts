/**
 * Commune's DAV service alone for the DAV benches (files, CalDAV/CardDAV): the level store in
 * `dir`, one user, plain HTTP on a loopback port. (No default export: bench/run.ts skips it.)
 */

import { join } from 'node:path';
import { loadConfig } from '../src/core/config.ts';
import { silentLogger } from '../src/core/log.ts';
import { buildCore } from '../src/main.ts';
import { createDavService } from '../src/protocols/dav/dav-service.ts';
import { HttpServer } from '../src/protocols/http/http-server.ts';

export interface CommuneDav {
  /** `http://127.0.0.1:<port>/dav` */
  readonly davBase: string;
  stop(): Promise<void>;
}

export async function startCommuneDav(
  dir: string,
  user: string,
  password: string,
): Promise<CommuneDav> {
  const config = loadConfig({
    env: {
      COMMUNE_DATA_DIR: join(dir, 'commune'),
      COMMUNE_LOG_LEVEL: 'silent',
      COMMUNE_STORE_BACKEND: 'level',
    },
  });
  const log = silentLogger();
  const core = await buildCore(config, log);
  await core.directory.createPrincipal({ address: user, password });
  const http = new HttpServer({
    listeners: [{ name: 'http', host: '127.0.0.1', port: 0 }],
    services: [createDavService(core)],
    maxConnections: 1000,
    maxConnectionsPerAddress: 1000,
    idleTimeoutMs: 120_000,
    log,
  });
  const [endpoint] = await http.start();
  return {
    davBase: `http://127.0.0.1:${endpoint?.port ?? 0}/dav`,
    stop: async () => {
      await http.stop(Date.now() + 2000);
      await core.storage.close();
    },
  };
}
