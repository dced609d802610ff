/**
 * STATUS (RFC 9051 §6.3.11) with STATUS=SIZE (RFC 8438), CONDSTORE HIGHESTMODSEQ
 * (RFC 7162 §3.1.9), APPENDLIMIT (RFC 7889) and OBJECTID MAILBOXID (RFC 8474):
 *   status     = "STATUS" SP mailbox SP "(" status-att *(SP status-att) ")"
 *   status-att = "MESSAGES" / "UIDNEXT" / "UIDVALIDITY" / "UNSEEN" / "DELETED" / "SIZE" /
 *                "RECENT" / "HIGHESTMODSEQ" / "APPENDLIMIT" / "MAILBOXID"
 */

import { syntaxError } from '../args.ts';
import type { ArgReader } from '../args.ts';

export const STATUS_ITEMS = [
  'MESSAGES',
  'RECENT',
  'UIDNEXT',
  'UIDVALIDITY',
  'UNSEEN',
  'DELETED',
  'SIZE',
  'HIGHESTMODSEQ',
  'APPENDLIMIT',
  'MAILBOXID',
] as const;

export type StatusItem = (typeof STATUS_ITEMS)[number];

export interface StatusCommand {
  readonly name: 'STATUS';
  readonly mailbox: string;
  /** Requested items, in order, without duplicates. */
  readonly items: readonly StatusItem[];
}

/** Parse `"(" status-att *(SP status-att) ")"` (also used by LIST RETURN (STATUS ...)). */
export function parseStatusItems(r: ArgReader): StatusItem[] {
  const items: StatusItem[] = [];
  for (const word of r.list(() => r.keyword(), false)) {
    const item = STATUS_ITEMS.find((i) => i === word);
    if (item === undefined) syntaxError('Unknown STATUS item');
    if (!items.includes(item)) items.push(item);
  }
  return items;
}

export function parseStatus(r: ArgReader): StatusCommand {
  r.sp();
  const mailbox = r.mailbox();
  r.sp();
  const items = parseStatusItems(r);
  r.end();
  return { name: 'STATUS', mailbox, items };
}
