/**
 * The WebDAV core (RFC 4918 classes 1, 2 and 3, extended MKCOL of RFC 5689): every method and
 * the live properties RFC 4918 §15 defines, plus DAV:supported-report-set (RFC 3253 §3.1.5).
 */

import { isLockingTree } from '../dav-node.ts';
import { locksCovering, writeActiveLock } from '../dav-locks.ts';
import { liveProperty, type DavPlugin } from '../dav-plugin.ts';
import { copyMethod } from '../methods/copy.ts';
import { deleteMethod } from '../methods/delete.ts';
import { getMethod } from '../methods/get.ts';
import { headMethod } from '../methods/head.ts';
import { lockMethod } from '../methods/lock.ts';
import { mkcolMethod } from '../methods/mkcol.ts';
import { moveMethod } from '../methods/move.ts';
import { optionsMethod } from '../methods/options.ts';
import { propfindMethod } from '../methods/propfind.ts';
import { proppatchMethod } from '../methods/proppatch.ts';
import { putMethod } from '../methods/put.ts';
import { reportMethod } from '../methods/report.ts';
import { unlockMethod } from '../methods/unlock.ts';
import { DAV_NS, clark, splitClark } from '../xml.ts';

const dav = (name: string): string => clark(DAV_NS, name);

export function webdavPlugin(): DavPlugin {
  return {
    name: 'webdav',
    compliance: ['1', '2', '3', 'extended-mkcol'],
    methods: [
      optionsMethod,
      getMethod,
      headMethod,
      putMethod,
      deleteMethod,
      mkcolMethod,
      copyMethod,
      moveMethod,
      propfindMethod,
      proppatchMethod,
      lockMethod,
      unlockMethod,
      reportMethod,
    ],
    properties: [
      liveProperty(
        dav('resourcetype'),
        async (_dr, node) => ({
          write: (w) => {
            if (node.collection) w.leaf(DAV_NS, 'collection');
            for (const t of node.resourceTypes) {
              const { ns, name } = splitClark(t);
              w.leaf(ns, name);
            }
          },
        }),
        { inAllprop: true },
      ),
      liveProperty(
        dav('getcontentlength'),
        async (_dr, node) =>
          node.contentLength === undefined ? undefined : { text: String(node.contentLength) },
        { inAllprop: true, applies: (node) => !node.collection },
      ),
      liveProperty(
        dav('getcontenttype'),
        async (_dr, node) =>
          node.contentType === undefined ? undefined : { text: node.contentType },
        { inAllprop: true },
      ),
      liveProperty(
        dav('getetag'),
        async (_dr, node) => (node.etag === undefined ? undefined : { text: node.etag }),
        {
          inAllprop: true,
        },
      ),
      liveProperty(
        dav('getlastmodified'),
        async (_dr, node) =>
          node.lastModified ? { text: node.lastModified.toUTCString() } : undefined,
        { inAllprop: true },
      ),
      liveProperty(
        dav('creationdate'),
        async (_dr, node) => (node.created ? { text: node.created.toISOString() } : undefined),
        { inAllprop: true },
      ),
      liveProperty(
        dav('lockdiscovery'),
        async (dr, node) => {
          const locks = await locksCovering(dr, node.path);
          const now = Date.now();
          return { write: (w) => locks.forEach((l) => writeActiveLock(w, l, now)) };
        },
        { inAllprop: true, applies: (node) => isLockingTree(node.tree) },
      ),
      liveProperty(
        dav('supportedlock'),
        async () => ({
          write: (w) => {
            for (const scope of ['exclusive', 'shared']) {
              w.open(DAV_NS, 'lockentry');
              w.open(DAV_NS, 'lockscope').leaf(DAV_NS, scope).close();
              w.open(DAV_NS, 'locktype').leaf(DAV_NS, 'write').close();
              w.close();
            }
          },
        }),
        { inAllprop: true, applies: (node) => isLockingTree(node.tree) },
      ),
      liveProperty(dav('supported-report-set'), async (dr, node) => ({
        write: (w) => {
          for (const r of dr.registry.reportsOf(node)) {
            const { ns, name } = splitClark(r.name);
            w.open(DAV_NS, 'supported-report')
              .open(DAV_NS, 'report')
              .leaf(ns, name)
              .close()
              .close();
          }
        },
      })),
    ],
  };
}
