/**
 * The change bus carries only a nudge: "account A reached change id N, touching these
 * collections". Readers re-read the change log from their own cursor (change-log.ts), so a
 * lost or coalesced nudge never loses a change. In-process here; PostgreSQL LISTEN/NOTIFY
 * across nodes implements the same interface.
 */

export interface ChangeNudge {
  readonly account: number;
  readonly changeId: bigint;
  readonly collections: readonly string[];
}

/**
 * A nudge for this account means "any account may have moved" (sent after a cross-node bus
 * reconnects): every reader re-reads every cursor it holds.
 */
export const RESYNC_ALL_ACCOUNTS = -1;

export type ChangeListener = (nudge: ChangeNudge) => void;

export interface ChangeBus {
  publish(nudge: ChangeNudge): void;
  /** Listen to every account's nudges; returns the unsubscribe function. */
  subscribe(listener: ChangeListener): () => void;
  close(): Promise<void>;
}
