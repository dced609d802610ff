/**
 * The one HTTP(S) listener. Every HTTP-hosted protocol (health, admin API, and later DAV,
 * social, collaboration, autoconfig) is an HttpService mounted under path prefixes; the
 * longest matching prefix wins. One access-log line per request.
 */

import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import { CommuneError, httpStatusOf, isCommuneError } from '../../core/errors.ts';
import type {
  Endpoint,
  HttpRequestContext,
  HttpService,
  ProtocolServer,
} from '../../core/lifecycle.ts';
import type { Logger } from '../../core/log.ts';
import type { TlsKeyPair } from '../shared/tcp-listener.ts';

export interface HttpListenerSpec {
  readonly name: 'http' | 'https';
  readonly host: string;
  readonly port: number;
}

export interface HttpServerOptions {
  readonly listeners: readonly HttpListenerSpec[];
  readonly tls?: TlsKeyPair;
  readonly services: readonly HttpService[];
  readonly maxConnections: number;
  readonly maxConnectionsPerAddress: number;
  readonly idleTimeoutMs: number;
  readonly log: Logger;
}

/** Write a JSON response. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(text);
}

/** Read a request body up to `limit` bytes (413 beyond). */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? '0');
  if (declared > limit) throw new CommuneError('too-large', `request body over ${limit} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new CommuneError('too-large', `request body over ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export class HttpServer implements ProtocolServer {
  readonly name = 'http';
  readonly #options: HttpServerOptions;
  readonly #servers: { spec: HttpListenerSpec; server: Server }[] = [];
  readonly #perAddress = new Map<string, number>();
  readonly #routes: { prefix: string; service: HttpService }[];

  constructor(options: HttpServerOptions) {
    this.#options = options;
    this.#routes = options.services
      .flatMap((service) => service.prefixes.map((prefix) => ({ prefix, service })))
      .sort((a, b) => b.prefix.length - a.prefix.length);
  }

  #route(path: string): HttpService | undefined {
    for (const r of this.#routes) {
      if (path === r.prefix || path.startsWith(r.prefix) || `${path}/` === r.prefix)
        return r.service;
    }
    return undefined;
  }

  async #handle(req: IncomingMessage, res: ServerResponse, secure: boolean): Promise<void> {
    const started = performance.now();
    const remoteAddress = req.socket.remoteAddress ?? 'unknown';
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      sendJson(res, 400, { error: 'bad request target' });
      return;
    }
    const ctx: HttpRequestContext = { remoteAddress, secure, url };
    res.once('finish', () => {
      this.#options.log.info(
        {
          protocol: secure ? 'https' : 'http',
          remote: remoteAddress,
          method: req.method,
          path: url.pathname,
          status: res.statusCode,
          user: ctx.user,
          ms: Math.round(performance.now() - started),
        },
        'request',
      );
    });
    const service = this.#route(url.pathname);
    try {
      if (!service) {
        sendJson(res, 404, { error: 'not found' });
        return;
      }
      await service.handle(req, res, ctx);
    } catch (err) {
      if (isCommuneError(err)) {
        const headers: Record<string, string> = {};
        if (err.retryAfter !== undefined)
          headers['retry-after'] = String(Math.ceil(err.retryAfter));
        if (err.code === 'auth-failed')
          headers['www-authenticate'] = 'Basic realm="Commune", charset="UTF-8"';
        if (!res.headersSent)
          sendJson(res, httpStatusOf(err.code), { error: err.message }, headers);
        else res.destroy();
      } else {
        this.#options.log.error({ protocol: 'http', path: url.pathname, err }, 'request failed');
        if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
        else res.destroy();
      }
    }
  }

  #limitConnections(server: Server): void {
    server.maxConnections = this.#options.maxConnections;
    server.on('connection', (socket: Socket) => {
      const address = socket.remoteAddress ?? 'unknown';
      const n = (this.#perAddress.get(address) ?? 0) + 1;
      if (n > this.#options.maxConnectionsPerAddress) {
        socket.destroy();
        return;
      }
      this.#perAddress.set(address, n);
      socket.once('close', () => {
        const left = (this.#perAddress.get(address) ?? 1) - 1;
        if (left <= 0) this.#perAddress.delete(address);
        else this.#perAddress.set(address, left);
      });
    });
  }

  async start(): Promise<readonly Endpoint[]> {
    const endpoints: Endpoint[] = [];
    for (const spec of this.#options.listeners) {
      const secure = spec.name === 'https';
      const handler = (req: IncomingMessage, res: ServerResponse): void => {
        void this.#handle(req, res, secure);
      };
      let server: Server;
      if (secure) {
        if (!this.#options.tls) throw new CommuneError('config', 'https needs TLS material');
        server = createHttpsServer(
          { cert: this.#options.tls.cert, key: this.#options.tls.key, minVersion: 'TLSv1.2' },
          handler,
        );
      } else {
        server = createHttpServer(handler);
      }
      server.keepAliveTimeout = 5_000;
      server.headersTimeout = 30_000;
      server.requestTimeout = 0; // long uploads and downloads are streamed; idle is bounded below
      server.timeout = this.#options.idleTimeoutMs;
      server.maxHeadersCount = 200;
      this.#limitConnections(server);
      server.on('clientError', (_err, socket) => {
        if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
        else socket.destroy();
      });
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host: spec.host, port: spec.port }, () => {
          server.off('error', reject);
          resolve();
        });
      });
      this.#servers.push({ spec, server });
      const address = server.address();
      endpoints.push({
        protocol: spec.name,
        host: spec.host,
        port: typeof address === 'object' && address !== null ? address.port : spec.port,
        tls: secure ? 'implicit' : 'none',
      });
    }
    return endpoints;
  }

  async stop(deadline: number): Promise<void> {
    await Promise.all(this.#options.services.map((s) => s.stop?.(deadline)));
    await Promise.all(
      this.#servers.map(async ({ server }) => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        const timer = setTimeout(
          () => server.closeAllConnections(),
          Math.max(0, deadline - Date.now()),
        );
        await closed;
        clearTimeout(timer);
      }),
    );
  }
}
