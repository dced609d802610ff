/**
 * The occurrence index of a calendar object: its expanded instances inside a bounded window
 * around "now", plus the overall span of the recurrence set, so time-range queries
 * (RFC 4791 §9.9) and free-busy (§7.10) read small records instead of parsing every object.
 * A query reaching outside the window falls back to expanding the object itself, which is
 * how open-ended rules are recomputed as time moves on.
 */

import type ICAL from 'ical.js';
import { CalendarDataError, MAX_MS, MIN_MS, type BusyType } from './calendar-object.ts';
import { expandOccurrences, overlaps, usesFloating } from './expand-occurrences.ts';

type Component = InstanceType<typeof ICAL.Component>;

export interface OccurrenceIndex {
  /** Window [from, to) in which `occ` lists every instance (UTC ms). */
  readonly from: number;
  readonly to: number;
  /** Earliest start and latest end of the whole set (MAX_MS when open-ended). */
  readonly span: readonly [number, number];
  /** Instances overlapping the window: [start, end, busy type]. */
  readonly occ: readonly (readonly [number, number, BusyType])[];
  /**
   * 1 when some instance time is floating or a date: the figures above read those in UTC,
   * and a calendar with its own time zone must expand the object (RFC 4791 §9.9). Absent
   * in indexes written before this was kept: treated as 1.
   */
  readonly f?: 0 | 1;
}

export interface IndexWindow {
  readonly now: number;
  /** How far back and ahead of now the index lists instances (ms). */
  readonly back: number;
  readonly ahead: number;
  /** Most instances allowed inside the window (RFC 4791 §5.2.8 max-instances). */
  readonly maxInstances: number;
}

/**
 * Build the index (floating times read in UTC); CalendarDataError max-instances when the
 * window holds too many instances or the rule takes too many steps to get through it.
 */
export function buildOccurrenceIndex(root: Component, window: IndexWindow): OccurrenceIndex {
  const from = window.now - window.back;
  const to = window.now + window.ahead;
  let span: [number, number] = [MIN_MS, MAX_MS];
  let truncated = false;
  const occurrences = expandOccurrences(root, from, to, {
    maxSteps: window.maxInstances * 20,
    maxInWindow: window.maxInstances,
    onTruncated: () => {
      truncated = true;
    },
    onSpan: (first, last) => {
      span = [first, last];
    },
  });
  if (occurrences.length > window.maxInstances) {
    throw new CalendarDataError('max-instances', 'the rule has too many instances');
  }
  return {
    from,
    to,
    span: [span[0], truncated ? MAX_MS : span[1]],
    occ: occurrences.map((o) => [o.start, o.end, o.busy] as const),
    f: usesFloating(root) ? 1 : 0,
  };
}

/**
 * Whether the index answers a time-range test on its own: true/false, or undefined when the
 * range leaves the window and the object must be expanded.
 */
export function indexOverlaps(
  index: OccurrenceIndex,
  from: number,
  to: number,
): boolean | undefined {
  const [s, e] = index.span;
  if (!(from <= e && to > s)) return false;
  if (from >= index.from && to <= index.to) {
    return index.occ.some(([os, oe]) => overlaps(os, oe, from, to));
  }
  return undefined;
}
