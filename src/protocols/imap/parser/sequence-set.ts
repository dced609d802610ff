/**
 * Sequence sets (RFC 9051 §9 `sequence-set`, RFC 5182 `$` for SEARCHRES).
 *
 *   sequence-set = (seq-number / seq-range) ["," sequence-set]
 *   seq-range    = seq-number ":" seq-number   ; either order, "*" is the largest in use
 *   seq-number   = nz-number / "*"
 *   sequence-set =/ "$"                         ; the result saved by SEARCH RETURN (SAVE)
 */

export type SeqNumber = number | '*';

export interface SeqRange {
  readonly start: SeqNumber;
  readonly end: SeqNumber;
}

export interface SequenceSet {
  readonly ranges: readonly SeqRange[];
  /** The set includes `$`, the saved search result; substitute it with `withSavedResult`. */
  readonly saved: boolean;
}

/** Largest value of a 32-bit nz-number. */
export const MAX_NZ_NUMBER = 0xffffffff;

function parseSeqNumber(s: string): SeqNumber | undefined {
  if (s === '*') return '*';
  if (!/^[0-9]{1,10}$/.test(s)) return undefined;
  const n = Number(s);
  return n >= 1 && n <= MAX_NZ_NUMBER ? n : undefined;
}

/** Parse the text of a sequence set; undefined when it is not one. */
export function parseSequenceSet(text: string): SequenceSet | undefined {
  if (text.length === 0) return undefined;
  const ranges: SeqRange[] = [];
  let saved = false;
  for (const item of text.split(',')) {
    if (item === '$') {
      saved = true;
      continue;
    }
    const colon = item.indexOf(':');
    if (colon < 0) {
      const n = parseSeqNumber(item);
      if (n === undefined) return undefined;
      ranges.push({ start: n, end: n });
    } else {
      const start = parseSeqNumber(item.slice(0, colon));
      const end = parseSeqNumber(item.slice(colon + 1));
      if (start === undefined || end === undefined) return undefined;
      ranges.push({ start, end });
    }
  }
  return { ranges, saved };
}

/** Wire form of a set: "1:3,5,7:*" (and "$" when it includes the saved result). */
export function formatSequenceSet(set: SequenceSet): string {
  const parts = set.ranges.map((r) =>
    r.start === r.end ? String(r.start) : `${String(r.start)}:${String(r.end)}`,
  );
  if (set.saved) parts.push('$');
  return parts.join(',');
}

/** A set from numbers, sorted and compressed into ranges ("1:3,5"). */
export function sequenceSetFromNumbers(numbers: Iterable<number>): SequenceSet {
  const sorted = [...new Set(numbers)].sort((a, b) => a - b);
  const ranges: SeqRange[] = [];
  let i = 0;
  while (i < sorted.length) {
    const start = sorted[i] ?? 0;
    let end = start;
    while (i + 1 < sorted.length && sorted[i + 1] === end + 1) {
      i++;
      end++;
    }
    ranges.push({ start, end });
    i++;
  }
  return { ranges, saved: false };
}

/** Replace `$` in `set` by the ranges of the saved search result. */
export function withSavedResult(set: SequenceSet, savedResult: SequenceSet): SequenceSet {
  if (!set.saved) return set;
  return { ranges: [...set.ranges, ...savedResult.ranges], saved: false };
}

/**
 * Resolve `*` to `max` (the largest sequence number or UID in use), order each range, clamp
 * to 1..max and merge: a sorted list of disjoint inclusive [start, end] pairs. `$` is ignored
 * (substitute it first). Never expands, so huge ranges cost nothing.
 */
export function normalizeSequenceSet(
  set: SequenceSet,
  max: number,
): Array<readonly [number, number]> {
  const resolved: Array<[number, number]> = [];
  for (const r of set.ranges) {
    const a = r.start === '*' ? max : r.start;
    const b = r.end === '*' ? max : r.end;
    const lo = Math.max(1, Math.min(a, b));
    const hi = Math.min(max, Math.max(a, b));
    if (lo <= hi) resolved.push([lo, hi]);
  }
  resolved.sort((x, y) => x[0] - y[0]);
  const merged: Array<[number, number]> = [];
  for (const r of resolved) {
    const last = merged[merged.length - 1];
    if (last !== undefined && r[0] <= last[1] + 1) last[1] = Math.max(last[1], r[1]);
    else merged.push([r[0], r[1]]);
  }
  return merged;
}

/** Whether `n` is in `set`, with `*` meaning `max`. */
export function sequenceSetContains(set: SequenceSet, n: number, max: number): boolean {
  for (const r of set.ranges) {
    const a = r.start === '*' ? max : r.start;
    const b = r.end === '*' ? max : r.end;
    if (n >= Math.min(a, b) && n <= Math.max(a, b)) return true;
  }
  return false;
}

/** The numbers of `set` within 1..max, ascending and unique. Bound `max` before calling. */
export function expandSequenceSet(set: SequenceSet, max: number): number[] {
  const out: number[] = [];
  for (const [lo, hi] of normalizeSequenceSet(set, max)) for (let n = lo; n <= hi; n++) out.push(n);
  return out;
}

/** Whether the set mentions `*` (the session must know the largest value in use). */
export function sequenceSetHasStar(set: SequenceSet): boolean {
  return set.ranges.some((r) => r.start === '*' || r.end === '*');
}

/** Largest explicit number in the set, ignoring `*` (to check sequence numbers exist). */
export function sequenceSetMaxNumber(set: SequenceSet): number {
  let max = 0;
  for (const r of set.ranges) {
    if (r.start !== '*') max = Math.max(max, r.start);
    if (r.end !== '*') max = Math.max(max, r.end);
  }
  return max;
}
