/** Quota properties (RFC 4331 §3-4) on collections of trees that account storage. */

import { isQuotaTree } from '../dav-node.ts';
import { liveProperty, type DavPlugin } from '../dav-plugin.ts';
import { DAV_NS, clark } from '../xml.ts';

export function quotaPlugin(): DavPlugin {
  const applies = (node: {
    collection: boolean;
    tree: Parameters<typeof isQuotaTree>[0];
  }): boolean => node.collection && isQuotaTree(node.tree);
  return {
    name: 'quota',
    properties: [
      liveProperty(
        clark(DAV_NS, 'quota-available-bytes'),
        async (dr, node) => {
          if (!isQuotaTree(node.tree)) return undefined;
          const q = await node.tree.quota(dr.ctx, node);
          return q?.available === undefined ? undefined : { text: String(q.available) };
        },
        { applies },
      ),
      liveProperty(
        clark(DAV_NS, 'quota-used-bytes'),
        async (dr, node) => {
          if (!isQuotaTree(node.tree)) return undefined;
          const q = await node.tree.quota(dr.ctx, node);
          return q && { text: String(q.used) };
        },
        { applies },
      ),
    ],
  };
}
