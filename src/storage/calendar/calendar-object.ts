/**
 * Calendar object resources (RFC 4791 §4.1): parse and validate iCalendar text with ical.js
 * (the expansion of its recurrence set is in expand-occurrences.ts).
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
