/**
 * The admin API: POST /admin/api/<command> with a JSON body of arguments runs one of the
 * admin commands (src/storage/directory/admin-commands.ts) and answers { result }. Protected by
 * a bearer token and, unless admin.allowRemote, served to loopback clients only. The CLI uses
 * it while a server runs.
 */

import { timingSafeEqual, createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { CommuneError } from '../../core/errors.ts';
import type { HttpService } from '../../core/lifecycle.ts';
import type { AdminServices } from '../../storage/admin/admin-command.ts';
import { adminCommands, runAdminCommand } from '../../storage/admin/admin-registry.ts';
import { readBody, sendJson } from './http-server.ts';

export const ADMIN_PREFIX = '/admin/api/';

export function isLoopback(address: string): boolean {
  if (address === '::1') return true;
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return isIP(v4) === 4 && v4.startsWith('127.');
}

function sameSecret(a: string, b: string): boolean {
  // Compare digests so neither length nor content leaks through timing.
  const da = createHash('sha256').update(a).digest();
  const db = createHash('sha256').update(b).digest();
  return timingSafeEqual(da, db);
}

export function adminApiService(options: {
  services: AdminServices;
  token: string;
  allowRemote: boolean;
}): HttpService {
  return {
    name: 'admin',
    prefixes: [ADMIN_PREFIX, '/admin/api'],
    async handle(req, res, ctx) {
      if (!options.allowRemote && !isLoopback(ctx.remoteAddress)) {
        throw new CommuneError('forbidden', 'the admin API is served to loopback clients only');
      }
      const auth = req.headers.authorization ?? '';
      const match = /^Bearer\s+(\S+)$/i.exec(auth);
      if (!match || !sameSecret(match[1] as string, options.token)) {
        sendJson(
          res,
          401,
          { error: 'admin token required' },
          { 'www-authenticate': 'Bearer realm="Commune admin"' },
        );
        return;
      }
      ctx.user = 'admin';
      const name = decodeURIComponent(ctx.url.pathname.slice(ADMIN_PREFIX.length)).replace(
        /\/$/,
        '',
      );
      if (name === '') {
        if (req.method !== 'GET')
          throw new CommuneError('invalid-argument', 'use GET to list commands');
        sendJson(res, 200, {
          commands: Object.entries(adminCommands).map(([n, c]) => ({
            name: n,
            summary: c.summary,
          })),
        });
        return;
      }
      if (req.method !== 'POST') {
        sendJson(res, 405, { error: 'method not allowed' }, { allow: 'POST' });
        return;
      }
      const body = await readBody(req, 64 * 1024);
      let args: unknown = {};
      if (body.length > 0) {
        try {
          args = JSON.parse(body.toString('utf8'));
        } catch {
          throw new CommuneError('invalid-argument', 'request body is not JSON');
        }
      }
      const result = await runAdminCommand(options.services, name, args);
      sendJson(res, 200, { result });
    },
  };
}
