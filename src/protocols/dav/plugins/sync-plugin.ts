/**
 * Collection synchronization (RFC 6578): DAV:sync-token on collections of trees that support
 * it, the CalendarServer getctag (same value, for older clients), and the sync-collection
 * report.
 */

import { isSyncTree, type DavNode } from '../dav-node.ts';
import { liveProperty, type DavPlugin } from '../dav-plugin.ts';
import type { DavRequest } from '../dav-request.ts';
import { syncCollectionReport } from '../reports/sync-collection.ts';
import { CALENDARSERVER_NS, DAV_NS, clark } from '../xml.ts';

async function token(dr: DavRequest, node: DavNode): Promise<{ text: string } | undefined> {
  if (!isSyncTree(node.tree)) return undefined;
  const t = await node.tree.syncToken(dr.ctx, node);
  return t === undefined ? undefined : { text: t };
}

export function syncPlugin(): DavPlugin {
  const applies = (node: DavNode): boolean => node.collection && isSyncTree(node.tree);
  return {
    name: 'sync',
    reports: [syncCollectionReport],
    properties: [
      liveProperty(clark(DAV_NS, 'sync-token'), token, { applies }),
      liveProperty(clark(CALENDARSERVER_NS, 'getctag'), token, { applies }),
    ],
  };
}
