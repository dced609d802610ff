/**
 * The occurrences of a calendar object's recurrence set (RFC 5545 §3.8.5, RFC 4791 §9.9):
 * RRULE, RDATE, EXDATE and overriding RECURRENCE-ID components with ical.js, times in the
 * object's VTIMEZONEs (so DST transitions land where they should), and floating times and
 * dates evaluated in a given zone (the calendar's time zone, RFC 4791 §9.9) or else in UTC.
 *
 * The work is bounded: instances well before the range are stepped over without working out
 * their details, details are worked out only after the stepping, a rule whose frequency alone
 * puts too many instances in the range is refused before stepping, and stepping stops as soon
 * as a bound is passed (max-instances, RFC 4791 §5.2.8).
 */

import ICAL from 'ical.js';
import { CalendarDataError, MAX_MS, MIN_MS, type BusyType } from './calendar-object.ts';

type Component = InstanceType<typeof ICAL.Component>;
type Time = InstanceType<typeof ICAL.Time>;
type Recur = InstanceType<typeof ICAL.Recur>;
export type Timezone = InstanceType<typeof ICAL.Timezone>;

const DAY_MS = 86_400_000;
/** UTC offsets lie within ±14 h: how far a floating time can be from its UTC reading. */
export const FLOATING_SLACK_MS = 15 * 3_600_000;
/** Instances the DST changes of a few years can add to a sub-daily grid count. */
const DST_MARGIN = 16;
const SUB_DAILY_MS: Readonly<Record<string, number>> = {
  SECONDLY: 1000,
  MINUTELY: 60_000,
  HOURLY: 3_600_000,
};

/** One instance of a recurrence set. */
export interface Occurrence {
  /** UTC ms; start === end for an instant (RFC 4791 §9.9 zero-duration rules). */
  readonly start: number;
  readonly end: number;
  readonly busy: BusyType;
  /** The component that defines it (master or override). */
  readonly item: Component;
  /** RECURRENCE-ID of the instance (undefined when not recurring). */
  readonly recurrenceId: Time | undefined;
}

export interface ExpandOptions {
  /** Zone of floating times and dates (RFC 4791 §9.9); UTC when undefined. */
  readonly floating?: Timezone | undefined;
  /** Stop with max-instances after this many recurrence steps (dense rules). */
  readonly maxSteps?: number;
  /** Stop with max-instances when more instances than this start in [from, to). */
  readonly maxInWindow?: number;
  /** Called when expansion stopped at `to` with instances left beyond it. */
  readonly onTruncated?: () => void;
  /**
   * Earliest start and latest end of the instances stepped through (the latest end may be
   * over-estimated for instances whose details were skipped).
   */
  readonly onSpan?: (first: number, last: number) => void;
}

/** Whether a time is floating (no zone, RFC 5545 §3.3.5 form #1) or a date. */
export function isFloating(t: Time): boolean {
  const zone = t.zone as Timezone | undefined | null;
  return t.isDate || !zone || zone === ICAL.Timezone.localTimezone || zone.tzid === 'floating';
}

/** UTC ms of an iCalendar time; floating times and dates in `floating`, else UTC. */
export function msOf(t: Time, floating?: Timezone): number {
  const ms = t.toUnixTime() * 1000;
  if (floating === undefined || !isFloating(t)) return ms;
  return ms - floating.utcOffset(t) * 1000;
}

/**
 * The zone of a text/calendar object holding one VTIMEZONE (CALDAV:calendar-timezone, the
 * CALDAV:timezone element of a query); CalendarDataError valid-calendar-data otherwise.
 */
export function timezoneOf(text: string): Timezone {
  let vtimezone: Component | null;
  try {
    const root = new ICAL.Component(ICAL.parse(text) as unknown[]);
    vtimezone = root.name === 'vcalendar' ? root.getFirstSubcomponent('vtimezone') : null;
  } catch {
    vtimezone = null;
  }
  if (!vtimezone || !vtimezone.getFirstPropertyValue('tzid')) {
    throw new CalendarDataError('valid-calendar-data', 'expected one VTIMEZONE');
  }
  const zone = new ICAL.Timezone(vtimezone);
  try {
    zone.utcOffset(ICAL.Time.fromData({ year: 2000, month: 1, day: 1 }));
  } catch {
    throw new CalendarDataError('valid-calendar-data', 'unusable VTIMEZONE');
  }
  return zone;
}

const TIME_PROPERTIES = ['dtstart', 'dtend', 'due', 'recurrence-id', 'rdate', 'exdate'];

/** Whether any instance time of the object is floating or a date (depends on the zone). */
export function usesFloating(root: Component): boolean {
  for (const item of root.getAllSubcomponents()) {
    if (item.name === 'vtimezone') continue;
    for (const name of TIME_PROPERTIES) {
      for (const p of item.getAllProperties(name)) {
        for (const v of p.getValues()) {
          const t = (v instanceof ICAL.Period ? v.start : v) as Time;
          if (t instanceof ICAL.Time && isFloating(t)) return true;
        }
      }
    }
  }
  return false;
}

function busyOf(item: Component): BusyType {
  const transp = String(item.getFirstPropertyValue('transp') ?? '').toUpperCase();
  const status = String(item.getFirstPropertyValue('status') ?? '').toUpperCase();
  if (transp === 'TRANSPARENT' || status === 'CANCELLED') return 3;
  if (status === 'TENTATIVE') return 1;
  return 0;
}

/** The interval of one component instance starting at `start` (RFC 4791 §9.9). */
function spanOf(
  item: Component,
  start: Time | null,
  end: Time | null,
  zone: Timezone | undefined,
): [number, number] {
  const ms = (t: Time): number => msOf(t, zone);
  if (item.name === 'vtodo') {
    const due = item.getFirstPropertyValue('due') as Time | null;
    const dur = item.getFirstPropertyValue('duration') as InstanceType<typeof ICAL.Duration> | null;
    if (start && dur) {
      const e = start.clone();
      e.addDuration(dur);
      return [ms(start), ms(e)];
    }
    if (start && due) return [ms(start), Math.max(ms(start), ms(end ?? due))];
    if (start) return [ms(start), ms(start)];
    if (due) return [ms(due), ms(due)];
    const completed = item.getFirstPropertyValue('completed') as Time | null;
    const created = item.getFirstPropertyValue('created') as Time | null;
    if (completed && created) return [ms(created), ms(completed)];
    if (completed) return [ms(completed), ms(completed)];
    if (created) return [ms(created), MAX_MS];
    return [MIN_MS, MAX_MS];
  }
  if (!start) return [MIN_MS, MAX_MS];
  const s = ms(start);
  if (end) return [s, Math.max(s, ms(end))];
  if (start.isDate) {
    const e = start.clone();
    e.adjust(1, 0, 0, 0);
    return [s, ms(e)];
  }
  return [s, s];
}

/** Whether [start, end] overlaps the query range [from, to) (RFC 4791 §9.9). */
export function overlaps(start: number, end: number, from: number, to: number): boolean {
  if (start === end) return from <= start && to > start;
  return from < end && to > start;
}

function endOf(item: Component, start: Time | null): Time | null {
  const end = (item.getFirstPropertyValue('dtend') as Time | null) ?? null;
  if (end) return end;
  const dur = item.getFirstPropertyValue('duration') as InstanceType<typeof ICAL.Duration> | null;
  if (start && dur && item.name !== 'vtodo') {
    const e = start.clone();
    e.addDuration(dur);
    return e;
  }
  return null;
}

function countValues(item: Component, name: string): number {
  let n = 0;
  for (const p of item.getAllProperties(name)) n += p.getValues().length;
  return n;
}

/** BYxxx parts that add instances to each interval of a sub-daily rule (RFC 5545 §3.3.10). */
const EXPANDING: Readonly<Record<string, readonly string[]>> = {
  SECONDLY: [],
  MINUTELY: ['BYSECOND'],
  HOURLY: ['BYSECOND', 'BYMINUTE'],
};

/** Instances per interval of a sub-daily rule, or undefined when a part may thin them out. */
function multiplicity(rule: Recur): number | undefined {
  let n = 1;
  for (const [part, values] of Object.entries(rule.parts ?? {})) {
    if (!(EXPANDING[rule.freq] ?? []).includes(part)) return undefined;
    n *= new Set(values as unknown[]).size;
  }
  return n;
}

/**
 * True when a sub-daily rule without limiting BYxxx parts puts more than `max` instances in
 * [from, to) on its own: counted from its grid, less every EXDATE and override that could
 * remove one, less a margin for DST changes. Never true for an acceptable object.
 */
function tooDense(
  master: Component,
  removable: number,
  from: number,
  to: number,
  max: number,
  zone: Timezone | undefined,
): boolean {
  const dtstart = master.getFirstPropertyValue('dtstart') as Time;
  const start = msOf(dtstart, zone);
  for (const p of master.getAllProperties('rrule')) {
    const rule = p.getFirstValue() as Recur;
    const unit = SUB_DAILY_MS[rule.freq];
    const each = multiplicity(rule);
    // A COUNT is checked against max-instances on its own
    if (unit === undefined || each === undefined || typeof rule.count === 'number') continue;
    const step = unit * Math.max(1, rule.interval || 1);
    let end = to;
    if (rule.until) end = Math.min(end, msOf(rule.until, zone));
    const first = Math.max(from, start);
    if (end <= first) continue;
    const grid = Math.floor((end - first) / step) - 1;
    if (grid * each - removable - DST_MARGIN * each > max) return true;
  }
  return false;
}

function earliestRdate(master: Component, zone: Timezone | undefined): number {
  let min = MAX_MS;
  for (const p of master.getAllProperties('rdate')) {
    for (const v of p.getValues()) {
      const t = (v instanceof ICAL.Period ? v.start : v) as Time;
      if (t instanceof ICAL.Time) min = Math.min(min, msOf(t, zone));
    }
  }
  return min;
}

/** Frequencies whose grid is DTSTART plus whole intervals of a fixed wall-clock length. */
const GRID_SECONDS: Readonly<Record<string, number>> = {
  SECONDLY: 1,
  MINUTELY: 60,
  HOURLY: 3600,
  DAILY: 86_400,
  WEEKLY: 7 * 86_400,
};

/**
 * Where to start stepping a rule without COUNT so that it reaches `target` soon: DTSTART
 * moved forward on the wall clock by whole intervals, which keeps the rule's grid (RFC 5545
 * §3.3.10: up to weekly, the candidates are DTSTART plus multiples of the interval, then
 * expanded and limited by the BYxxx parts, weeks aligned as DTSTART's). `candidates` is how
 * many grid points the stepping from there to `to` visits (ical.js visits each, whatever the
 * BYxxx parts let through). Undefined for monthly and yearly rules and rules with a COUNT.
 */
function fastForward(
  master: Component,
  target: number,
  to: number,
  zone: Timezone | undefined,
): { start: Time; candidates: number } | undefined {
  const rules = master.getAllProperties('rrule');
  if (rules.length !== 1) return undefined;
  const rule = rules[0]?.getFirstValue() as Recur;
  const unit = GRID_SECONDS[rule.freq];
  if (unit === undefined || typeof rule.count === 'number') return undefined;
  const dtstart = master.getFirstPropertyValue('dtstart') as Time;
  const interval = Math.max(1, rule.interval || 1);
  const step = unit * interval * 1000;
  const begin = msOf(dtstart, zone);
  const end = rule.until ? Math.min(to, msOf(rule.until, zone)) : to;
  // A rule ending before the target: still step through its last instances (its span).
  // Wall-clock steps may be an hour off the UTC ones (DST): one step of margin.
  const k = Math.floor((Math.min(target, end - 2 * DAY_MS) - begin) / step) - 1;
  const start = dtstart.clone();
  if (k > 0) {
    if (unit >= 86_400) start.adjust((k * interval * unit) / 86_400, 0, 0, 0);
    else start.adjust(0, 0, 0, k * interval * unit);
  }
  return { start, candidates: Math.max(0, (end - msOf(start, zone)) / step) };
}

/**
 * The occurrences of the object's recurrence set that overlap [from, to), in start order.
 * Non-recurring components give one occurrence each.
 */
export function expandOccurrences(
  root: Component,
  from: number,
  to: number,
  options: ExpandOptions = {},
): Occurrence[] {
  const zone = options.floating;
  const items = root.getAllSubcomponents().filter((c) => c.name !== 'vtimezone');
  const master = items.find((c) => !c.hasProperty('recurrence-id'));
  const overrides = items.filter((c) => c !== master);
  const out: Occurrence[] = [];
  let first = MAX_MS;
  let last = MIN_MS;
  const emit = (o: Occurrence): void => {
    first = Math.min(first, o.start);
    last = Math.max(last, o.end);
    if (overlaps(o.start, o.end, from, to)) out.push(o);
  };
  const recurring =
    master !== undefined &&
    (master.hasProperty('rrule') || master.hasProperty('rdate')) &&
    master.hasProperty('dtstart');
  if (!recurring) {
    for (const item of items) {
      const start = (item.getFirstPropertyValue('dtstart') as Time | null) ?? null;
      const [s, e] = spanOf(item, start, endOf(item, start), zone);
      const rid = item.getFirstPropertyValue('recurrence-id') as Time | null;
      emit({ start: s, end: e, busy: busyOf(item), item, recurrenceId: rid ?? undefined });
    }
    options.onSpan?.(first === MAX_MS ? MIN_MS : first, last);
    return out;
  }
  if (
    options.maxInWindow !== undefined &&
    tooDense(
      master,
      countValues(master, 'exdate') + overrides.length,
      from,
      to,
      options.maxInWindow,
      zone,
    )
  ) {
    throw new CalendarDataError('max-instances', 'the rule has too many instances');
  }
  const event = new ICAL.Event(master, { strictExceptions: true, exceptions: overrides });
  const masterStart = master.getFirstPropertyValue('dtstart') as Time;
  const [ms0, me0] = spanOf(master, masterStart, endOf(master, masterStart), zone);
  const slack = Math.max(0, me0 - ms0) + 2 * DAY_MS;
  const canSkip = event.rangeExceptions.length === 0;
  // Overrides may move an instance earlier than its RECURRENCE-ID: scan at least past them;
  // and an overridden instance needs its details wherever it is.
  let firstOverride = MAX_MS;
  let lastOverride = MIN_MS;
  const overridden = new Set<number>();
  for (const o of overrides) {
    const rid = msOf(o.getFirstPropertyValue('recurrence-id') as Time, zone);
    overridden.add(rid);
    firstOverride = Math.min(firstOverride, rid);
    lastOverride = Math.max(lastOverride, rid);
  }
  const target = Math.min(from - slack, firstOverride) - 2 * DAY_MS;
  const resume = canSkip ? fastForward(master, target, to, zone) : undefined;
  if (resume && options.maxSteps !== undefined && resume.candidates > options.maxSteps) {
    throw new CalendarDataError('max-instances', 'the rule has too many instances');
  }
  const it = event.iterator(resume?.start);
  const maxSteps = options.maxSteps ?? Number.POSITIVE_INFINITY;
  const maxInWindow = options.maxInWindow ?? Number.POSITIVE_INFINITY;
  // 1. Step through the recurrence ids; keep those whose details matter
  const pending: [Time, number][] = [];
  let skippedFirst = resume ? Math.min(ms0, earliestRdate(master, zone)) : MAX_MS;
  let skippedLast = MIN_MS;
  let steps = 0;
  let inWindow = 0;
  for (let next = it.next(); next; next = it.next()) {
    if (++steps > maxSteps) {
      throw new CalendarDataError('max-instances', 'the rule has too many instances');
    }
    const rid = msOf(next, zone);
    if (rid >= to && rid > lastOverride) {
      options.onTruncated?.();
      break;
    }
    // ical.js matches an override by its local or its UTC form: so do we
    const moved =
      overridden.has(rid) || (overridden.size > 0 && next.toString() in event.exceptions);
    if (!moved && rid >= from && rid < to && ++inWindow > maxInWindow) {
      throw new CalendarDataError('max-instances', 'the rule has too many instances');
    }
    if (canSkip && !moved && rid + slack < from) {
      skippedFirst = Math.min(skippedFirst, rid);
      skippedLast = Math.max(skippedLast, rid);
      continue;
    }
    pending.push([next, moved ? Number.NaN : rid]);
  }
  // 2. The details of the instances that may overlap the range: the master's instances
  // from their start and the master's duration (as ical.js does), overrides from ical.js
  const duration = master.name === 'vevent' && canSkip ? event.duration : undefined;
  // In UTC (or floating read as UTC) every instance lasts as long as the first
  const utc = isFloating(masterStart)
    ? zone === undefined
    : masterStart.zone === ICAL.Timezone.utcTimezone;
  let fixed: number | undefined;
  if (duration && utc) {
    const e = masterStart.clone();
    e.addDuration(duration);
    fixed = Math.max(0, msOf(e, zone) - msOf(masterStart, zone));
  }
  const busy = busyOf(master);
  for (const [next, rid] of pending) {
    if (duration && !Number.isNaN(rid)) {
      let end = rid + (fixed ?? 0);
      if (fixed === undefined) {
        const e = next.clone();
        e.addDuration(duration);
        end = Math.max(rid, msOf(e, zone));
      }
      emit({ start: rid, end, busy, item: master, recurrenceId: next });
      continue;
    }
    const details = event.getOccurrenceDetails(next);
    const item = details.item.component;
    const [s, e] = spanOf(item, details.startDate, details.endDate, zone);
    emit({ start: s, end: e, busy: busyOf(item), item, recurrenceId: details.recurrenceId });
  }
  if (skippedFirst !== MAX_MS) {
    first = Math.min(first, skippedFirst);
    last = Math.max(last, skippedLast + slack);
  }
  options.onSpan?.(first === MAX_MS ? MIN_MS : first, last);
  out.sort((a, b) => a.start - b.start);
  return out;
}
