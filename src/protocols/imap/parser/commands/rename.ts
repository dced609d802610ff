/**
 * RENAME (RFC 9051 §6.3.6):
 *   rename = "RENAME" SP mailbox SP mailbox
 */

import type { ArgReader } from '../args.ts';

export interface RenameCommand {
  readonly name: 'RENAME';
  readonly from: string;
  readonly to: string;
}

export function parseRename(r: ArgReader): RenameCommand {
  r.sp();
  const from = r.mailbox();
  r.sp();
  const to = r.mailbox();
  r.end();
  return { name: 'RENAME', from, to };
}
