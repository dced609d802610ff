/**
 * GET /health: 200 with JSON (version, uptime, store ok, listeners) once every listener is
 * accepting and the store answers; 503 with the same shape before that or when the store fails.
 */

import type { Endpoint, HttpService } from '../../core/lifecycle.ts';
import { sendJson } from './http-server.ts';

export interface HealthSource {
  readonly version: string;
  readonly startedAt: number;
  /** True once every listener accepts. */
  readonly isReady: () => boolean;
  readonly storeOk: () => Promise<boolean>;
  readonly endpoints: () => readonly Endpoint[];
}

export function healthService(source: HealthSource): HttpService {
  return {
    name: 'health',
    prefixes: ['/health'],
    async handle(req, res, ctx) {
      if (ctx.url.pathname !== '/health' && ctx.url.pathname !== '/health/') {
        sendJson(res, 404, { error: 'not found' });
        return;
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        sendJson(res, 405, { error: 'method not allowed' }, { allow: 'GET, HEAD' });
        return;
      }
      const ready = source.isReady();
      let storeOk: boolean;
      try {
        storeOk = await source.storeOk();
      } catch {
        storeOk = false;
      }
      const ok = ready && storeOk;
      sendJson(res, ok ? 200 : 503, {
        status: ok ? 'ok' : ready ? 'degraded' : 'starting',
        version: source.version,
        uptime: Math.round((Date.now() - source.startedAt) / 1000),
        store: { ok: storeOk },
        listeners: source
          .endpoints()
          .map((e) => ({ protocol: e.protocol, port: e.port, tls: e.tls })),
      });
    },
  };
}
