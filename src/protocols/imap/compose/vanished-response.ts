/**
 * VANISHED response (QRESYNC, RFC 7162 §3.2.10):
 *   expunged-resp = "VANISHED" [SP "(EARLIER)"] SP known-uids
 * EARLIER marks UIDs reported for a SELECT QRESYNC or UID FETCH VANISHED, not new expunges.
 */

import { formatSequenceSet } from '../parser/sequence-set.ts';
import type { SequenceSet } from '../parser/sequence-set.ts';
import { ResponseWriter } from './response-writer.ts';
import type { WirePart } from './response-writer.ts';

/** `* VANISHED [(EARLIER)] uid-set` CRLF; nothing for an empty set. */
export function vanishedResponse(uids: SequenceSet, earlier: boolean): WirePart[] {
  if (uids.ranges.length === 0) return [];
  const w = new ResponseWriter();
  w.raw(`* VANISHED${earlier ? ' (EARLIER)' : ''} ${formatSequenceSet(uids)}`).crlf();
  return w.parts();
}
