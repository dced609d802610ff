/**
 * STORE (RFC 9051 §6.4.6) with CONDSTORE UNCHANGEDSINCE (RFC 7162 §3.1.3):
 *   store           = "STORE" SP sequence-set [store-modifiers] SP store-att-flags
 *   store-modifiers = SP "(" "UNCHANGEDSINCE" SP mod-sequence-valzer ")"
 *   store-att-flags = (["+" / "-"] "FLAGS" [".SILENT"]) SP (flag-list / (flag *(SP flag)))
 */

import { isStorableFlag, syntaxError } from '../args.ts';
import type { ArgReader } from '../args.ts';
import type { SequenceSet } from '../sequence-set.ts';

export interface StoreCommand {
  readonly name: 'STORE';
  readonly uid: boolean;
  readonly sequence: SequenceSet;
  /** UNCHANGEDSINCE value (0 allowed: "mod-sequence-valzer"); null when absent. */
  readonly unchangedSince: bigint | null;
  /** FLAGS replaces, +FLAGS adds, -FLAGS removes. */
  readonly operation: 'set' | 'add' | 'remove';
  /** .SILENT: no untagged FETCH for the change. */
  readonly silent: boolean;
  readonly flags: readonly string[];
}

export function parseStore(r: ArgReader, uid: boolean): StoreCommand {
  r.sp();
  const sequence = r.sequenceSet();
  r.sp();
  let unchangedSince: bigint | null = null;
  if (r.peek() === 0x28) {
    r.list(() => {
      if (r.keyword() !== 'UNCHANGEDSINCE' || unchangedSince !== null) {
        syntaxError('Unknown STORE modifier');
      }
      r.sp();
      unchangedSince = r.number64();
    }, false);
    r.sp();
  }
  let operation: StoreCommand['operation'] = 'set';
  if (r.tryByte(0x2b)) operation = 'add';
  else if (r.tryByte(0x2d)) operation = 'remove';
  const item = r.keyword();
  if (item !== 'FLAGS' && item !== 'FLAGS.SILENT') syntaxError('Expected FLAGS');
  r.sp();
  let flags: string[];
  if (r.peek() === 0x28) {
    flags = r.flagList();
  } else {
    flags = [r.flag()];
    while (r.trySp()) flags.push(r.flag());
  }
  if (!flags.every(isStorableFlag)) syntaxError('Invalid flag in STORE');
  r.end();
  return {
    name: 'STORE',
    uid,
    sequence,
    unchangedSince,
    operation,
    silent: item === 'FLAGS.SILENT',
    flags,
  };
}
