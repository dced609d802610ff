/**
 * Commands without arguments: CAPABILITY, NOOP, LOGOUT (RFC 9051 §6.1), STARTTLS (§6.2.1),
 * IDLE (RFC 2177, §6.3.13), CHECK (RFC 3501 §6.4.1), CLOSE, UNSELECT (RFC 3691, §6.4.2),
 * NAMESPACE (RFC 2342, §6.3.10).
 */

import type { ArgReader } from '../args.ts';

export const NO_ARGUMENT_COMMANDS = [
  'CAPABILITY',
  'NOOP',
  'LOGOUT',
  'STARTTLS',
  'IDLE',
  'CHECK',
  'CLOSE',
  'UNSELECT',
  'NAMESPACE',
] as const;

export type NoArgumentName = (typeof NO_ARGUMENT_COMMANDS)[number];

export interface NoArgumentCommand {
  readonly name: NoArgumentName;
}

export function parseNoArgument(r: ArgReader, name: NoArgumentName): NoArgumentCommand {
  r.end();
  return { name };
}
