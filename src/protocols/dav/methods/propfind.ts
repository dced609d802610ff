/**
 * PROPFIND (RFC 4918 §9.1): properties of a resource and, with Depth 1 or infinity, of its
 * members. Depth infinity is refused with DAV:propfind-finite-depth unless configured.
 */

import { DavError } from '../dav-error.ts';
import type { DavNode } from '../dav-node.ts';
import type { DavMethod } from '../dav-plugin.ts';
import type { Depth, DavRequest } from '../dav-request.ts';
import { MultistatusWriter } from '../multistatus.ts';
import { parsePropfind, resolveProperties, type PropRequest } from '../properties.ts';
import { DAV_NS } from '../xml.ts';

async function walk(
  dr: DavRequest,
  out: MultistatusWriter,
  node: DavNode,
  request: PropRequest,
  depth: Depth,
): Promise<void> {
  out.response(node.path, await resolveProperties(dr, node, request));
  if (depth === 0 || !node.collection) return;
  for (const child of await node.tree.children(dr.ctx, node)) {
    if (!(await dr.privileges(child)).has('read')) continue;
    await walk(dr, out, child, request, depth === 1 ? 0 : 'infinity');
  }
}

export const propfindMethod: DavMethod = {
  name: 'PROPFIND',
  allowed: (node) => node !== undefined,
  async run(dr) {
    const request = parsePropfind(await dr.readXml());
    const depth = dr.depth('infinity');
    if (depth === 'infinity' && !dr.settings.allowDepthInfinity) {
      throw DavError.forbidden('Depth: infinity is not served', {
        ns: DAV_NS,
        name: 'propfind-finite-depth',
      });
    }
    const node = await dr.requireNode();
    await dr.require(node, 'read');
    const out = new MultistatusWriter();
    await walk(dr, out, node, request, depth);
    dr.sendXml(207, out.finish());
  },
};
