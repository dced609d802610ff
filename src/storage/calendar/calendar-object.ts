/**
 * Calendar object resources (RFC 4791 §4.1): parse and validate iCalendar text with ical.js,
 * and expand the recurrence set of its one UID into occurrences (RRULE, RDATE, EXDATE and
 * overriding RECURRENCE-ID components; time zones from the object's VTIMEZONEs, so DST
 * transitions land where they should). Floating times and dates are taken as UTC.
 */

import ICAL from 'ical.js';
import { CommuneError } from '../../core/errors.ts';

type Component = InstanceType<typeof ICAL.Component>;
type Time = InstanceType<typeof ICAL.Time>;

/** Why a calendar object is refused: the RFC 4791 §5.3.2.1 precondition name. */
export type CalendarCondition =
  | 'supported-calendar-data'
  | 'valid-calendar-data'
  | 'valid-calendar-object-resource'
  | 'supported-calendar-component'
  | 'max-resource-size'
  | 'max-instances'
  | 'min-date-time'
  | 'max-date-time';

export class CalendarDataError extends CommuneError {
  readonly condition: CalendarCondition;

  constructor(condition: CalendarCondition, message: string) {
    super('invalid-argument', message);
    this.name = 'CalendarDataError';
    this.condition = condition;
  }
}

export const OBJECT_COMPONENTS = ['VEVENT', 'VTODO', 'VJOURNAL', 'VFREEBUSY'] as const;

/** The earliest and latest instants we represent (ms): "unbounded". */
export const MIN_MS = -8.64e15;
export const MAX_MS = 8.64e15;

/** Free-busy type of an occurrence: 0 busy, 1 tentative, 2 unavailable, 3 free. */
export type BusyType = 0 | 1 | 2 | 3;

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

export interface ParsedCalendar {
  readonly root: Component;
  readonly uid: string;
  /** VEVENT, VTODO, VJOURNAL or VFREEBUSY. */
  readonly component: string;
}

/** Parse iCalendar text; CalendarDataError valid-calendar-data when it is not iCalendar. */
export function parseICalendar(text: string): Component {
  if (!/^\s*BEGIN:VCALENDAR\r?\n/i.test(text.replace(/^\uFEFF/, ''))) {
    throw new CalendarDataError('valid-calendar-data', 'not an iCalendar object');
  }
  let parsed: unknown;
  try {
    parsed = ICAL.parse(text);
  } catch (err) {
    throw new CalendarDataError('valid-calendar-data', `malformed iCalendar: ${message(err)}`);
  }
  if (!Array.isArray(parsed) || parsed.length === 0 || typeof parsed[0] !== 'string') {
    throw new CalendarDataError('valid-calendar-data', 'expected exactly one VCALENDAR');
  }
  const root = new ICAL.Component(parsed as unknown[]);
  if (root.name !== 'vcalendar') {
    throw new CalendarDataError('valid-calendar-data', 'expected a VCALENDAR');
  }
  return root;
}

/**
 * Validate a calendar object resource: one VCALENDAR without METHOD, components of one type
 * sharing one UID, at most one without RECURRENCE-ID, values that parse, a component type the
 * collection supports and no more instances than allowed.
 */
export function validateCalendarObject(
  text: string,
  allowed: readonly string[],
  maxInstances: number,
): ParsedCalendar {
  const root = parseICalendar(text);
  if (root.getFirstProperty('method')) {
    throw new CalendarDataError('valid-calendar-object-resource', 'METHOD is not allowed here');
  }
  const items = root.getAllSubcomponents().filter((c) => c.name !== 'vtimezone');
  if (items.length === 0) {
    throw new CalendarDataError('valid-calendar-object-resource', 'no calendar component');
  }
  const type = (items[0] as Component).name.toUpperCase();
  if (!(OBJECT_COMPONENTS as readonly string[]).includes(type)) {
    throw new CalendarDataError('valid-calendar-object-resource', `unknown component ${type}`);
  }
  let uid: string | undefined;
  let masters = 0;
  const overrides = new Set<string>();
  for (const item of items) {
    if (item.name.toUpperCase() !== type) {
      throw new CalendarDataError(
        'valid-calendar-object-resource',
        'a calendar object holds one component type',
      );
    }
    const u = item.getFirstPropertyValue('uid');
    if (typeof u !== 'string' || u === '') {
      throw new CalendarDataError('valid-calendar-object-resource', 'UID is required');
    }
    if (uid !== undefined && u !== uid) {
      throw new CalendarDataError('valid-calendar-object-resource', 'one UID per resource');
    }
    uid = u;
    checkValues(item);
    const rid = item.getFirstPropertyValue('recurrence-id');
    if (rid) {
      const key = String(rid);
      if (overrides.has(key)) {
        throw new CalendarDataError('valid-calendar-object-resource', 'duplicate RECURRENCE-ID');
      }
      overrides.add(key);
    } else masters++;
  }
  if (masters > 1) {
    throw new CalendarDataError(
      'valid-calendar-object-resource',
      'more than one component without RECURRENCE-ID',
    );
  }
  if (type === 'VEVENT') {
    for (const item of items) {
      if (!item.getFirstProperty('dtstart')) {
        throw new CalendarDataError('valid-calendar-object-resource', 'VEVENT needs DTSTART');
      }
    }
  }
  if (!allowed.includes(type)) {
    throw new CalendarDataError('supported-calendar-component', `${type} is not supported here`);
  }
  for (const item of items) {
    for (const p of item.getAllProperties('rrule')) {
      const rule = p.getFirstValue() as InstanceType<typeof ICAL.Recur>;
      if (typeof rule.count === 'number' && rule.count > maxInstances) {
        throw new CalendarDataError('max-instances', 'the rule has too many instances');
      }
    }
  }
  return { root, uid: uid as string, component: type };
}

/** Touch every date, duration and rule value so that malformed ones fail now. */
function checkValues(item: Component): void {
  for (const name of ['dtstart', 'dtend', 'due', 'recurrence-id', 'completed', 'created']) {
    const prop = item.getFirstProperty(name);
    if (!prop) continue;
    try {
      const v = prop.getFirstValue() as Time;
      if (!Number.isFinite(v.toUnixTime()) || v.year < 1 || v.year > 9999) throw new Error(name);
    } catch (err) {
      throw new CalendarDataError('valid-calendar-data', `invalid ${name}: ${message(err)}`);
    }
  }
  try {
    for (const p of item.getAllProperties('rrule')) p.getFirstValue();
    for (const p of item.getAllProperties('duration')) p.getFirstValue();
    for (const name of ['rdate', 'exdate'])
      for (const p of item.getAllProperties(name)) p.getValues();
  } catch (err) {
    throw new CalendarDataError('valid-calendar-data', `invalid value: ${message(err)}`);
  }
  const start = item.getFirstPropertyValue('dtstart') as Time | null;
  const end = (item.getFirstPropertyValue('dtend') ??
    item.getFirstPropertyValue('due')) as Time | null;
  if (start && end && end.compare(start) < 0) {
    throw new CalendarDataError('valid-calendar-data', 'the end is before the start');
  }
}

function message(err: unknown): string {
  return err instanceof Error ? (err.message.split('\n')[0]?.slice(0, 200) ?? '') : String(err);
}

/** UTC ms of an iCalendar time (floating and dates as UTC). */
export function msOf(t: Time): number {
  return t.toUnixTime() * 1000;
}

function busyOf(item: Component): BusyType {
  const transp = String(item.getFirstPropertyValue('transp') ?? '').toUpperCase();
  const status = String(item.getFirstPropertyValue('status') ?? '').toUpperCase();
  if (transp === 'TRANSPARENT' || status === 'CANCELLED') return 3;
  if (status === 'TENTATIVE') return 1;
  return 0;
}

/** The interval of one component instance starting at `start` (RFC 4791 §9.9). */
function spanOf(item: Component, start: Time | null, end: Time | null): [number, number] {
  const kind = item.name;
  if (kind === 'vtodo') {
    const due = item.getFirstPropertyValue('due') as Time | null;
    const dur = item.getFirstPropertyValue('duration') as InstanceType<typeof ICAL.Duration> | null;
    if (start && dur) {
      const e = start.clone();
      e.addDuration(dur);
      return [msOf(start), msOf(e)];
    }
    if (start && due) return [msOf(start), Math.max(msOf(start), msOf(end ?? due))];
    if (start) return [msOf(start), msOf(start)];
    if (due) return [msOf(due), msOf(due)];
    const completed = item.getFirstPropertyValue('completed') as Time | null;
    const created = item.getFirstPropertyValue('created') as Time | null;
    if (completed && created) return [msOf(created), msOf(completed)];
    if (completed) return [msOf(completed), msOf(completed)];
    if (created) return [msOf(created), MAX_MS];
    return [MIN_MS, MAX_MS];
  }
  if (!start) return [MIN_MS, MAX_MS];
  const s = msOf(start);
  if (end) return [s, Math.max(s, msOf(end))];
  if (start.isDate) return [s, s + 86_400_000];
  return [s, s];
}

/** Whether [start, end] overlaps the query range [from, to) (RFC 4791 §9.9). */
export function overlaps(start: number, end: number, from: number, to: number): boolean {
  if (start === end) return from <= start && to > start;
  return from < end && to > start;
}

export interface ExpandOptions {
  /** Stop after this many recurrence steps (protection against dense rules). */
  readonly maxSteps?: number;
  readonly onStep?: (o: Occurrence) => void;
  /** Called when expansion stopped at `to` with instances left beyond it. */
  readonly onTruncated?: () => void;
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
  const items = root.getAllSubcomponents().filter((c) => c.name !== 'vtimezone');
  const master = items.find((c) => !c.hasProperty('recurrence-id'));
  const overrides = items.filter((c) => c !== master);
  const out: Occurrence[] = [];
  const emit = (o: Occurrence): void => {
    options.onStep?.(o);
    if (overlaps(o.start, o.end, from, to)) out.push(o);
  };
  const recurring =
    master !== undefined &&
    (master.hasProperty('rrule') || master.hasProperty('rdate')) &&
    master.hasProperty('dtstart');
  if (!recurring) {
    for (const item of items) {
      const start = (item.getFirstPropertyValue('dtstart') as Time | null) ?? null;
      const end = endOf(item, start);
      const [s, e] = spanOf(item, start, end);
      const rid = item.getFirstPropertyValue('recurrence-id') as Time | null;
      emit({ start: s, end: e, busy: busyOf(item), item, recurrenceId: rid ?? undefined });
    }
    return out;
  }
  const event = new ICAL.Event(master, { strictExceptions: true, exceptions: overrides });
  const it = event.iterator();
  const maxSteps = options.maxSteps ?? Number.POSITIVE_INFINITY;
  // Overrides may move an instance earlier than its RECURRENCE-ID: scan at least past them.
  let lastOverride = MIN_MS;
  for (const o of overrides)
    lastOverride = Math.max(lastOverride, msOf(o.getFirstPropertyValue('recurrence-id') as Time));
  let steps = 0;
  for (let next = it.next(); next; next = it.next()) {
    if (++steps > maxSteps) {
      throw new CalendarDataError('max-instances', 'the rule has too many instances');
    }
    const rid = msOf(next);
    if (rid >= to && rid > lastOverride) {
      options.onTruncated?.();
      break;
    }
    const details = event.getOccurrenceDetails(next);
    const item = details.item.component;
    const [s, e] = spanOf(item, details.startDate, details.endDate);
    if (s >= to) continue;
    emit({ start: s, end: e, busy: busyOf(item), item, recurrenceId: details.recurrenceId });
  }
  out.sort((a, b) => a.start - b.start);
  return out;
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
