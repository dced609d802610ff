/**
 * ESEARCH response (RFC 4731 §3.1, RFC 9051 §7.3.4; MODSEQ RFC 7162 §3.1.5):
 *   esearch-response = "ESEARCH" [search-correlator] [SP "UID"] *(SP search-return-data)
 *   search-return-data = "MIN" SP nz-number / "MAX" SP nz-number / "ALL" SP sequence-set /
 *                        "COUNT" SP number / "MODSEQ" SP mod-sequence-value
 * MIN, MAX and ALL are omitted when nothing matched.
 */

import { formatSequenceSet } from '../parser/sequence-set.ts';
import type { SequenceSet } from '../parser/sequence-set.ts';
import { ResponseWriter } from './response-writer.ts';
import type { WirePart } from './response-writer.ts';

export interface EsearchResult {
  /** Tag of the SEARCH command (search-correlator); null to omit. */
  readonly tag: string | null;
  readonly uid: boolean;
  readonly min?: number | undefined;
  readonly max?: number | undefined;
  readonly all?: SequenceSet | undefined;
  readonly count?: number | undefined;
  readonly modSeq?: bigint | undefined;
}

/** `* ESEARCH (TAG "a1") UID MIN 1 MAX 9 ALL 1:3,9 COUNT 4` CRLF. */
export function esearchResponse(result: EsearchResult): WirePart[] {
  const w = new ResponseWriter();
  w.raw('* ESEARCH');
  if (result.tag !== null) w.raw(' (TAG ').string(result.tag).raw(')');
  if (result.uid) w.raw(' UID');
  if (result.min !== undefined) w.raw(' MIN ').number(result.min);
  if (result.max !== undefined) w.raw(' MAX ').number(result.max);
  if (result.all !== undefined && result.all.ranges.length > 0) {
    w.raw(` ALL ${formatSequenceSet(result.all)}`);
  }
  if (result.count !== undefined) w.raw(' COUNT ').number(result.count);
  if (result.modSeq !== undefined) w.raw(' MODSEQ ').number(result.modSeq);
  w.crlf();
  return w.parts();
}
