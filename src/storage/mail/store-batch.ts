/**
 * The commit of a batch of STOREs to one account (coalesced by MailService like appends):
 * STOREs that arrive while another commits go together, one fsync for all, yet each that
 * changes something gets its own MODSEQ, as RFC 7162 §3.1.3 requires of every STORE on a
 * mailbox: the commit gives the account one change id per such STORE (ChangeEntry.step).
 *
 * STOREs in one commit touch disjoint messages (`disjointRuns`): each is planned from the
 * stored entries as if it ran alone, and a message changed twice is changed by two commits,
 * in order. A STORE on a missing mailbox is refused alone. Two batches may be in flight at
 * once (MailService pipelines them without the account lock) as long as they touch
 * different messages (`storesOverlap`); their reads are preconditions of their commits, so a
 * race with any other mutation is caught and the batch rebuilt.
 */

import { CommuneError } from '../../core/errors.ts';
import type { ChangeEntry, Op } from '../store.ts';
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
import type { MessageSummary, StoreOperation, StoreResult } from './mail-types.ts';
import { applyFlags, sameFlags } from './message-flags.ts';
import type { TxnReader } from './txn-reader.ts';

/** One STORE: `uids` unique and sorted, `flags` normalised. */
export interface PendingStore {
  readonly mailboxId: number;
  readonly uids: readonly number[];
  readonly op: StoreOperation;
  readonly flags: readonly string[];
  readonly unchangedSince?: bigint;
}

/** Whether two STOREs touch a common message (their uids are sorted). */
export function storesOverlap(a: PendingStore, b: PendingStore): boolean {
  if (a.mailboxId !== b.mailboxId) return false;
  let i = 0;
  let j = 0;
  while (i < a.uids.length && j < b.uids.length) {
    const x = a.uids[i] as number;
    const y = b.uids[j] as number;
    if (x === y) return true;
    if (x < y) i++;
    else j++;
  }
  return false;
}

/** `items` cut, in order, into runs whose STOREs touch no message twice. */
export function disjointRuns(items: readonly PendingStore[]): PendingStore[][] {
  const runs: PendingStore[][] = [];
  let run: PendingStore[] = [];
  let touched = new Set<string>();
  for (const item of items) {
    const keys = item.uids.map((uid) => `${item.mailboxId}:${uid}`);
    if (keys.some((k) => touched.has(k))) {
      runs.push(run);
      run = [];
      touched = new Set();
    }
    run.push(item);
    for (const k of keys) touched.add(k);
  }
  if (run.length > 0) runs.push(run);
  return runs;
}

interface Planned {
  readonly step: number | null;
  readonly changed: readonly MessageSummary[];
  readonly unchanged: readonly MessageSummary[];
  readonly modified: readonly number[];
}

/** Plan the commit of a run of STOREs (run inside MailRepository.transact). */
export async function storeBatchPlan(
  repo: MailRepository,
  r: TxnReader,
  account: number,
  items: readonly PendingStore[],
): Promise<Plan<(StoreResult | Error)[]>> {
  const ops: Op[] = [];
  const changes: ChangeEntry[] = [];
  const mailboxes = new Map<number, { step: number; delta: CounterDelta }>();
  const planned: (Planned | Error)[] = [];
  let steps = 0;
  for (const item of items) {
    if ((await repo.record(account, item.mailboxId, r)) === undefined) {
      planned.push(new CommuneError('not-found', 'no such mailbox'));
      continue;
    }
    const entries = await repo.entries(r, account, item.mailboxId, item.uids);
    const modified: number[] = [];
    const unchanged: MessageSummary[] = [];
    const changed: MessageSummary[] = [];
    const delta = emptyDelta();
    const step = steps;
    for (const entry of entries) {
      if (item.unchangedSince !== undefined && entry.modseq > item.unchangedSince) {
        modified.push(entry.uid);
        continue;
      }
      const next = applyFlags(entry.flags, item.op, item.flags);
      if (sameFlags(next, entry.flags)) {
        unchanged.push(entry);
        continue;
      }
      countMessage(delta, entry.flags, entry.size, -1);
      countMessage(delta, next, entry.size, 1);
      const updated = { ...entry, flags: next };
      ops.push(
        putEntry(account, item.mailboxId, entry.uid, updated, step),
        ...keywordOps(account, item.mailboxId, next),
      );
      changes.push(messageChange(account, item.mailboxId, entry.uid, 'updated', step));
      changed.push(updated);
    }
    if (changed.length > 0) {
      steps++;
      const state = mailboxes.get(item.mailboxId) ?? { step, delta: emptyDelta() };
      state.step = step;
      for (const what of Object.keys(delta) as (keyof CounterDelta)[])
        state.delta[what] += delta[what];
      mailboxes.set(item.mailboxId, state);
    }
    planned.push({ step: changed.length > 0 ? step : null, changed, unchanged, modified });
  }
  for (const [mailboxId, { step, delta }] of mailboxes) {
    ops.push(putHighestModseq(account, mailboxId, step), ...counterOps(account, mailboxId, delta));
  }
  return {
    ops,
    changes,
    result: (last) =>
      planned.map((p) => {
        if (p instanceof Error) return p;
        const modseq = p.step === null || last === null ? null : last - BigInt(steps - 1 - p.step);
        return {
          modseq,
          changed: p.changed.map((m) => ({ ...m, modseq: modseq ?? m.modseq })),
          unchanged: p.unchanged,
          modified: p.modified,
        };
      }),
  };
}
