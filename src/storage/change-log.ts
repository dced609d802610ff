/**
 * Reading the change log. Every commit that names an account appends one record under a new,
 * strictly increasing per-account change id (commit-plan.ts). That id is the IMAP MODSEQ
 * (RFC 7162 section 3.1), the DAV sync-token (RFC 6578 section 3.2) and the push cursor:
 * readers keep their last seen id and call `readChanges` after a nudge.
 */

import type { Store, ChangeKind } from './store.ts';
import type { ChangeLogRecord } from './commit-plan.ts';
import {
  Subspace,
  changeCounterKey,
  changeLogKey,
  decodeCounter,
  decodeJson,
  pack,
  prefixEnd,
  unpack,
} from './keys.ts';
import { CommuneError } from '../core/errors.ts';

export interface ChangeLogEntry {
  readonly collection: string;
  readonly id: string;
  readonly kind: ChangeKind;
}

/** One commit's entries for one account. */
export interface Change {
  readonly changeId: bigint;
  readonly entries: readonly ChangeLogEntry[];
}

export interface ChangesSince {
  /** Changes after the cursor, oldest first. */
  readonly changes: readonly Change[];
  /** The id of the last change returned, or the cursor itself when there was none. */
  readonly lastChangeId: bigint;
}

/**
 * The changes of `account` with change id greater than `sinceChangeId` (0 = from the start),
 * at most `limit` of them (counted in commits, not entries).
 */
export async function readChanges(
  store: Store,
  account: number,
  sinceChangeId: bigint,
  limit?: number,
): Promise<ChangesSince> {
  if (sinceChangeId < 0n) {
    throw new CommuneError('invalid-argument', `invalid change cursor ${sinceChangeId}`);
  }
  const changes: Change[] = [];
  let lastChangeId = sinceChangeId;
  const range = {
    gt: changeLogKey(account, sinceChangeId),
    lt: prefixEnd(pack(Subspace.changeLog, account)),
    ...(limit === undefined ? {} : { limit }),
  };
  for await (const [key, value] of store.scan(range)) {
    const changeId = BigInt(unpack(key).elements[1] as number | bigint);
    const record = decodeJson<ChangeLogRecord>(value);
    changes.push({
      changeId,
      entries: record.e.map(([collection, id, kind]) => ({ collection, id, kind })),
    });
    lastChangeId = changeId;
  }
  return { changes, lastChangeId };
}

/** The latest change id of `account` (0 when nothing was ever committed for it). */
export async function currentChangeId(store: Store, account: number): Promise<bigint> {
  return decodeCounter(await store.get(changeCounterKey(account)));
}
