/**
 * CalDAV (RFC 4791) on the DAV core: the `/dav/calendars/` tree of calendar homes, MKCALENDAR,
 * the calendar collection properties, calendar-query, calendar-multiget and free-busy-query.
 * sync-token, getctag and sync-collection come from the sync plugin (the tree is a SyncTree).
 */

import type { CalendarService } from '../../../storage/calendar/calendar-service.ts';
import { DEFAULT_COMPONENTS } from '../../../storage/calendar/calendar-service.ts';
import type { Directory } from '../../../storage/directory/directory.ts';
import type { DavNode } from '../dav-node.ts';
import { liveProperty, type DavPlugin } from '../dav-plugin.ts';
import { CALDAV_NS, clark, elementsOf, attribute, parseXml } from '../xml.ts';
import {
  CALENDAR_DATA,
  parseCalendarDataRequest,
  shapeCalendarData,
  writeCalendarResponse,
} from './calendar-data-request.ts';
import { multigetReport } from './calendar-multiget-report.ts';
import { calendarQueryReport } from './calendar-query-report.ts';
import { CollectionHomeTree, isHomeDavNode } from './collection-home-tree.ts';
import { freeBusyQueryReport } from './free-busy-query-report.ts';
import { calendarTimezone } from './query-timezone.ts';
import { CALENDAR_TYPE, mkcalendarMethod } from './mkcalendar-method.ts';

export const CALENDARS_ROOT = '/dav/calendars/';
const COMPONENT_SET = clark(CALDAV_NS, 'supported-calendar-component-set');

/** Component names of a serialized supported-calendar-component-set element. */
function componentsOf(serialized: string | undefined): string[] {
  if (serialized === undefined) return [];
  return elementsOf(parseXml(serialized))
    .filter((e) => e.ns === CALDAV_NS && e.name === 'comp')
    .map((e) => (attribute(e, 'name') ?? '').toUpperCase())
    .filter((n) => ['VEVENT', 'VTODO', 'VJOURNAL', 'VFREEBUSY'].includes(n));
}

export function caldavPlugin(options: {
  calendars: CalendarService;
  directory: Directory;
}): DavPlugin {
  const { calendars } = options;
  const tree = new CollectionHomeTree(
    {
      name: 'calendars',
      root: CALENDARS_ROOT,
      store: calendars.store,
      ns: CALDAV_NS,
      collectionType: CALENDAR_TYPE,
      maxResourceSize: calendars.limits.maxResourceSize,
      ensureHome: (account) => calendars.ensureHome(account),
      async create(account, name, { properties }) {
        const props = new Map(properties);
        const components = componentsOf(props.get(COMPONENT_SET));
        props.delete(COMPONENT_SET);
        await calendars.createCalendar(account, name, props, components);
      },
      put: (account, collection, name, text, opts) =>
        calendars.put(account, collection, name, text, opts),
    },
    options.directory,
  );
  const isCalendar = (node: DavNode): boolean =>
    isHomeDavNode(node) &&
    node.tree === tree &&
    node.collection &&
    node.home.collection !== undefined;
  const isObject = (node: DavNode): boolean =>
    isHomeDavNode(node) && node.tree === tree && node.home.resource !== undefined;
  const text = (value: string) => async () => ({ text: value });
  return {
    name: 'caldav',
    compliance: ['calendar-access'],
    trees: [tree],
    methods: [mkcalendarMethod],
    reports: [
      calendarQueryReport(tree, calendars),
      multigetReport(CALDAV_NS, 'calendar-multiget', tree, (body) => {
        const request = parseCalendarDataRequest(body);
        return (dr, out, node, read) => {
          const record = isHomeDavNode(node) ? node.home.collection?.record : undefined;
          const floating = record === undefined ? undefined : calendarTimezone(record);
          return writeCalendarResponse(dr, out, node, request, undefined, read, floating);
        };
      }),
      freeBusyQueryReport(tree, calendars),
    ],
    properties: [
      liveProperty(
        COMPONENT_SET,
        async (_dr, node) => {
          const comps =
            (isHomeDavNode(node) && node.home.collection?.record.components) || DEFAULT_COMPONENTS;
          return {
            write: (w) =>
              comps.forEach((c) =>
                w.leaf(CALDAV_NS, 'comp', undefined, [{ ns: '', name: 'name', value: c }]),
              ),
          };
        },
        // Settable by MKCALENDAR and extended MKCOL (RFC 4791 §5.2.3), kept by the service.
        { applies: isCalendar, protected: false },
      ),
      liveProperty(
        clark(CALDAV_NS, 'supported-calendar-data'),
        async () => ({
          write: (w) =>
            w.leaf(CALDAV_NS, 'calendar-data', undefined, [
              { ns: '', name: 'content-type', value: 'text/calendar' },
              { ns: '', name: 'version', value: '2.0' },
            ]),
        }),
        { applies: isCalendar },
      ),
      liveProperty(
        clark(CALDAV_NS, 'max-resource-size'),
        text(String(calendars.limits.maxResourceSize)),
        {
          applies: isCalendar,
        },
      ),
      liveProperty(clark(CALDAV_NS, 'max-instances'), text(String(calendars.limits.maxInstances)), {
        applies: isCalendar,
      }),
      liveProperty(clark(CALDAV_NS, 'min-date-time'), text('00010101T000000Z'), {
        applies: isCalendar,
      }),
      liveProperty(clark(CALDAV_NS, 'max-date-time'), text('99991231T235959Z'), {
        applies: isCalendar,
      }),
      liveProperty(
        CALENDAR_DATA,
        async (_dr, node) => {
          if (!isHomeDavNode(node) || !node.home.resource) return undefined;
          const data = await calendars.store.text(node.home.resource);
          return {
            text: shapeCalendarData(data, {
              selection: undefined,
              expand: undefined,
              limit: undefined,
            }),
          };
        },
        { applies: isObject },
      ),
    ],
  };
}
