/**
 * The commit planner, written once for every backend. A backend, inside its own atomic section
 * (a mutex for memory and level, a transaction for postgres), reads the current values of
 * `keysToRead(batch)`, calls `planCommit`, and applies the resulting writes all at once.
 */

import type { Batch, ChangeEntry } from './store.ts';
import {
  changeCounterKey,
  changeLogKey,
  decodeCounter,
  encodeCounter,
  encodeJson,
  keyHex,
  keysEqual,
} from './keys.ts';

export interface PlannedWrite {
  readonly key: Uint8Array;
  /** undefined = delete. */
  readonly value: Uint8Array | undefined;
}

export type CommitPlan =
  | {
      readonly ok: true;
      /** Final writes, one per key, in first-touched order. */
      readonly writes: readonly PlannedWrite[];
      readonly counters: readonly bigint[];
      readonly changeIds: ReadonlyMap<number, bigint>;
    }
  | { readonly ok: false; readonly conflict: Uint8Array };

/** Stored form of one change log record (one per account per commit). */
export interface ChangeLogRecord {
  /** Entries: [collection, id, kind]. */
  readonly e: readonly (readonly [string, string, ChangeEntry['kind']])[];
}

/** Accounts named in the batch's change entries, in first-seen order. */
export function changedAccounts(batch: Batch): number[] {
  const seen = new Set<number>();
  for (const c of batch.changes ?? []) seen.add(c.account);
  return [...seen];
}

/** How many change ids each account with stepped entries takes (steps 0..k-1, none missing). */
function stepsOf(batch: Batch): Map<number, number> {
  const seen = new Map<number, Set<number>>();
  for (const c of batch.changes ?? []) {
    const step = c.step ?? 0;
    if (!Number.isInteger(step) || step < 0) throw new RangeError(`bad change step ${step}`);
    let set = seen.get(c.account);
    if (set === undefined) seen.set(c.account, (set = new Set()));
    set.add(step);
  }
  const out = new Map<number, number>();
  for (const [account, set] of seen) {
    if (Math.max(...set) + 1 !== set.size) {
      throw new RangeError(`the change steps of account ${account} must be 0..k-1`);
    }
    out.set(account, set.size);
  }
  return out;
}

/** The keys whose current values the plan depends on (expect, incr, change counters). */
export function keysToRead(batch: Batch): Uint8Array[] {
  const keys = new Map<string, Uint8Array>();
  for (const op of batch.ops) {
    if (op.type === 'expect' || op.type === 'incr') keys.set(keyHex(op.key), op.key);
  }
  for (const account of changedAccounts(batch)) {
    const key = changeCounterKey(account);
    keys.set(keyHex(key), key);
  }
  return [...keys.values()];
}

/**
 * Apply the batch's ops in order over the current values: later ops see earlier ones, an
 * expectation is checked against the state at its point in the batch.
 */
export function planCommit(
  batch: Batch,
  current: (key: Uint8Array) => Uint8Array | undefined,
): CommitPlan {
  const overlay = new Map<string, PlannedWrite>();
  const read = (key: Uint8Array): Uint8Array | undefined => {
    const w = overlay.get(keyHex(key));
    return w ? w.value : current(key);
  };
  const write = (key: Uint8Array, value: Uint8Array | undefined): void => {
    const hex = keyHex(key);
    overlay.delete(hex);
    overlay.set(hex, { key, value });
  };
  // Change ids first: one new id per account named in the change entries, so puts can be
  // stamped with it (the counters are never the target of the batch's own ops).
  const changeIds = new Map<number, bigint>();
  const steps = stepsOf(batch);
  for (const account of changedAccounts(batch)) {
    const base = decodeCounter(current(changeCounterKey(account)));
    changeIds.set(account, base + BigInt(steps.get(account) ?? 1));
  }
  /** The change id of `account` for `step`. */
  const changeIdAt = (account: number, step = 0): bigint | undefined => {
    const last = changeIds.get(account);
    const count = steps.get(account) ?? 1;
    if (last === undefined) return undefined;
    if (!Number.isInteger(step) || step < 0 || step >= count) {
      throw new RangeError(`step ${step} outside the ${count} changes of account ${account}`);
    }
    return last - BigInt(count - 1 - step);
  };

  const counters: bigint[] = [];
  /** The value each incr'd key was left at so far in this batch (counter stamps). */
  const incremented = new Map<string, bigint>();
  const counterValue = (stamp: { key: Uint8Array; add: bigint }): bigint => {
    const base = incremented.get(keyHex(stamp.key));
    if (base === undefined) throw new RangeError('counter stamp without an earlier incr');
    const value = base + stamp.add;
    if (value < 0n) throw new RangeError('counter stamp would be negative');
    return value;
  };
  for (const op of batch.ops) {
    switch (op.type) {
      case 'put': {
        let key = op.key;
        let value = op.value;
        if (op.stamp) {
          const changeId = changeIdAt(op.stamp.account, op.stamp.step);
          if (changeId === undefined) {
            throw new RangeError(`stamp names account ${op.stamp.account} without change entries`);
          }
          key = stampAt(key, op.stamp.keyOffset, changeId);
          value = stampAt(value, op.stamp.valueOffset, changeId);
        }
        if (op.counterStamp) {
          const stamped = counterValue(op.counterStamp);
          key = stampAt(key, op.counterStamp.keyOffset, stamped);
          value = stampAt(value, op.counterStamp.valueOffset, stamped);
        }
        write(key, value);
        break;
      }
      case 'del':
        write(op.key, undefined);
        break;
      case 'incr': {
        const next = decodeCounter(read(op.key)) + op.delta;
        write(op.key, encodeCounter(next));
        counters.push(next);
        incremented.set(keyHex(op.key), next);
        break;
      }
      case 'expect':
        if (!keysEqual(read(op.key), op.value)) return { ok: false, conflict: op.key };
        break;
    }
  }

  // Change log: bump each account's counter, one record per step holding its entries.
  for (const [account, changeId] of changeIds) {
    write(changeCounterKey(account), encodeCounter(changeId));
    const count = steps.get(account) ?? 1;
    for (let step = 0; step < count; step++) {
      const record: ChangeLogRecord = {
        e: (batch.changes ?? [])
          .filter((c) => c.account === account && (c.step ?? 0) === step)
          .map(
            (c) =>
              [
                c.collection,
                c.idCounter === undefined ? c.id : String(counterValue(c.idCounter)),
                c.kind,
              ] as const,
          ),
      };
      write(changeLogKey(account, changeId - BigInt(count - 1 - step)), encodeJson(record));
    }
  }
  return { ok: true, writes: [...overlay.values()], counters, changeIds };
}

/** A copy of `bytes` with `stamp` written as 8 bytes big-endian at `offset` (if given). */
function stampAt(bytes: Uint8Array, offset: number | undefined, stamp: bigint): Uint8Array {
  if (offset === undefined) return bytes;
  if (!Number.isInteger(offset) || offset < 0 || offset + 8 > bytes.length) {
    throw new RangeError(`stamp offset ${offset} outside ${bytes.length} bytes`);
  }
  const out = Uint8Array.from(bytes);
  new DataView(out.buffer).setBigUint64(offset, stamp);
  return out;
}

/** A FIFO mutex: commits of one process run one at a time, in arrival order. */
export class Mutex {
  #tail: Promise<void> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(fn);
    this.#tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}
