/**
 * calendar-query (RFC 4791 §7.8): the calendar objects of a calendar matching a filter, with
 * the requested properties and calendar-data. Time ranges are answered from the occurrence
 * index (see CalendarService.query); floating times are read in the query's or calendar's
 * time zone (query-timezone.ts).
 */

import { mapLimited } from '../../../core/map-limited.ts';
import type { CalendarService } from '../../../storage/calendar/calendar-service.ts';
import { matchCalendar } from '../../../storage/calendar/calendar-filter.ts';
import { parseICalendar } from '../../../storage/calendar/calendar-object.ts';
import { DavError } from '../dav-error.ts';
import type { DavReport } from '../dav-plugin.ts';
import { MultistatusWriter } from '../multistatus.ts';
import { CALDAV_NS, childElement, clark } from '../xml.ts';
import { parseCalendarDataRequest, writeCalendarResponse } from './calendar-data-request.ts';
import { isHomeDavNode, type CollectionHomeTree } from './collection-home-tree.ts';
import { parseCompFilter } from './filter-xml.ts';
import { queryTimezone } from './query-timezone.ts';

export function calendarQueryReport(
  tree: CollectionHomeTree,
  calendars: CalendarService,
): DavReport {
  return {
    name: clark(CALDAV_NS, 'calendar-query'),
    applies: (node) =>
      node.tree === tree && isHomeDavNode(node) && node.home.collection !== undefined,
    async run(dr, node, body) {
      const filterEl = childElement(body, CALDAV_NS, 'filter');
      const compEl = filterEl && childElement(filterEl, CALDAV_NS, 'comp-filter');
      if (!compEl) {
        throw DavError.forbidden('a filter with one comp-filter is required', {
          ns: CALDAV_NS,
          name: 'valid-filter',
        });
      }
      const filter = parseCompFilter(compEl, CALDAV_NS);
      if (filter.name.toUpperCase() !== 'VCALENDAR') {
        throw DavError.forbidden('the top comp-filter must name VCALENDAR', {
          ns: CALDAV_NS,
          name: 'valid-filter',
        });
      }
      const request = parseCalendarDataRequest(body);
      const { owner, collection } = tree.collectionOf(node);
      const floating = queryTimezone(body, collection.record);
      const out = new MultistatusWriter();
      const res = isHomeDavNode(node) ? node.home.resource : undefined;
      if (res) {
        // The report on one calendar object resource
        const text = await calendars.store.text(res);
        if (matchCalendar(parseICalendar(text), filter, floating)) {
          await writeCalendarResponse(dr, out, node, request, text, async () => text, floating);
        }
      } else {
        const matches = await calendars.query(owner.id, collection.name, filter, floating);
        // The contents, read side by side when calendar-data is asked for
        const texts = request.data
          ? await mapLimited(matches, 16, async (m) => m.text ?? calendars.store.text(m.resource))
          : [];
        for (const [i, m] of matches.entries()) {
          const member = tree.resourceNode(owner, collection, m.resource);
          const text = texts[i] ?? m.text;
          await writeCalendarResponse(
            dr,
            out,
            member,
            request,
            text,
            () => calendars.store.text(m.resource),
            floating,
          );
        }
      }
      dr.sendXml(207, out.finish());
    },
  };
}
