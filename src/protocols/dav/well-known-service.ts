/**
 * Service discovery (RFC 6764 §5): `/.well-known/caldav` and `/.well-known/carddav` redirect
 * to the DAV context path, where clients PROPFIND DAV:current-user-principal. GET and HEAD get
 * a 301; other methods (PROPFIND) a 307, which keeps the method and the body (some HTTP
 * libraries drop the PROPFIND body on a 301); RFC 6764 §5 allows both.
 */

import type { HttpService } from '../../core/lifecycle.ts';
import { DAV_ROOT } from './trees/root-tree.ts';

export const WELL_KNOWN_PATHS = ['/.well-known/caldav', '/.well-known/carddav'] as const;

export function createWellKnownService(): HttpService {
  return {
    name: 'dav-well-known',
    prefixes: WELL_KNOWN_PATHS,
    async handle(req, res, ctx) {
      const path = ctx.url.pathname.replace(/\/$/, '');
      if (!(WELL_KNOWN_PATHS as readonly string[]).includes(path)) {
        res.writeHead(404, { 'content-length': 0 });
        res.end();
        return;
      }
      const status = req.method === 'GET' || req.method === 'HEAD' ? 301 : 307;
      res.writeHead(status, {
        location: DAV_ROOT,
        'content-length': 0,
        'cache-control': 'no-store',
      });
      res.end();
    },
  };
}
