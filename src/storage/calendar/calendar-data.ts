/**
 * Shaping returned calendar data (RFC 4791 §9.6): expand a recurrence set into its instances
 * in UTC (§9.6.5), limit it to the components that affect a range (§9.6.6), and keep only
 * requested components and properties (§9.6.1 comp/prop).
 */

import ICAL from 'ical.js';
import { expandOccurrences, isFloating, msOf } from './expand-occurrences.ts';
import type { Timezone } from './expand-occurrences.ts';
import type { TimeRange } from './calendar-filter.ts';

type Component = InstanceType<typeof ICAL.Component>;
type Time = InstanceType<typeof ICAL.Time>;

/** A comp element of calendar-data: which properties and subcomponents to return. */
export interface CompSelection {
  readonly name: string;
  /** undefined = every property. */
  readonly props: readonly string[] | undefined;
  /** undefined = every subcomponent. */
  readonly comps: readonly CompSelection[] | undefined;
}

function utcTime(ms: number, asDate: boolean): Time {
  const d = new Date(ms);
  if (asDate) {
    return ICAL.Time.fromData({
      year: d.getUTCFullYear(),
      month: d.getUTCMonth() + 1,
      day: d.getUTCDate(),
      isDate: true,
    });
  }
  return ICAL.Time.fromJSDate(d, true);
}

function setTime(comp: Component, name: string, value: Time): void {
  comp.removeAllProperties(name);
  comp.addPropertyWithValue(name, value);
}

function shell(root: Component): Component {
  const out = new ICAL.Component('vcalendar');
  for (const p of root.getAllProperties())
    out.addProperty(new ICAL.Property(p.toJSON() as unknown[]));
  return out;
}

/**
 * The instances of the object overlapping the range as separate components with
 * RECURRENCE-ID, in UTC, without VTIMEZONE and recurrence rules (RFC 4791 §9.6.5).
 */
export function expandCalendar(root: Component, range: TimeRange, floating?: Timezone): string {
  const out = shell(root);
  for (const o of expandOccurrences(root, range.start, range.end, { floating })) {
    const inst = new ICAL.Component(JSON.parse(JSON.stringify(o.item.toJSON())) as unknown[]);
    const start = o.item.getFirstPropertyValue('dtstart') as Time | null;
    const asDate = start?.isDate ?? false;
    for (const name of ['rrule', 'rdate', 'exdate', 'exrule']) inst.removeAllProperties(name);
    if (start) setTime(inst, 'dtstart', utcTime(o.start, asDate));
    if (inst.hasProperty('dtend')) setTime(inst, 'dtend', utcTime(o.end, asDate));
    if (inst.hasProperty('due') && !start) setTime(inst, 'due', utcTime(o.end, asDate));
    if (o.recurrenceId && (o.item.hasProperty('recurrence-id') || isRecurring(root))) {
      const rid = o.recurrenceId.clone();
      // A floating RECURRENCE-ID is read in the zone, like the instance's times.
      setTime(
        inst,
        'recurrence-id',
        rid.isDate
          ? rid
          : floating !== undefined && isFloating(rid)
            ? utcTime(msOf(rid, floating), false)
            : rid.convertToZone(ICAL.Timezone.utcTimezone),
      );
    }
    out.addSubcomponent(inst);
  }
  return out.toString();
}

function isRecurring(root: Component): boolean {
  return root.getAllSubcomponents().some((c) => c.hasProperty('rrule') || c.hasProperty('rdate'));
}

/**
 * The master component and only those overrides that affect the range (RFC 4791 §9.6.6).
 */
export function limitRecurrenceSet(root: Component, range: TimeRange, floating?: Timezone): string {
  const affecting = new Set(
    expandOccurrences(root, range.start, range.end, { floating }).map((o) => o.item),
  );
  const out = shell(root);
  for (const c of root.getAllSubcomponents()) {
    if (c.name !== 'vtimezone' && c.hasProperty('recurrence-id') && !affecting.has(c)) continue;
    out.addSubcomponent(new ICAL.Component(c.toJSON() as unknown[]));
  }
  return out.toString();
}

/** Only the selected components and properties (RFC 4791 §9.6.1). */
export function selectCalendarData(root: Component, selection: CompSelection): string {
  return select(root, selection).toString();
}

function select(comp: Component, sel: CompSelection): Component {
  const out = new ICAL.Component(comp.name);
  const props = sel.props?.map((p) => p.toLowerCase());
  for (const p of comp.getAllProperties()) {
    if (props === undefined || props.includes(p.name)) {
      out.addProperty(new ICAL.Property(p.toJSON() as unknown[]));
    }
  }
  for (const c of comp.getAllSubcomponents()) {
    if (sel.comps === undefined) {
      out.addSubcomponent(new ICAL.Component(c.toJSON() as unknown[]));
      continue;
    }
    const s = sel.comps.find((x) => x.name.toLowerCase() === c.name);
    if (s) out.addSubcomponent(select(c, s));
  }
  return out;
}
