/**
 * The DAV request pipeline: decode and check the path, authenticate, pick the method from the
 * registry (501 when unknown, 405 with Allow when not offered on the target), run it, and
 * render every failure in one place: DavError with its status and DAV:error body, other
 * CommuneErrors by code, anything else as a logged 500 that reveals nothing.
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import { davPrincipalPath } from '../../core/principal-names.ts';
import { httpStatusOf, isCommuneError } from '../../core/errors.ts';
import type { HttpRequestContext } from '../../core/lifecycle.ts';
import type { HttpAuthenticator } from '../http/http-auth.ts';
import { DavError } from './dav-error.ts';
import type { DavContext } from './dav-node.ts';
import { decodePath } from './dav-path.ts';
import { DavRequest, errorBody, type DavSettings } from './dav-request.ts';
import { allowedMethods } from './methods/allowed-methods.ts';

export interface DavServerOptions extends DavSettings {
  readonly authenticator: HttpAuthenticator;
}

export class DavServer {
  readonly #options: DavServerOptions;

  constructor(options: DavServerOptions) {
    this.#options = options;
  }

  async handle(req: IncomingMessage, res: ServerResponse, http: HttpRequestContext): Promise<void> {
    try {
      // 1. Path and caller
      const path = decodePath(req.url ?? '/');
      const access = await this.#options.authenticator.authenticate(req, http);
      http.user = access.address;
      const ctx: DavContext = {
        access,
        principalPath: davPrincipalPath({ kind: access.kind, address: access.address }),
        memo: new Map(),
      };
      const dr = new DavRequest(req, res, this.#options, ctx, path);

      // 2. Method and target
      const method = this.#options.registry.method(dr.method);
      if (!method) throw new DavError(501, `method ${dr.method} is not implemented`);
      if (!this.#options.registry.tree(path)) throw DavError.notFound();
      const node = await dr.node();
      if (!method.allowed(node)) {
        if (!node && dr.method !== 'MKCOL' && dr.method !== 'PUT') throw DavError.notFound();
        throw DavError.methodNotAllowed(
          `${dr.method} is not allowed here`,
          allowedMethods(dr, node),
        );
      }
      await method.run(dr);
    } catch (err) {
      this.#fail(req, res, err);
    }
  }

  #fail(req: IncomingMessage, res: ServerResponse, err: unknown): void {
    if (res.headersSent) {
      if (!isCommuneError(err))
        this.#options.log.error({ protocol: 'dav', err }, 'response failed midway');
      res.destroy();
      return;
    }
    let status: number;
    const headers: Record<string, string | number> = {};
    let body: string | undefined;
    let type = 'text/plain; charset=utf-8';
    if (err instanceof DavError) {
      status = err.status;
      Object.assign(headers, err.headers);
      const xml = err.body ?? errorBody(err);
      if (xml !== undefined) {
        body = xml;
        type = 'application/xml; charset=utf-8';
      } else {
        body = `${err.message}\n`;
      }
    } else if (isCommuneError(err)) {
      status = httpStatusOf(err.code);
      body = `${err.message}\n`;
      if (err.code === 'auth-failed')
        headers['www-authenticate'] = this.#options.authenticator.challenge();
      if (err.retryAfter !== undefined) headers['retry-after'] = String(Math.ceil(err.retryAfter));
    } else {
      this.#options.log.error(
        { protocol: 'dav', method: req.method, url: req.url, err },
        'DAV request failed',
      );
      status = 500;
      body = 'internal error\n';
    }
    // A body we did not read (e.g. a refused upload) is not drained: close after answering
    if (!req.complete) headers.connection = 'close';
    const payload = Buffer.from(body, 'utf8');
    res.writeHead(status, { 'content-type': type, 'content-length': payload.length, ...headers });
    res.end(payload);
  }
}
