/**
 * COPY (RFC 9051 §6.4.7) and MOVE (RFC 6851, §6.4.8), with their UID forms (§6.4.9):
 *   copy = "COPY" SP sequence-set SP mailbox
 *   move = "MOVE" SP sequence-set SP mailbox
 */

import type { ArgReader } from '../args.ts';
import type { SequenceSet } from '../sequence-set.ts';

export interface CopyCommand {
  readonly name: 'COPY' | 'MOVE';
  readonly uid: boolean;
  readonly sequence: SequenceSet;
  readonly mailbox: string;
}

export function parseCopy(r: ArgReader, name: 'COPY' | 'MOVE', uid: boolean): CopyCommand {
  r.sp();
  const sequence = r.sequenceSet();
  r.sp();
  const mailbox = r.mailbox();
  r.end();
  return { name, uid, sequence, mailbox };
}
