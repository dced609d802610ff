/**
 * The occurrence index of a calendar object: its expanded instances inside a bounded window
 * around "now", plus the overall span of the recurrence set, so time-range queries
 * (RFC 4791 §9.9) and free-busy (§7.10) read small records instead of parsing every object.
 * A query reaching outside the window falls back to expanding the object itself, which is
 * how open-ended rules are recomputed as time moves on.
 */

import type ICAL from 'ical.js';
import {
  CalendarDataError,
  MAX_MS,
  MIN_MS,
  expandOccurrences,
  overlaps,
  type BusyType,
} from './calendar-object.ts';

type Component = InstanceType<typeof ICAL.Component>;

export interface OccurrenceIndex {
  /** Window [from, to) in which `occ` lists every instance (UTC ms). */
  readonly from: number;
  readonly to: number;
  /** Earliest start and latest end of the whole set (MAX_MS when open-ended). */
  readonly span: readonly [number, number];
  /** Instances overlapping the window: [start, end, busy type]. */
  readonly occ: readonly (readonly [number, number, BusyType])[];
}

export interface IndexWindow {
  readonly now: number;
  /** How far back and ahead of now the index lists instances (ms). */
  readonly back: number;
  readonly ahead: number;
  /** Most instances allowed inside the window (RFC 4791 §5.2.8 max-instances). */
  readonly maxInstances: number;
}

/** Build the index; CalendarDataError max-instances when the window holds too many. */
export function buildOccurrenceIndex(root: Component, window: IndexWindow): OccurrenceIndex {
  const from = window.now - window.back;
  const to = window.now + window.ahead;
  const occ: [number, number, BusyType][] = [];
  let first = MAX_MS;
  let last = MIN_MS;
  let truncated = false;
  expandOccurrences(root, MIN_MS, to, {
    maxSteps: window.maxInstances * 20,
    onStep: (o) => {
      first = Math.min(first, o.start);
      last = Math.max(last, o.end);
      if (o.start < to && (o.end >= from || o.start >= from)) {
        if (occ.length >= window.maxInstances) {
          throw new CalendarDataError('max-instances', 'the rule has too many instances');
        }
        occ.push([o.start, o.end, o.busy]);
      }
    },
    onTruncated: () => {
      truncated = true;
    },
  });
  if (first === MAX_MS) first = MIN_MS;
  return { from, to, span: [first, truncated ? MAX_MS : last], occ };
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
