/**
 * CREATE (RFC 9051 §6.3.4) with CREATE-SPECIAL-USE (RFC 6154 §3):
 *   create       = "CREATE" SP mailbox [create-params]
 *   create-params = SP "(" create-param *(SP create-param) ")"
 *   create-param = "USE" SP "(" [use-attr *(SP use-attr)] ")"
 */

import { syntaxError } from '../args.ts';
import type { ArgReader } from '../args.ts';

export interface CreateCommand {
  readonly name: 'CREATE';
  readonly mailbox: string;
  /** Requested special-use attributes (\Sent, \Drafts, ...), known ones in canonical case. */
  readonly specialUse: readonly string[];
}

/** Special-use attributes of RFC 6154 §2 (and \Important, RFC 8457). */
export const SPECIAL_USE_ATTRIBUTES = [
  '\\All',
  '\\Archive',
  '\\Drafts',
  '\\Flagged',
  '\\Junk',
  '\\Sent',
  '\\Trash',
  '\\Important',
] as const;

export function canonicalSpecialUse(attr: string): string {
  return SPECIAL_USE_ATTRIBUTES.find((a) => a.toLowerCase() === attr.toLowerCase()) ?? attr;
}

export function parseCreate(r: ArgReader): CreateCommand {
  r.sp();
  const mailbox = r.mailbox();
  const specialUse: string[] = [];
  if (r.trySp()) {
    r.list(() => {
      if (r.keyword() !== 'USE') syntaxError('Unknown CREATE parameter');
      r.sp();
      for (const attr of r.list(() => {
        r.expectByte(0x5c, 'special-use attribute');
        return '\\' + r.atom();
      })) {
        specialUse.push(canonicalSpecialUse(attr));
      }
    }, false);
  }
  r.end();
  return { name: 'CREATE', mailbox, specialUse };
}
