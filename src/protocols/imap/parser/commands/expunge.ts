/**
 * EXPUNGE (RFC 9051 §6.4.3) and UID EXPUNGE (UIDPLUS, RFC 4315 §2.1; RFC 9051 §6.4.9):
 *   expunge     = "EXPUNGE"
 *   uid-expunge = "UID" SP "EXPUNGE" SP sequence-set
 */

import type { ArgReader } from '../args.ts';
import type { SequenceSet } from '../sequence-set.ts';

export interface ExpungeCommand {
  readonly name: 'EXPUNGE';
  readonly uid: boolean;
  /** UID EXPUNGE: only these UIDs; null for plain EXPUNGE. */
  readonly uids: SequenceSet | null;
}

export function parseExpunge(r: ArgReader, uid: boolean): ExpungeCommand {
  let uids: SequenceSet | null = null;
  if (uid) {
    r.sp();
    uids = r.sequenceSet();
  }
  r.end();
  return { name: 'EXPUNGE', uid, uids };
}
