/**
 * SELECT / EXAMINE (RFC 9051 §6.3.2-3) with CONDSTORE and QRESYNC parameters
 * (RFC 7162 §3.1.8, §3.2.5):
 *   select        = "SELECT" SP mailbox [select-params]
 *   select-params = SP "(" select-param *(SP select-param) ")"
 *   select-param  = "CONDSTORE" / "QRESYNC" SP "(" uidvalidity SP mod-sequence-value
 *                   [SP known-uids] [SP seq-match-data] ")"
 *   seq-match-data = "(" known-sequence-set SP known-uid-set ")"
 */

import { syntaxError } from '../args.ts';
import type { ArgReader } from '../args.ts';
import { sequenceSetHasStar } from '../sequence-set.ts';
import type { SequenceSet } from '../sequence-set.ts';

export interface QresyncParams {
  readonly uidValidity: number;
  readonly modSeq: bigint;
  /** UIDs the client knows; null means all. */
  readonly knownUids: SequenceSet | null;
  readonly seqMatch: { readonly sequences: SequenceSet; readonly uids: SequenceSet } | null;
}

export interface SelectCommand {
  readonly name: 'SELECT' | 'EXAMINE';
  readonly mailbox: string;
  readonly condstore: boolean;
  readonly qresync: QresyncParams | null;
}

function knownSet(r: ArgReader): SequenceSet {
  const set = r.sequenceSet();
  if (set.saved || sequenceSetHasStar(set)) syntaxError('Invalid known set');
  return set;
}

function parseQresync(r: ArgReader): QresyncParams {
  r.expectByte(0x28, '(');
  r.enter();
  const uidValidity = r.nzNumber();
  r.sp();
  const modSeq = r.modSeq();
  let knownUids: SequenceSet | null = null;
  let seqMatch: QresyncParams['seqMatch'] = null;
  if (r.trySp() && r.peek() !== 0x28) {
    knownUids = knownSet(r);
    r.trySp();
  }
  if (r.tryByte(0x28)) {
    const sequences = knownSet(r);
    r.sp();
    const uids = knownSet(r);
    r.expectByte(0x29, ')');
    seqMatch = { sequences, uids };
  }
  r.expectByte(0x29, ')');
  r.leave();
  return { uidValidity, modSeq, knownUids, seqMatch };
}

export function parseSelect(r: ArgReader, name: 'SELECT' | 'EXAMINE'): SelectCommand {
  r.sp();
  const mailbox = r.mailbox();
  let condstore = false;
  let qresync: QresyncParams | null = null;
  if (r.trySp()) {
    r.list(() => {
      const param = r.keyword();
      if (param === 'CONDSTORE') condstore = true;
      else if (param === 'QRESYNC' && qresync === null) {
        r.sp();
        qresync = parseQresync(r);
      } else syntaxError('Unknown SELECT parameter');
    }, false);
  }
  r.end();
  return { name, mailbox, condstore, qresync };
}
