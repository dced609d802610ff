/**
 * The commit of a batch of appends to one account (coalesced by MailService, see
 * coalescer.ts): every message whose bytes are already in the blob store gets the next UID of
 * its mailbox, in submission order, and the whole batch is one commit — one MODSEQ, one
 * fsync (small messages' bytes included, when the blob store stages them). A message that cannot go in (mailbox gone or \Noselect, over quota, out of UIDs) is
 * refused alone; the others still commit.
 */

import { CommuneError } from '../../core/errors.ts';
import type { ChangeEntry, Op } from '../store.ts';
import { decodeCounter, encodeCounter, encodeJson } from '../keys.ts';
import type { ThreadLinks } from './header-digest.ts';
import type { MailRepository } from './mail-repository.ts';
import {
  countMessage,
  counterOps,
  emptyDelta,
  keywordOps,
  messageChange,
  putEntry,
  putHighestModseq,
} from './mail-ops.ts';
import type { CounterDelta, Plan } from './mail-ops.ts';
import { mailKeys } from './mail-keys.ts';
import type { AppendResult, EmailRecord, MailboxRecord } from './mail-types.ts';
import type { TxnReader } from './txn-reader.ts';

export const MAX_UID = 0xffffffff;

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

type Placed = Omit<AppendResult, 'modseq'>;

interface MailboxState {
  readonly record: MailboxRecord;
  readonly first: number;
  last: number;
  readonly delta: CounterDelta;
}

/** Plan the commit of `items` into `account` (run inside MailRepository.transact). */
export async function appendBatchPlan(
  repo: MailRepository,
  r: TxnReader,
  account: number,
  items: readonly PendingAppend[],
): Promise<Plan<(AppendResult | Error)[]>> {
  const limit = await repo.quotaLimit(account);
  let used = limit > 0 ? Number(decodeCounter(await r.get(mailKeys.usage(account, 'bytes')))) : 0;
  const mailboxes = new Map<number, MailboxState | Error>();
  const threads = new Map<string, string>();
  const ops: Op[] = [];
  const changes: ChangeEntry[] = [];
  const placed: (Placed | Error)[] = [];
  let bytes = 0;
  let messages = 0;
  for (const item of items) {
    let state = mailboxes.get(item.mailboxId);
    if (state === undefined) {
      state = await mailboxState(repo, r, account, item.mailboxId);
      mailboxes.set(item.mailboxId, state);
    }
    if (state instanceof Error) {
      placed.push(state);
      continue;
    }
    if (state.last >= MAX_UID) {
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
    const uid = ++state.last;
    const { emailId } = email;
    countMessage(state.delta, item.flags, size, 1);
    ops.push(
      { type: 'put', key: mailKeys.email(account, emailId), value: encodeJson(email) },
      { type: 'incr', key: mailKeys.emailRefs(account, emailId), delta: 1n },
      { type: 'incr', key: mailKeys.blobRefs(email.blob), delta: 1n },
      putEntry(account, item.mailboxId, uid, {
        flags: item.flags,
        size,
        internalDate: item.internalDate,
        zone: item.zone,
        emailId,
        threadId,
      }),
      ...keywordOps(account, item.mailboxId, item.flags),
      ...threadOps,
      ...item.blobOps,
    );
    changes.push(messageChange(account, item.mailboxId, uid, 'created'));
    placed.push({
      uid,
      uidValidity: state.record.uidValidity,
      emailId,
      threadId,
      size,
      mailboxId: item.mailboxId,
    });
  }
  for (const [mailboxId, state] of mailboxes) {
    if (state instanceof Error || state.last === state.first) continue;
    ops.push(
      {
        type: 'put',
        key: mailKeys.lastUid(account, mailboxId),
        value: encodeCounter(BigInt(state.last)),
      },
      putHighestModseq(account, mailboxId),
      ...counterOps(account, mailboxId, state.delta),
    );
  }
  if (messages > 0) {
    ops.push(
      { type: 'incr', key: mailKeys.usage(account, 'bytes'), delta: BigInt(bytes) },
      { type: 'incr', key: mailKeys.usage(account, 'messages'), delta: BigInt(messages) },
    );
  }
  return {
    ops,
    changes,
    result: (modseq) =>
      placed.map((p) => (p instanceof Error ? p : { ...p, modseq: modseq ?? 0n })),
  };
}

async function mailboxState(
  repo: MailRepository,
  r: TxnReader,
  account: number,
  mailboxId: number,
): Promise<MailboxState | Error> {
  const record = await repo.record(account, mailboxId, r);
  if (record === undefined) return new CommuneError('not-found', 'no such mailbox');
  if (record.noselect) return new CommuneError('invalid-argument', 'mailbox is not selectable');
  const last = Number(decodeCounter(await r.get(mailKeys.lastUid(account, mailboxId))));
  return { record, first: last, last, delta: emptyDelta() };
}
