/**
 * The time zone floating times and dates are read in when a calendar is queried (RFC 4791
 * §9.9): the CALDAV:timezone element of the request (§9.8), else the calendar's
 * CALDAV:calendar-timezone property (§5.2.2), else UTC (undefined).
 */

import type { CollectionRecord } from '../../../storage/calendar/collection-store.ts';
import { timezoneOf, type Timezone } from '../../../storage/calendar/expand-occurrences.ts';
import { DavError } from '../dav-error.ts';
import { CALDAV_NS, childElement, clark, parseXml, textOf, type XmlElement } from '../xml.ts';

export const CALENDAR_TIMEZONE = clark(CALDAV_NS, 'calendar-timezone');

/** The zone of a calendar's calendar-timezone property; undefined when unset or unusable. */
export function calendarTimezone(record: CollectionRecord): Timezone | undefined {
  const serialized = record.props[CALENDAR_TIMEZONE];
  if (serialized === undefined) return undefined;
  try {
    return timezoneOf(textOf(parseXml(serialized)));
  } catch {
    return undefined;
  }
}

/**
 * The zone for a query on a calendar: the request's CALDAV:timezone (403
 * CALDAV:valid-calendar-data when it is not one VTIMEZONE), else the calendar's.
 */
export function queryTimezone(body: XmlElement, record: CollectionRecord): Timezone | undefined {
  const el = childElement(body, CALDAV_NS, 'timezone');
  if (!el) return calendarTimezone(record);
  try {
    return timezoneOf(textOf(el));
  } catch {
    throw DavError.forbidden('the timezone must be one VTIMEZONE in a VCALENDAR', {
      ns: CALDAV_NS,
      name: 'valid-calendar-data',
    });
  }
}
