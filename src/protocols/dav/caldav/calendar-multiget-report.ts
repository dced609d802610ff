/**
 * calendar-multiget (RFC 4791 §7.9) and addressbook-multiget (RFC 6352 §8.7): the named
 * resources with the requested properties and data; unknown hrefs answer 404 each.
 */

import { DavError } from '../dav-error.ts';
import type { DavNode } from '../dav-node.ts';
import type { DavReport } from '../dav-plugin.ts';
import type { DavRequest } from '../dav-request.ts';
import { MultistatusWriter } from '../multistatus.ts';
import { DAV_NS, clark, elementsOf, textOf, type XmlElement } from '../xml.ts';
import { isHomeDavNode, type CollectionHomeTree } from './collection-home-tree.ts';

/** Write one found resource of a multiget. */
export type MultigetWriter = (
  dr: DavRequest,
  out: MultistatusWriter,
  node: DavNode,
  text: () => Promise<string>,
) => Promise<void>;

/**
 * Walk the DAV:href elements of a multiget body in order: an href that does not resolve gets a
 * 404 here; the others are handed to `visit` with the node they name (undefined if none).
 */
export async function forEachHref(
  dr: DavRequest,
  body: XmlElement,
  out: MultistatusWriter,
  visit: (path: string, member: DavNode | undefined) => Promise<void>,
): Promise<void> {
  const hrefs = elementsOf(body).filter((e) => e.ns === DAV_NS && e.name === 'href');
  if (hrefs.length === 0) throw DavError.badRequest('multiget needs hrefs');
  for (const h of hrefs) {
    const raw = textOf(h).trim();
    let path: string;
    try {
      path = dr.resolveUri(raw);
    } catch {
      out.status(raw, 404);
      continue;
    }
    await visit(path, await dr.lookup(path).catch(() => undefined));
  }
}

export function multigetReport(
  ns: string,
  name: string,
  tree: CollectionHomeTree,
  prepare: (body: XmlElement) => MultigetWriter,
): DavReport {
  return {
    name: clark(ns, name),
    applies: (node) =>
      node.tree === tree && isHomeDavNode(node) && node.home.collection !== undefined,
    async run(dr, _node, body) {
      const write = prepare(body);
      const out = new MultistatusWriter();
      await forEachHref(dr, body, out, async (path, member) => {
        if (!member || !isHomeDavNode(member) || !member.home.resource || member.tree !== tree) {
          out.status(path, 404);
          return;
        }
        if (!(await dr.privileges(member)).has('read')) {
          out.status(path, 403);
          return;
        }
        const res = member.home.resource;
        await write(dr, out, member, () => tree.kind.store.text(res));
      });
      dr.sendXml(207, out.finish());
    },
  };
}
