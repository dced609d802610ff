/**
 * The REPORT side shared by calendar-query and calendar-multiget (RFC 4791 §9.6): which
 * properties were asked for, how calendar-data is to be shaped (comp/prop selection, expand,
 * limit-recurrence-set), and the DAV:response for one calendar object.
 */

import type { Timezone } from '../../../storage/calendar/expand-occurrences.ts';
import {
  expandCalendar,
  limitRecurrenceSet,
  selectCalendarData,
  type CompSelection,
} from '../../../storage/calendar/calendar-data.ts';
import type { TimeRange } from '../../../storage/calendar/calendar-filter.ts';
import { parseICalendar } from '../../../storage/calendar/calendar-object.ts';
import { DavError } from '../dav-error.ts';
import type { DavNode } from '../dav-node.ts';
import type { DavRequest } from '../dav-request.ts';
import { addPropResult, type MultistatusWriter } from '../multistatus.ts';
import { propNames, resolveProperties } from '../properties.ts';
import {
  CALDAV_NS,
  DAV_NS,
  attribute,
  childElement,
  clark,
  clarkOf,
  elementsOf,
  type XmlElement,
} from '../xml.ts';
import { parseTimeRange } from './filter-xml.ts';

export const CALENDAR_DATA = clark(CALDAV_NS, 'calendar-data');

export interface CalendarDataRequest {
  /** Properties other than calendar-data. */
  readonly names: readonly string[];
  /** undefined when calendar-data was not asked for. */
  readonly data:
    | {
        readonly selection: CompSelection | undefined;
        readonly expand: TimeRange | undefined;
        readonly limit: TimeRange | undefined;
      }
    | undefined;
}

function parseSelection(el: XmlElement): CompSelection {
  const name = attribute(el, 'name');
  if (!name) throw DavError.badRequest('comp needs a name');
  const kids = elementsOf(el).filter((e) => e.ns === CALDAV_NS);
  const allprop = kids.some((e) => e.name === 'allprop');
  const allcomp = kids.some((e) => e.name === 'allcomp');
  const props = kids.filter((e) => e.name === 'prop').map((e) => attribute(e, 'name') ?? '');
  const comps = kids.filter((e) => e.name === 'comp').map(parseSelection);
  return {
    name,
    props: allprop || props.length === 0 ? undefined : props,
    comps: allcomp || comps.length === 0 ? undefined : comps,
  };
}

/** Parse the DAV:prop of a CalDAV report body. */
export function parseCalendarDataRequest(body: XmlElement): CalendarDataRequest {
  const prop = childElement(body, DAV_NS, 'prop');
  if (!prop) return { names: [], data: undefined };
  const names = propNames(prop).filter((n) => n !== CALENDAR_DATA);
  const el = elementsOf(prop).find((e) => clarkOf(e) === CALENDAR_DATA);
  if (!el) return { names, data: undefined };
  const type = attribute(el, 'content-type');
  if (
    (type !== undefined && type !== 'text/calendar') ||
    (attribute(el, 'version') ?? '2.0') !== '2.0'
  ) {
    throw DavError.forbidden('only text/calendar 2.0', {
      ns: CALDAV_NS,
      name: 'supported-calendar-data',
    });
  }
  const comp = childElement(el, CALDAV_NS, 'comp');
  const expand = childElement(el, CALDAV_NS, 'expand');
  const limit = childElement(el, CALDAV_NS, 'limit-recurrence-set');
  return {
    names,
    data: {
      selection: comp ? parseSelection(comp) : undefined,
      expand: expand ? parseTimeRange(expand, CALDAV_NS) : undefined,
      limit: limit ? parseTimeRange(limit, CALDAV_NS) : undefined,
    },
  };
}

/** The calendar-data text for a stored object, shaped as requested. */
export function shapeCalendarData(
  text: string,
  data: NonNullable<CalendarDataRequest['data']>,
  floating?: Timezone,
): string {
  if (!data.selection && !data.expand && !data.limit) return text;
  let root = parseICalendar(text);
  if (data.expand) root = parseICalendar(expandCalendar(root, data.expand, floating));
  else if (data.limit) root = parseICalendar(limitRecurrenceSet(root, data.limit, floating));
  return data.selection ? selectCalendarData(root, data.selection) : root.toString();
}

/** One DAV:response for a calendar object. */
export async function writeCalendarResponse(
  dr: DavRequest,
  out: MultistatusWriter,
  node: DavNode,
  request: CalendarDataRequest,
  text: string | undefined,
  readText: () => Promise<string>,
  floating?: Timezone,
): Promise<void> {
  const stats = await resolveProperties(dr, node, { kind: 'prop', names: request.names });
  if (request.data) {
    const content = shapeCalendarData(text ?? (await readText()), request.data, floating);
    addPropResult(stats, 200, { name: CALENDAR_DATA, content: { text: content } });
  }
  if (stats.size === 0) stats.set(200, []);
  out.response(node.path, stats);
}
