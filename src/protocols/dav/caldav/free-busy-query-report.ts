/**
 * free-busy-query (RFC 4791 §7.10): the busy time of a calendar in a range as one VFREEBUSY
 * (200 text/calendar), from the occurrence index. Transparent and cancelled events are free.
 */

import type { CalendarService } from '../../../storage/calendar/calendar-service.ts';
import { DavError } from '../dav-error.ts';
import type { DavReport } from '../dav-plugin.ts';
import { CALDAV_NS, childElement, clark } from '../xml.ts';
import { isHomeDavNode, type CollectionHomeTree } from './collection-home-tree.ts';
import { parseTimeRange } from './filter-xml.ts';
import { calendarTimezone } from './query-timezone.ts';

function utc(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

const FBTYPE = ['BUSY', 'BUSY-TENTATIVE', 'BUSY-UNAVAILABLE', 'FREE'] as const;

export function freeBusyQueryReport(
  tree: CollectionHomeTree,
  calendars: CalendarService,
): DavReport {
  return {
    name: clark(CALDAV_NS, 'free-busy-query'),
    applies: (node) =>
      node.tree === tree &&
      isHomeDavNode(node) &&
      node.home.collection !== undefined &&
      node.collection,
    async run(dr, node, body) {
      const el = childElement(body, CALDAV_NS, 'time-range');
      if (!el) throw DavError.badRequest('free-busy-query needs a time-range');
      const range = parseTimeRange(el, CALDAV_NS);
      const { owner, collection } = tree.collectionOf(node);
      const periods = await calendars.freeBusy(
        owner.id,
        collection.name,
        range,
        calendarTimezone(collection.record),
      );
      const lines = [
        'BEGIN:VCALENDAR',
        'VERSION:2.0',
        'PRODID:-//Commune//CalDAV//EN',
        'BEGIN:VFREEBUSY',
        `DTSTAMP:${utc(Date.now())}`,
        `DTSTART:${utc(Math.max(range.start, 0))}`,
        `DTEND:${utc(Math.min(range.end, 253402300799000))}`,
        ...periods.map((p) => {
          const type = FBTYPE[p.busy];
          return `FREEBUSY${type === 'BUSY' ? '' : `;FBTYPE=${type}`}:${utc(p.start)}/${utc(p.end)}`;
        }),
        'END:VFREEBUSY',
        'END:VCALENDAR',
        '',
      ];
      dr.send(200, { 'content-type': 'text/calendar; charset=utf-8' }, lines.join('\r\n'));
    },
  };
}
