/**
 * ENABLE (RFC 5161, RFC 9051 §6.3.1):
 *   enable = "ENABLE" 1*(SP capability)
 */

import type { ArgReader } from '../args.ts';

export interface EnableCommand {
  readonly name: 'ENABLE';
  /** Requested capabilities, upper-cased, in order. */
  readonly capabilities: readonly string[];
}

export function parseEnable(r: ArgReader): EnableCommand {
  const capabilities: string[] = [];
  r.sp();
  do capabilities.push(r.keyword());
  while (r.trySp());
  r.end();
  return { name: 'ENABLE', capabilities };
}
