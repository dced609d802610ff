/**
 * The Store contract: the one interface every backend (memory, level, postgres) implements.
 * Keys are ordered byte strings (see keys.ts); values are opaque bytes. Everything above this
 * file (domain services) talks to a Store, never to a backend.
 */

/** A key range for ordered scans. Bounds are compared bytewise (unsigned). */
export interface KeyRange {
  readonly gte?: Uint8Array;
  readonly gt?: Uint8Array;
  readonly lte?: Uint8Array;
  readonly lt?: Uint8Array;
  /** Stop after this many entries. */
  readonly limit?: number;
  /** Scan from the high end down. */
  readonly reverse?: boolean;
}

/** Set `key` to `value`. */
export interface PutOp {
  readonly type: 'put';
  readonly key: Uint8Array;
  readonly value: Uint8Array;
  /**
   * Stamp the change id this commit gives `account` (which must appear in the batch's change
   * entries) into the key and/or value, as 8 bytes big-endian overwriting the placeholder at
   * the given offsets (the FoundationDB versionstamp idea). This is how a record carries its own
   * MODSEQ / sync token without a read-then-write race. See keys.ts `stampOffset`.
   */
  readonly stamp?: {
    readonly account: number;
    /** Which of the account's change ids in this commit (see ChangeEntry.step); default 0. */
    readonly step?: number;
    readonly keyOffset?: number;
    readonly valueOffset?: number;
  };
  /**
   * Stamp a counter's value into the key and/or value the same way: the value the batch's
   * last `incr` of `key` before this put left (that incr must come earlier in the batch) plus
   * `add` (the result must not be negative). This is how records get numbers allocated by the
   * commit itself (IMAP UIDs: one incr of the mailbox's last UID by n, then n puts stamped
   * with add = -n + 1 .. 0), so concurrent writers never conflict over the allocation.
   */
  readonly counterStamp?: {
    readonly key: Uint8Array;
    readonly add: bigint;
    readonly keyOffset?: number;
    readonly valueOffset?: number;
  };
}

/** Remove `key` (no error when absent). */
export interface DelOp {
  readonly type: 'del';
  readonly key: Uint8Array;
}

/**
 * Add `delta` to the signed 64-bit big-endian counter stored at `key` (absent counts as 0).
 * The new value is returned in CommitResult.counters, in op order.
 */
export interface IncrOp {
  readonly type: 'incr';
  readonly key: Uint8Array;
  readonly delta: bigint;
}

/**
 * Precondition: the current value at `key` equals `value` (undefined = key absent). When any
 * expectation fails, nothing of the batch is applied and the commit reports a conflict.
 */
export interface ExpectOp {
  readonly type: 'expect';
  readonly key: Uint8Array;
  readonly value: Uint8Array | undefined;
}

export type Op = PutOp | DelOp | IncrOp | ExpectOp;

export type ChangeKind = 'created' | 'updated' | 'destroyed';

/**
 * One entry of the change log: "in `account`, object `id` of `collection` was `kind`".
 * `collection` is a short name of the object family (e.g. "mailbox:12", "calendar:work").
 */
export interface ChangeEntry {
  readonly account: number;
  readonly collection: string;
  readonly id: string;
  readonly kind: ChangeKind;
  /**
   * Log as id, instead of `id`, the decimal value the batch's incr ops leave the counter at
   * `key` at, plus `add` (see PutOp.counterStamp): the entry of a record whose number the
   * commit allocates.
   */
  readonly idCounter?: { readonly key: Uint8Array; readonly add: bigint };
  /**
   * Several changes of one account in one commit, each with its own change id: an account
   * whose entries name steps 0..k-1 gets k consecutive change ids, one log record each (step
   * s gets the (s+1)-th). Used to commit several IMAP STOREs at once, each with its own
   * MODSEQ (RFC 7162 §3.1.3), for one fsync. Default 0; steps must be 0..k-1 with none
   * missing.
   */
  readonly step?: number;
}

export interface Batch {
  readonly ops: readonly Op[];
  /**
   * Change entries to append to the change log in the same atomic commit. Each account named
   * here gets exactly one new change id for this commit (strictly increasing per account).
   */
  readonly changes?: readonly ChangeEntry[];
}

export type CommitResult =
  | {
      readonly ok: true;
      /** New value of each incr op, in the order the incr ops appear in the batch. */
      readonly counters: readonly bigint[];
      /**
       * The change id given to this commit, per account named in `changes` (with steps, the
       * last one: step s of k got last - k + 1 + s).
       */
      readonly changeIds: ReadonlyMap<number, bigint>;
    }
  | {
      readonly ok: false;
      /** The key whose expectation failed. */
      readonly conflict: Uint8Array;
    };

/**
 * The Store contract. A commit is atomic (all or nothing) and durable when its promise
 * resolves: a crash after that never loses it, a crash before leaves no part of it.
 */
export interface Store {
  readonly name: string;
  get(key: Uint8Array): Promise<Uint8Array | undefined>;
  getMany(keys: readonly Uint8Array[]): Promise<(Uint8Array | undefined)[]>;
  scan(range: KeyRange): AsyncIterable<readonly [Uint8Array, Uint8Array]>;
  commit(batch: Batch): Promise<CommitResult>;
  close(): Promise<void>;
}

/** Optional capability: a backend that can tell whether it is healthy (used by /health). */
export interface HealthCheckable {
  healthCheck(): Promise<boolean>;
}

export function isHealthCheckable(store: unknown): store is HealthCheckable {
  return (
    typeof store === 'object' &&
    store !== null &&
    typeof (store as { healthCheck?: unknown }).healthCheck === 'function'
  );
}
