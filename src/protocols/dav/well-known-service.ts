/**
 * Service discovery (RFC 6764 §5): `/.well-known/caldav` and `/.well-known/carddav` redirect
 * to the DAV context path, where clients PROPFIND DAV:current-user-principal.
 */

import type { HttpService } from '../../core/lifecycle.ts';
import { DAV_ROOT } from './trees/root-tree.ts';

export const WELL_KNOWN_PATHS = ['/.well-known/caldav', '/.well-known/carddav'] as const;

export function createWellKnownService(): HttpService {
  return {
    name: 'dav-well-known',
    prefixes: WELL_KNOWN_PATHS,
    async handle(_req, res, ctx) {
      const path = ctx.url.pathname.replace(/\/$/, '');
      if (!(WELL_KNOWN_PATHS as readonly string[]).includes(path)) {
        res.writeHead(404, { 'content-length': 0 });
        res.end();
        return;
      }
      res.writeHead(301, { location: DAV_ROOT, 'content-length': 0, 'cache-control': 'no-store' });
      res.end();
    },
  };
}
