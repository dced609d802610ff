/**
 * Keys of the mail domain service under Subspace.mail (values are JSON unless noted):
 *
 *   ('mbox', account, mailboxId)           -> MailboxRecord
 *   ('name', account, name)                -> mailboxId (unique index; INBOX upper-case)
 *   ('role', account, role)                -> mailboxId (one mailbox per role)
 *   ('sub', account, name)                 -> '' (subscriptions, by name)
 *   ('uid', account, mailboxId)            -> int64, last UID given (UIDNEXT - 1)
 *   ('hms', account, mailboxId)            -> 8 bytes, HIGHESTMODSEQ (stamped)
 *   ('count', account, mailboxId, what)    -> int64: messages, unseen, deleted, size
 *   ('kw', account, mailboxId, keyword)    -> '' (keywords ever used)
 *   ('msg', account, mailboxId, uid)       -> 8 bytes modseq (stamped) + MessageEntry JSON
 *   ('gone', account, mailboxId, modseq)   -> uids expunged by that commit (key stamped)
 *   ('email', account, emailId)            -> EmailRecord (shared by every copy)
 *   ('eref', account, emailId)             -> int64, index entries pointing at the email
 *   ('bref', blobHash)                     -> int64, email records using the blob
 *   ('usage', account, 'bytes'|'messages') -> int64, quota usage
 *   ('thread', account, messageId)         -> threadId
 * and (Subspace.counter, 'mailbox') -> int64, the last mailbox id / UIDVALIDITY given.
 */

import { Subspace, pack, stampOffset } from '../keys.ts';
import type { MailboxRole } from './mail-types.ts';

export type MailboxCounter = 'messages' | 'unseen' | 'deleted' | 'size';
export const MAILBOX_COUNTERS: readonly MailboxCounter[] = [
  'messages',
  'unseen',
  'deleted',
  'size',
];

const M = Subspace.mail;

export const mailKeys = {
  mailbox: (a: number, id: number) => pack(M, 'mbox', a, id),
  mailboxes: (a: number) => pack(M, 'mbox', a),
  name: (a: number, name: string) => pack(M, 'name', a, name),
  role: (a: number, role: MailboxRole) => pack(M, 'role', a, role),
  subscription: (a: number, name: string) => pack(M, 'sub', a, name),
  subscriptions: (a: number) => pack(M, 'sub', a),
  lastUid: (a: number, mb: number) => pack(M, 'uid', a, mb),
  highestModseq: (a: number, mb: number) => pack(M, 'hms', a, mb),
  counter: (a: number, mb: number, what: MailboxCounter) => pack(M, 'count', a, mb, what),
  keyword: (a: number, mb: number, keyword: string) => pack(M, 'kw', a, mb, keyword),
  keywords: (a: number, mb: number) => pack(M, 'kw', a, mb),
  message: (a: number, mb: number, uid: number) => pack(M, 'msg', a, mb, uid),
  messages: (a: number, mb: number) => pack(M, 'msg', a, mb),
  tombstone: (a: number, mb: number, modseq: bigint) => pack(M, 'gone', a, mb, modseq),
  tombstones: (a: number, mb: number) => pack(M, 'gone', a, mb),
  email: (a: number, emailId: string) => pack(M, 'email', a, emailId),
  emailRefs: (a: number, emailId: string) => pack(M, 'eref', a, emailId),
  blobRefs: (hash: string) => pack(M, 'bref', hash),
  usage: (a: number, what: 'bytes' | 'messages') => pack(M, 'usage', a, what),
  thread: (a: number, messageId: string) => pack(M, 'thread', a, messageId),
  allocator: () => pack(Subspace.counter, 'mailbox'),
};

/** Where a tombstone key carries its commit's modseq (PutOp.stamp.keyOffset). */
export function tombstoneStampOffset(a: number, mb: number): number {
  return stampOffset(M, ['gone', a, mb, 0], 3);
}

/** Where a message index key carries its UID (PutOp.counterStamp.keyOffset). */
export function messageUidOffset(a: number, mb: number): number {
  return stampOffset(M, ['msg', a, mb, 0], 3);
}

/** The largest UID (RFC 9051 §2.3.1.1: a 32-bit unsigned number). */
export const MAX_UID = 0xffffffff;
