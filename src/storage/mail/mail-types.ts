/**
 * Public types of the mail domain service (mail-service.ts): mailboxes, their status,
 * message summaries and records, and the results of mutations. Modseqs are the account's
 * change ids (bigint); uids and uidValidity are 32-bit IMAP numbers.
 */

import type { BodyStructure } from '../../protocols/imap/compose/body-structure.ts';
import type { Envelope } from '../../protocols/imap/compose/envelope.ts';
import type { MimePart } from './mime/mime-part.ts';

/**
 * Mailbox roles: RFC 6154 special-use attributes (\Drafts, \Sent, ...) plus `inbox`, which
 * IMAP shows by name (and JMAP as role "inbox").
 */
export type MailboxRole =
  'inbox' | 'drafts' | 'sent' | 'junk' | 'trash' | 'archive' | 'all' | 'flagged';

export const MAILBOX_ROLES: readonly MailboxRole[] = [
  'inbox',
  'drafts',
  'sent',
  'junk',
  'trash',
  'archive',
  'all',
  'flagged',
];

/** The RFC 6154 attribute of a role (`\Sent`), or null for inbox. */
export function specialUseOf(role: MailboxRole | null): string | null {
  if (role === null || role === 'inbox') return null;
  return `\\${role[0]?.toUpperCase()}${role.slice(1)}`;
}

/** The role of an RFC 6154 attribute (case-insensitive), or undefined. */
export function roleOfSpecialUse(attribute: string): MailboxRole | undefined {
  const name = attribute.replace(/^\\/, '').toLowerCase();
  return MAILBOX_ROLES.find((r) => r === name && r !== 'inbox');
}

/** A mailbox as stored. */
export interface MailboxRecord {
  /** Stable id (OBJECTID MAILBOXID is `M<id>`, RFC 8474 §4). */
  readonly id: number;
  /** Full name, '/' separated; "INBOX" for the inbox. */
  readonly name: string;
  readonly role: MailboxRole | null;
  /** UIDVALIDITY (RFC 9051 §2.3.1.1): new for every incarnation of a name. */
  readonly uidValidity: number;
  /** A \Noselect placeholder: a deleted mailbox kept because it has children. */
  readonly noselect: boolean;
  readonly createdAt: string;
}

export interface MailboxStatus {
  readonly messages: number;
  readonly unseen: number;
  readonly deleted: number;
  /** Sum of RFC822.SIZE (STATUS=SIZE, RFC 8438). */
  readonly size: number;
  /** Always 0: \Recent is gone in IMAP4rev2. */
  readonly recent: 0;
  readonly uidNext: number;
  readonly uidValidity: number;
  /** HIGHESTMODSEQ (RFC 7162 §3.1.2.1). */
  readonly highestModseq: bigint;
}

export interface MailboxInfo extends MailboxRecord {
  readonly objectId: string;
  readonly subscribed: boolean;
  readonly hasChildren: boolean;
  readonly status: MailboxStatus;
}

/** The compact per-message index entry a session keeps for its selected mailbox. */
export interface MessageSummary {
  readonly uid: number;
  readonly modseq: bigint;
  /** System flags (\Seen ...) and keywords, as stored. */
  readonly flags: readonly string[];
  /** RFC822.SIZE. */
  readonly size: number;
  /** INTERNALDATE, UTC milliseconds. */
  readonly internalDate: number;
  /** The zone INTERNALDATE was given in, minutes east of UTC. */
  readonly zone: number;
  /** EMAILID (RFC 8474 §5.1): the same for every copy of the message. */
  readonly emailId: string;
  /** THREADID (RFC 8474 §5.2). */
  readonly threadId: string;
}

/** Decoded header text kept for SEARCH (encoded words decoded, fields joined). */
export interface HeaderDigest {
  readonly from: string;
  readonly to: string;
  readonly cc: string;
  readonly bcc: string;
  readonly subject: string;
  /** Calendar date of the Date header as written (YYYY-MM-DD), null when absent/invalid. */
  readonly sentDate: string | null;
}

/** Everything indexed once at append, shared by every copy of the message. */
export interface EmailRecord {
  readonly emailId: string;
  readonly threadId: string;
  /** SHA-256 of the stored message bytes. */
  readonly blob: string;
  readonly size: number;
  readonly envelope: Envelope;
  readonly body: BodyStructure;
  readonly parts: MimePart;
  readonly digest: HeaderDigest;
}

export type MessageRecord = MessageSummary & EmailRecord;

export interface AppendOptions {
  /** System flags and keywords (\Recent is ignored). */
  readonly flags?: readonly string[];
  /** More keywords (merged with flags). */
  readonly keywords?: readonly string[];
  /** INTERNALDATE; default now. */
  readonly internalDate?: Date;
  /** Zone of internalDate in minutes east of UTC (default 0). */
  readonly zone?: number;
}

export interface AppendResult {
  readonly uid: number;
  readonly uidValidity: number;
  readonly modseq: bigint;
  readonly emailId: string;
  readonly threadId: string;
  readonly size: number;
  readonly mailboxId: number;
}

export type StoreOperation = 'add' | 'remove' | 'replace';

export interface StoreResult {
  /** The commit's modseq, null when nothing changed. */
  readonly modseq: bigint | null;
  /** Messages whose flags changed, with their new flags and modseq. */
  readonly changed: readonly MessageSummary[];
  /** Messages of the set whose flags already were as asked. */
  readonly unchanged: readonly MessageSummary[];
  /** UIDs refused by UNCHANGEDSINCE (RFC 7162 §3.1.3 MODIFIED). */
  readonly modified: readonly number[];
}

export interface CopyResult {
  /** UIDVALIDITY of the destination (COPYUID, RFC 4315 §3). */
  readonly uidValidity: number;
  /** [source uid, destination uid] in ascending source order. */
  readonly mapping: readonly (readonly [number, number])[];
  readonly modseq: bigint | null;
}

export interface ExpungeResult {
  readonly expunged: readonly number[];
  readonly modseq: bigint | null;
}

export interface ChangesSinceResult {
  readonly highestModseq: bigint;
  /** Messages created or changed after the modseq, uid order. */
  readonly changed: readonly MessageSummary[];
  /** UIDs expunged after the modseq, ascending (QRESYNC VANISHED, RFC 7162 §3.2.10). */
  readonly vanished: readonly number[];
}

export interface QuotaUsage {
  /** Bytes used by every message of the account (each copy counts). */
  readonly storage: number;
  readonly messages: number;
  /** Bytes; 0 = unlimited. */
  readonly limit: number;
}

export interface SearchOptions {
  /**
   * The session's view: UIDs in sequence-number order (seq n is view[n-1]). Only these
   * messages are searched and SEQUENCE keys use it. Default: every message of the mailbox.
   */
  readonly view?: readonly number[];
  /** Clock for OLDER / YOUNGER; default the service clock. */
  readonly now?: Date;
}

export interface SearchResult {
  /** Matching UIDs, ascending. */
  readonly uids: readonly number[];
  /** Highest modseq of the matches (RFC 7162 §3.1.5), null when none. */
  readonly highestModseq: bigint | null;
}
