/**
 * The sync-collection report (RFC 6578 §3): members of a collection changed or removed since
 * a sync token (all members for an empty token), with the requested properties, and the new
 * token. A limit that cuts the result short is signalled by a 507 response for the collection.
 */

import { DavError } from '../dav-error.ts';
import { isSyncTree } from '../dav-node.ts';
import type { DavReport } from '../dav-plugin.ts';
import { MultistatusWriter } from '../multistatus.ts';
import { propNames, resolveProperties } from '../properties.ts';
import { DAV_NS, childElement, clark, textOf } from '../xml.ts';

export const syncCollectionReport: DavReport = {
  name: clark(DAV_NS, 'sync-collection'),
  applies: (node) => node.collection && isSyncTree(node.tree),
  async run(dr, node, body) {
    dr.depth(0, [0]);
    const tree = node.tree;
    if (!isSyncTree(tree))
      throw DavError.forbidden('no sync here', { ns: DAV_NS, name: 'supported-report' });
    const tokenEl = childElement(body, DAV_NS, 'sync-token');
    const levelEl = childElement(body, DAV_NS, 'sync-level');
    const propEl = childElement(body, DAV_NS, 'prop');
    if (!tokenEl || !levelEl) throw DavError.badRequest('sync-token and sync-level are required');
    const levelText = textOf(levelEl).trim();
    if (levelText !== '1' && levelText !== 'infinite')
      throw DavError.badRequest('sync-level must be 1 or infinite');
    const limitEl = childElement(body, DAV_NS, 'limit');
    const nresults = limitEl && childElement(limitEl, DAV_NS, 'nresults');
    const limit = nresults ? Number(textOf(nresults).trim()) : undefined;
    if (limit !== undefined && (!Number.isSafeInteger(limit) || limit < 1))
      throw DavError.badRequest('invalid limit');
    const token = textOf(tokenEl).trim();

    const result = await tree.changes(
      dr.ctx,
      node,
      token === '' ? undefined : token,
      levelText === '1' ? 1 : 'infinity',
      limit,
    );
    const names = propEl ? propNames(propEl) : [];
    const out = new MultistatusWriter();
    for (const member of result.changed) {
      if (!(await dr.privileges(member)).has('read')) continue;
      out.response(member.path, await resolveProperties(dr, member, { kind: 'prop', names }));
    }
    for (const path of result.removed) out.status(path, 404);
    if (result.truncated) {
      out.status(node.path, 507, { ns: DAV_NS, name: 'number-of-matches-within-limits' });
    }
    dr.sendXml(207, out.finish(result.token));
  },
};
