/**
 * MKCALENDAR (RFC 4791 §5.3.1): create a calendar collection, optionally with properties
 * (displayname, calendar-description, supported-calendar-component-set, calendar-timezone,
 * calendar-color ...) in a CALDAV:mkcalendar body.
 */

import { DavError } from '../dav-error.ts';
import { isMutableTree } from '../dav-node.ts';
import type { DavMethod } from '../dav-plugin.ts';
import { allowedMethods } from '../methods/allowed-methods.ts';
import { CALDAV_NS, DAV_NS, clark, clarkOf, elementsOf } from '../xml.ts';
import { serializeElement } from '../xml-writer.ts';

export const CALENDAR_TYPE = clark(CALDAV_NS, 'calendar');

export const mkcalendarMethod: DavMethod = {
  name: 'MKCALENDAR',
  allowed: (node) => node === undefined,
  async run(dr) {
    const tree = dr.tree();
    const existing = await dr.node();
    if (existing)
      throw DavError.methodNotAllowed('something exists there', allowedMethods(dr, existing));
    const properties = new Map<string, string>();
    const body = await dr.readXml();
    if (body) {
      if (body.ns !== CALDAV_NS || body.name !== 'mkcalendar') {
        throw DavError.badRequest('MKCALENDAR body must be CALDAV:mkcalendar');
      }
      for (const set of elementsOf(body)) {
        if (set.ns !== DAV_NS || set.name !== 'set') continue;
        for (const prop of elementsOf(set)) {
          if (prop.ns !== DAV_NS || prop.name !== 'prop') continue;
          for (const el of elementsOf(prop)) {
            if (el.ns === DAV_NS && el.name === 'resourcetype') continue;
            properties.set(clarkOf(el), serializeElement(el));
          }
        }
      }
    }
    if (!isMutableTree(tree)) throw DavError.forbidden('calendars cannot be made here');
    const path = dr.path.endsWith('/') ? dr.path : `${dr.path}/`;
    await dr.require(await dr.requireParent(path), 'bind');
    await tree.makeCollection(dr.ctx, path, { resourceTypes: [CALENDAR_TYPE], properties });
    dr.send(201, { location: dr.href(path), 'cache-control': 'no-cache' });
  },
};
