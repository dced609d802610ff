/**
 * Builders of the store operations the mail service commits: stamped index entries and
 * HIGHESTMODSEQ, mailbox counters, tombstones, and the change entries that go with them.
 */

import type { ChangeEntry, ChangeKind, Op, PutOp } from '../store.ts';
import { encodeJson } from '../keys.ts';
import { MAILBOX_COUNTERS, mailKeys, messageUidOffset, tombstoneStampOffset } from './mail-keys.ts';
import type { MailboxCounter } from './mail-keys.ts';
import { encodeEntry, modseqPlaceholder } from './message-entry.ts';
import { DELETED, SEEN, hasFlag, keywordsOf } from './message-flags.ts';
import type { MailboxRecord, MessageSummary } from './mail-types.ts';

/** What a transaction commits, and its result once the commit's modseq is known. */
export interface Plan<T> {
  readonly ops: Op[];
  readonly changes: ChangeEntry[];
  /** `counters`: the new values of the plan's incr ops, in order (none without a commit). */
  readonly result: (modseq: bigint | null, counters: readonly bigint[]) => T;
}

export function noChange<T>(value: T): Plan<T> {
  return { ops: [], changes: [], result: () => value };
}

/** The change-log collection of a mailbox. */
export function mailboxCollection(mailboxId: number): string {
  return `mailbox:${mailboxId}`;
}

export function messageChange(
  account: number,
  mailboxId: number,
  uid: number,
  kind: ChangeKind,
  step?: number,
): ChangeEntry {
  const entry = { account, collection: mailboxCollection(mailboxId), id: String(uid), kind };
  return step === undefined ? entry : { ...entry, step };
}

export function mailboxChange(account: number, mailboxId: number, kind: ChangeKind): ChangeEntry {
  return { account, collection: mailboxCollection(mailboxId), id: 'mailbox', kind };
}

export function putMailbox(account: number, record: MailboxRecord): PutOp {
  return { type: 'put', key: mailKeys.mailbox(account, record.id), value: encodeJson(record) };
}

/**
 * The index entry of a message whose UID the commit allocates: the value the batch's incr of
 * the mailbox's last UID leaves, plus `add` (<= 0), stamped into the key; modseq as putEntry.
 */
export function putAllocatedEntry(
  account: number,
  mailboxId: number,
  add: bigint,
  summary: Omit<MessageSummary, 'uid' | 'modseq'>,
): PutOp {
  return {
    type: 'put',
    key: mailKeys.message(account, mailboxId, 0),
    value: encodeEntry(summary),
    stamp: { account, valueOffset: 0 },
    counterStamp: {
      key: mailKeys.lastUid(account, mailboxId),
      add,
      keyOffset: messageUidOffset(account, mailboxId),
    },
  };
}

/** The "created" change entry of a message whose UID the commit allocates (see above). */
export function allocatedMessageChange(
  account: number,
  mailboxId: number,
  add: bigint,
): ChangeEntry {
  return {
    account,
    collection: mailboxCollection(mailboxId),
    id: '',
    kind: 'created',
    idCounter: { key: mailKeys.lastUid(account, mailboxId), add },
  };
}

/** The index entry of `uid`, its modseq stamped by the commit. */
export function putEntry(
  account: number,
  mailboxId: number,
  uid: number,
  summary: Omit<MessageSummary, 'uid' | 'modseq'>,
  step?: number,
): PutOp {
  return {
    type: 'put',
    key: mailKeys.message(account, mailboxId, uid),
    value: encodeEntry(summary),
    stamp: step === undefined ? { account, valueOffset: 0 } : { account, step, valueOffset: 0 },
  };
}

/** HIGHESTMODSEQ of the mailbox = this commit's modseq. */
export function putHighestModseq(account: number, mailboxId: number, step?: number): PutOp {
  return {
    type: 'put',
    key: mailKeys.highestModseq(account, mailboxId),
    value: modseqPlaceholder(),
    stamp: step === undefined ? { account, valueOffset: 0 } : { account, step, valueOffset: 0 },
  };
}

/** A tombstone of `uids`, keyed by this commit's modseq (QRESYNC VANISHED). */
export function putTombstone(account: number, mailboxId: number, uids: readonly number[]): PutOp {
  return {
    type: 'put',
    key: mailKeys.tombstone(account, mailboxId, 0n),
    value: encodeJson(uids),
    stamp: { account, keyOffset: tombstoneStampOffset(account, mailboxId) },
  };
}

export type CounterDelta = Record<MailboxCounter, number>;

export function emptyDelta(): CounterDelta {
  return { messages: 0, unseen: 0, deleted: 0, size: 0 };
}

/** Add (sign 1) or remove (sign -1) one message's contribution to the counters. */
export function countMessage(
  delta: CounterDelta,
  flags: readonly string[],
  size: number,
  sign: 1 | -1,
): void {
  delta.messages += sign;
  delta.size += sign * size;
  if (!hasFlag(flags, SEEN)) delta.unseen += sign;
  if (hasFlag(flags, DELETED)) delta.deleted += sign;
}

export function counterOps(account: number, mailboxId: number, delta: CounterDelta): Op[] {
  return MAILBOX_COUNTERS.filter((what) => delta[what] !== 0).map((what) => ({
    type: 'incr',
    key: mailKeys.counter(account, mailboxId, what),
    delta: BigInt(delta[what]),
  }));
}

/** Remember the keywords of `flags` as used in the mailbox. */
export function keywordOps(account: number, mailboxId: number, flags: readonly string[]): Op[] {
  return keywordsOf(flags).map((kw) => ({
    type: 'put',
    key: mailKeys.keyword(account, mailboxId, kw),
    value: new Uint8Array(0),
  }));
}
