/**
 * The commit of a batch of appends to one account (coalesced by MailService, see
 * coalescer.ts): every message whose bytes are stored gets the next UID of its mailbox, in
 * submission order, and the whole batch is one commit — one MODSEQ, one fsync (small
 * messages' bytes included, when the blob store stages them). A message that cannot go in
 * (mailbox gone or \Noselect, over quota, out of UIDs) is refused alone; the others commit.
 *
 * UIDs are allocated by the commit itself: one `incr` of the mailbox's last UID by the number
 * of messages, the entries' keys and change entries stamped from it (counter stamps, see
 * store.ts). Nothing the plan reads changes with other appends (only the mailbox record is
 * expected unchanged), so appends from several nodes to one mailbox never conflict. The
 * quota is checked against the usage read when planning, not re-checked at commit: appends
 * committed meanwhile by another node may take an account a little past its quota.
 */

import { CommuneError } from '../../core/errors.ts';
import type { ChangeEntry, Op, Store } from '../store.ts';
import { decodeCounter, encodeJson } from '../keys.ts';
import type { ThreadLinks } from './header-digest.ts';
import type { MailRepository } from './mail-repository.ts';
import {
  allocatedMessageChange,
  countMessage,
  counterOps,
  emptyDelta,
  keywordOps,
  putAllocatedEntry,
  putHighestModseq,
} from './mail-ops.ts';
import type { CounterDelta, Plan } from './mail-ops.ts';
import { MAX_UID, mailKeys } from './mail-keys.ts';
import type { AppendResult, EmailRecord, MailboxRecord } from './mail-types.ts';
import type { TxnReader } from './txn-reader.ts';

/** One message ready to be indexed: its blob is stored, its email record built. */
export interface PendingAppend {
  readonly mailboxId: number;
  readonly email: Omit<EmailRecord, 'threadId'>;
  readonly links: ThreadLinks;
  /** The blob's writes when it is staged into this commit (BlobStore.stage). */
  readonly blobOps: readonly Op[];
  readonly flags: readonly string[];
  readonly internalDate: number;
  readonly zone: number;
}

interface Placed {
  readonly mailboxId: number;
  /** Position among the batch's messages to this mailbox. */
  readonly index: number;
  readonly uidValidity: number;
  readonly emailId: string;
  readonly threadId: string;
  readonly size: number;
}

interface MailboxState {
  readonly record: MailboxRecord;
  /** Last UID when planning (for the MAX_UID bound only: the commit allocates). */
  readonly last: number;
  count: number;
  readonly delta: CounterDelta;
  /** Entry and change of each message, built once the count is known. */
  readonly entries: ((count: number) => { op: Op; change: ChangeEntry })[];
}

/** Plan the commit of `items` into `account` (run inside MailRepository.transact). */
export async function appendBatchPlan(
  repo: MailRepository,
  r: TxnReader,
  store: Store,
  account: number,
  items: readonly PendingAppend[],
): Promise<Plan<(AppendResult | Error)[]>> {
  const limit = await repo.quotaLimit(account);
  let used =
    limit > 0 ? Number(decodeCounter(await store.get(mailKeys.usage(account, 'bytes')))) : 0;
  const mailboxes = new Map<number, MailboxState | Error>();
  const threads = new Map<string, string>();
  const ops: Op[] = [];
  const placed: (Placed | Error)[] = [];
  let bytes = 0;
  let messages = 0;
  for (const item of items) {
    let state = mailboxes.get(item.mailboxId);
    if (state === undefined) {
      state = await mailboxState(repo, r, store, account, item.mailboxId);
      mailboxes.set(item.mailboxId, state);
    }
    if (state instanceof Error) {
      placed.push(state);
      continue;
    }
    if (state.last + state.count >= MAX_UID) {
      placed.push(new CommuneError('conflict', 'mailbox has run out of UIDs'));
      continue;
    }
    const size = item.email.size;
    if (limit > 0 && used + size > limit) {
      placed.push(new CommuneError('over-quota', 'mailbox quota exceeded'));
      continue;
    }
    used += size;
    bytes += size;
    messages += 1;
    const { threadId, threadOps } = await repo.thread(account, item.links, threads);
    const email: EmailRecord = { ...item.email, threadId };
    const { emailId } = email;
    const index = state.count++;
    countMessage(state.delta, item.flags, size, 1);
    const summary = {
      flags: item.flags,
      size,
      internalDate: item.internalDate,
      zone: item.zone,
      emailId,
      threadId,
    };
    // The i-th of n messages gets last + i + 1 = (last + n) + (i - n + 1).
    state.entries.push((n) => ({
      op: putAllocatedEntry(account, item.mailboxId, BigInt(index - n + 1), summary),
      change: allocatedMessageChange(account, item.mailboxId, BigInt(index - n + 1)),
    }));
    ops.push(
      { type: 'put', key: mailKeys.email(account, emailId), value: encodeJson(email) },
      { type: 'incr', key: mailKeys.emailRefs(account, emailId), delta: 1n },
      { type: 'incr', key: mailKeys.blobRefs(email.blob), delta: 1n },
      ...keywordOps(account, item.mailboxId, item.flags),
      ...threadOps,
      ...item.blobOps,
    );
    placed.push({
      mailboxId: item.mailboxId,
      index,
      uidValidity: state.record.uidValidity,
      emailId,
      threadId,
      size,
    });
  }
  // The UID allocations come first, so their new values are counters[0..] in this order.
  const allocations: number[] = [];
  const allocationOps: Op[] = [];
  const changes: ChangeEntry[] = [];
  for (const [mailboxId, state] of mailboxes) {
    if (state instanceof Error || state.count === 0) continue;
    allocations.push(mailboxId);
    allocationOps.push({
      type: 'incr',
      key: mailKeys.lastUid(account, mailboxId),
      delta: BigInt(state.count),
    });
    for (const entry of state.entries) {
      const { op, change } = entry(state.count);
      ops.push(op);
      changes.push(change);
    }
    ops.push(putHighestModseq(account, mailboxId), ...counterOps(account, mailboxId, state.delta));
  }
  if (messages > 0) {
    ops.push(
      { type: 'incr', key: mailKeys.usage(account, 'bytes'), delta: BigInt(bytes) },
      { type: 'incr', key: mailKeys.usage(account, 'messages'), delta: BigInt(messages) },
    );
  }
  return {
    ops: [...allocationOps, ...ops],
    changes,
    result: (modseq, counters) =>
      placed.map((p) => {
        if (p instanceof Error) return p;
        const state = mailboxes.get(p.mailboxId) as MailboxState;
        const last = Number(counters[allocations.indexOf(p.mailboxId)]);
        const { index, ...rest } = p;
        return { ...rest, uid: last - state.count + 1 + index, modseq: modseq ?? 0n };
      }),
  };
}

async function mailboxState(
  repo: MailRepository,
  r: TxnReader,
  store: Store,
  account: number,
  mailboxId: number,
): Promise<MailboxState | Error> {
  const record = await repo.record(account, mailboxId, r);
  if (record === undefined) return new CommuneError('not-found', 'no such mailbox');
  if (record.noselect) return new CommuneError('invalid-argument', 'mailbox is not selectable');
  const last = Number(decodeCounter(await store.get(mailKeys.lastUid(account, mailboxId))));
  return { record, last, count: 0, delta: emptyDelta(), entries: [] };
}
