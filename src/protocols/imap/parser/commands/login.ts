/**
 * LOGIN (RFC 9051 §6.2.3):
 *   login = "LOGIN" SP userid SP password
 *   userid = astring; password = astring
 */

import type { ArgReader } from '../args.ts';

export interface LoginCommand {
  readonly name: 'LOGIN';
  readonly userid: string;
  readonly password: string;
}

export function parseLogin(r: ArgReader): LoginCommand {
  r.sp();
  const userid = r.astringText();
  r.sp();
  const password = r.astringText();
  r.end();
  return { name: 'LOGIN', userid, password };
}
