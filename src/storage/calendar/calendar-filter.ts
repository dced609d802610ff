/**
 * calendar-query filters (RFC 4791 §9.7) as data, and their evaluation against a parsed
 * calendar object. Time ranges on recurring components test every instance of the
 * recurrence set (§9.9), overrides and EXDATEs included; floating times and dates are read in
 * the zone given (the query's or the calendar's time zone), else in UTC.
 */

import type ICAL from 'ical.js';
import { MAX_MS, MIN_MS } from './calendar-object.ts';
import { expandOccurrences, msOf, overlaps, type Timezone } from './expand-occurrences.ts';
import { matchText, type TextMatch } from './text-match.ts';

type Component = InstanceType<typeof ICAL.Component>;
type Property = InstanceType<typeof ICAL.Property>;
type Time = InstanceType<typeof ICAL.Time>;

/** [start, end) in UTC ms; an absent bound is unbounded. */
export interface TimeRange {
  readonly start: number;
  readonly end: number;
}

export interface ParamFilter {
  readonly name: string;
  readonly isNotDefined: boolean;
  readonly textMatch?: TextMatch;
}

export interface PropFilter {
  readonly name: string;
  readonly isNotDefined: boolean;
  readonly timeRange?: TimeRange;
  readonly textMatches: readonly TextMatch[];
  readonly params: readonly ParamFilter[];
  /** How text-matches and param-filters combine (CardDAV; CalDAV is allof). */
  readonly test: 'anyof' | 'allof';
}

export interface CompFilter {
  readonly name: string;
  readonly isNotDefined: boolean;
  readonly timeRange?: TimeRange;
  readonly props: readonly PropFilter[];
  readonly comps: readonly CompFilter[];
}

export const UNBOUNDED: TimeRange = { start: MIN_MS, end: MAX_MS };

/** The time range of the VEVENT/VTODO/VJOURNAL level of a filter, if it has one. */
export function objectTimeRange(filter: CompFilter): TimeRange | undefined {
  for (const c of filter.comps) if (c.timeRange && !c.isNotDefined) return c.timeRange;
  return undefined;
}

/** True when the filter is only VCALENDAR > one component with at most a time range. */
export function isSimpleFilter(filter: CompFilter): boolean {
  return (
    filter.props.length === 0 &&
    filter.comps.length <= 1 &&
    filter.comps.every((c) => !c.isNotDefined && c.props.length === 0 && c.comps.length === 0)
  );
}

/**
 * Evaluate a VCALENDAR comp-filter against the root of a calendar object; `floating` is the
 * zone of floating times and dates (RFC 4791 §9.9), UTC when undefined.
 */
export function matchCalendar(root: Component, filter: CompFilter, floating?: Timezone): boolean {
  if (filter.name.toLowerCase() !== root.name) return filter.isNotDefined;
  if (filter.isNotDefined) return false;
  return matchComponent(root, root, filter, floating);
}

function matchComponent(
  root: Component,
  comp: Component,
  filter: CompFilter,
  zone: Timezone | undefined,
): boolean {
  if (filter.timeRange && !componentInRange(root, comp, filter.timeRange, zone)) return false;
  for (const pf of filter.props) if (!matchProp(comp, pf, zone)) return false;
  for (const cf of filter.comps) {
    const subs = comp.getAllSubcomponents(cf.name.toLowerCase());
    if (cf.isNotDefined) {
      if (subs.length > 0) return false;
      continue;
    }
    if (!subs.some((s) => matchComponent(root, s, cf, zone))) return false;
  }
  return true;
}

function componentInRange(
  root: Component,
  comp: Component,
  range: TimeRange,
  zone: Timezone | undefined,
): boolean {
  const ms = (t: Time): number => msOf(t, zone);
  switch (comp.name) {
    case 'vevent':
    case 'vtodo':
    case 'vjournal':
      return expandOccurrences(root, range.start, range.end, { floating: zone }).some(
        (o) => o.item === comp,
      );
    case 'valarm':
      return alarmInRange(root, comp, range, zone);
    case 'vfreebusy': {
      const periods = comp.getAllProperties('freebusy').flatMap((p) => p.getValues());
      if (periods.length > 0) {
        return periods.some((p) => {
          const period = p as InstanceType<typeof ICAL.Period>;
          return overlaps(ms(period.start), ms(period.getEnd()), range.start, range.end);
        });
      }
      const s = comp.getFirstPropertyValue('dtstart') as Time | null;
      const e = comp.getFirstPropertyValue('dtend') as Time | null;
      return s !== null && e !== null && overlaps(ms(s), ms(e), range.start, range.end);
    }
    default:
      return true;
  }
}

/** An alarm matches when one of its triggers, over the parent's instances, is in range. */
function alarmInRange(
  root: Component,
  alarm: Component,
  range: TimeRange,
  zone: Timezone | undefined,
): boolean {
  const parent = alarm.parent;
  if (!parent) return false;
  const trigger = alarm.getFirstProperty('trigger');
  if (!trigger) return false;
  const value = trigger.getFirstValue() as Time | InstanceType<typeof ICAL.Duration>;
  if ('toUnixTime' in value) {
    const t = msOf(value, zone);
    return overlaps(t, t, range.start, range.end);
  }
  const related = String(trigger.getParameter('related') ?? 'START').toUpperCase();
  const offset = value.toSeconds() * 1000;
  // Any instance whose trigger could fall in the range (widen by the offset).
  const widen = Math.abs(offset) + 86_400_000;
  return expandOccurrences(root, range.start - widen, range.end + widen, { floating: zone })
    .filter((o) => o.item === parent)
    .some((o) => {
      const t = (related === 'END' ? o.end : o.start) + offset;
      return overlaps(t, t, range.start, range.end);
    });
}

/** Text forms of a property's values (structured values joined as sent). */
export function propertyTexts(prop: Property): string[] {
  return prop.getValues().map((v) => {
    if (Array.isArray(v)) return v.flat().join(';');
    return String(v);
  });
}

export function matchProp(comp: Component, filter: PropFilter, floating?: Timezone): boolean {
  const props = comp.getAllProperties(filter.name.toLowerCase());
  if (filter.isNotDefined) return props.length === 0;
  if (props.length === 0) return false;
  return props.some((p) => matchOneProp(p, filter, floating));
}

function matchOneProp(prop: Property, filter: PropFilter, zone: Timezone | undefined): boolean {
  if (filter.timeRange) {
    const v = prop.getFirstValue() as Time | null;
    if (!v || typeof v !== 'object' || !('toUnixTime' in v)) return false;
    const t = msOf(v, zone);
    if (!overlaps(t, t, filter.timeRange.start, filter.timeRange.end)) return false;
  }
  const tests: boolean[] = [];
  const texts = propertyTexts(prop);
  for (const tm of filter.textMatches) {
    tests.push(
      tm.negate ? texts.every((t) => matchText(tm, t)) : texts.some((t) => matchText(tm, t)),
    );
  }
  for (const pf of filter.params) tests.push(matchParam(prop, pf));
  if (tests.length === 0) return true;
  return filter.test === 'anyof' ? tests.some(Boolean) : tests.every(Boolean);
}

function matchParam(prop: Property, filter: ParamFilter): boolean {
  const raw = prop.getParameter(filter.name.toLowerCase()) as string | string[] | undefined;
  if (filter.isNotDefined) return raw === undefined;
  if (raw === undefined) return false;
  if (!filter.textMatch) return true;
  const values = (Array.isArray(raw) ? raw : [raw]).flatMap((v) => String(v).split(','));
  const tm = filter.textMatch;
  return tm.negate ? values.every((v) => matchText(tm, v)) : values.some((v) => matchText(tm, v));
}
