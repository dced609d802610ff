/**
 * What SEARCH's header keys need of a message (FROM, TO, CC, BCC, SUBJECT, SENTBEFORE /
 * SENTON / SENTSINCE, RFC 9051 §6.4.4), taken from its EmailRecord's header digest and folded
 * once for matching. A caller that searches the same mailbox again and again (the IMAP
 * server, one cache per mailbox index) keeps these between searches, so such a search reads
 * nothing from the store. An EmailRecord never changes for an email id, so a digest cached by
 * email id never goes stale.
 */

import type { EmailRecord } from '../mail-types.ts';
import { dayNumber, foldText } from './search-primitives.ts';

export interface SearchDigest {
  /** The decoded header fields, folded (foldText). */
  readonly from: string;
  readonly to: string;
  readonly cc: string;
  readonly bcc: string;
  readonly subject: string;
  /** Calendar day of the Date header as written (dayNumber), null when absent or invalid. */
  readonly sentDay: number | null;
}

/** The header fields a string key can name. */
export type DigestField = 'from' | 'to' | 'cc' | 'bcc' | 'subject';

/** Digests kept by a caller between searches (a Map will do); filled by the searches. */
export interface SearchDigestCache {
  get(emailId: string): SearchDigest | undefined;
  set(emailId: string, digest: SearchDigest): void;
}

function sentDayOf(sentDate: string | null): number | null {
  if (sentDate === null) return null;
  const [y, m, d] = sentDate.split('-').map(Number);
  return dayNumber(y ?? 0, m ?? 0, d ?? 0);
}

export function searchDigestOf(email: EmailRecord): SearchDigest {
  const d = email.digest;
  return {
    from: foldText(d.from),
    to: foldText(d.to),
    cc: foldText(d.cc),
    bcc: foldText(d.bcc),
    subject: foldText(d.subject),
    sentDay: sentDayOf(d.sentDate),
  };
}
