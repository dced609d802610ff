/**
 * The stored form of a message's index entry: 8 bytes of modseq (big-endian, written by the
 * commit's stamp, so it is the commit's change id with no read-then-write race) followed by
 * compact JSON. One prefix scan of ('msg', account, mailbox) yields a mailbox's whole index.
 */

import type { MessageSummary } from './mail-types.ts';

/** The JSON part of an entry. */
interface EntryJson {
  /** emailId */
  readonly e: string;
  /** threadId */
  readonly t: string;
  /** flags */
  readonly f: readonly string[];
  /** size */
  readonly s: number;
  /** internal date, ms */
  readonly d: number;
  /** zone, minutes east of UTC */
  readonly z: number;
}

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();

/** The value to put, with a zero modseq placeholder (stamp valueOffset 0). */
export function encodeEntry(summary: Omit<MessageSummary, 'uid' | 'modseq'>): Uint8Array {
  const json: EntryJson = {
    e: summary.emailId,
    t: summary.threadId,
    f: summary.flags,
    s: summary.size,
    d: summary.internalDate,
    z: summary.zone,
  };
  const body = utf8.encode(JSON.stringify(json));
  const out = new Uint8Array(8 + body.length);
  out.set(body, 8);
  return out;
}

export function decodeEntry(uid: number, value: Uint8Array): MessageSummary {
  const modseq = new DataView(value.buffer, value.byteOffset, 8).getBigUint64(0);
  const json = JSON.parse(utf8Decoder.decode(value.subarray(8))) as EntryJson;
  return {
    uid,
    modseq,
    flags: json.f,
    size: json.s,
    internalDate: json.d,
    zone: json.z,
    emailId: json.e,
    threadId: json.t,
  };
}

/** An 8-byte modseq value (HIGHESTMODSEQ keys); 0 when absent. */
export function decodeModseq(value: Uint8Array | undefined): bigint {
  if (value === undefined || value.length < 8) return 0n;
  return new DataView(value.buffer, value.byteOffset, 8).getBigUint64(0);
}

/** An 8-byte placeholder for a stamped modseq value. */
export function modseqPlaceholder(): Uint8Array {
  return new Uint8Array(8);
}
