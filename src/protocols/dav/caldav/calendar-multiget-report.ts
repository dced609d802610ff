/**
 * calendar-multiget (RFC 4791 §7.9) and addressbook-multiget (RFC 6352 §8.7): the named
 * resources with the requested properties and data; unknown hrefs answer 404 each.
 */

import { mapLimited } from '../../../core/map-limited.ts';
import { DavError } from '../dav-error.ts';
import type { DavNode } from '../dav-node.ts';
import type { DavReport } from '../dav-plugin.ts';
import type { DavRequest } from '../dav-request.ts';
import { MultistatusWriter } from '../multistatus.ts';
import {
  CALDAV_NS,
  CARDDAV_NS,
  DAV_NS,
  childElement,
  clark,
  elementsOf,
  textOf,
  type XmlElement,
} from '../xml.ts';
import { isHomeDavNode, type CollectionHomeTree } from './collection-home-tree.ts';

/** Write one found resource of a multiget. */
export type MultigetWriter = (
  dr: DavRequest,
  out: MultistatusWriter,
  node: DavNode,
  text: () => Promise<string>,
) => Promise<void>;

/** One DAV:href of a multiget: the path it names (undefined: not ours) and the node there. */
interface ResolvedHref {
  readonly raw: string;
  readonly path: string | undefined;
  readonly member: DavNode | undefined;
}

/** Lookups of a multiget in flight at once (each is a few store reads). */
const LOOKUPS_IN_FLIGHT = 16;

/**
 * The members of the collection a multiget is sent to, by path (from the collection store's
 * member cache, so that hrefs into it need no store reads); undefined for other targets.
 */
async function membersOf(
  tree: CollectionHomeTree,
  node: DavNode,
): Promise<((path: string) => DavNode | undefined) | undefined> {
  if (!isHomeDavNode(node) || !node.collection || !node.home.collection || node.home.resource) {
    return undefined;
  }
  const { owner, collection } = tree.collectionOf(node);
  const members = await tree.kind.store.members(owner.id, collection.name);
  const prefix = node.path;
  return (path) => {
    const name = path.slice(prefix.length);
    if (!path.startsWith(prefix) || name === '' || name.includes('/')) return undefined;
    const res = members.resources.get(name);
    return res ? tree.resourceNode(owner, collection, res) : undefined;
  };
}

/**
 * The DAV:href elements of a multiget body, in order, each looked up (side by side); `member`
 * answers for the members of the target collection without a lookup.
 */
async function resolveHrefs(
  dr: DavRequest,
  body: XmlElement,
  member?: (path: string) => DavNode | undefined,
): Promise<ResolvedHref[]> {
  const hrefs = elementsOf(body).filter((e) => e.ns === DAV_NS && e.name === 'href');
  if (hrefs.length === 0) throw DavError.badRequest('multiget needs hrefs');
  return mapLimited(hrefs, LOOKUPS_IN_FLIGHT, async (h) => {
    const raw = textOf(h).trim();
    let path: string;
    try {
      path = dr.resolveUri(raw);
    } catch {
      return { raw, path: undefined, member: undefined };
    }
    const known = member?.(path);
    if (known) return { raw, path, member: known };
    return { raw, path, member: await dr.lookup(path).catch(() => undefined) };
  });
}

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
  for (const h of await resolveHrefs(dr, body)) {
    if (h.path === undefined) out.status(h.raw, 404);
    else await visit(h.path, h.member);
  }
}

/** The data property of a multiget report's namespace (calendar-data, address-data). */
const DATA_PROPERTY: Readonly<Record<string, string>> = {
  [CALDAV_NS]: 'calendar-data',
  [CARDDAV_NS]: 'address-data',
};

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
    async run(dr, node, body) {
      const write = prepare(body);
      const prop = childElement(body, DAV_NS, 'prop');
      const data = DATA_PROPERTY[ns];
      const wantsData = prop !== undefined && data !== undefined && !!childElement(prop, ns, data);
      // 1. Look up, check and read the members side by side
      type Found = ResolvedHref & { readonly status: number; readonly text?: string | undefined };
      const hrefs = await resolveHrefs(dr, body, await membersOf(tree, node));
      const found = await mapLimited(hrefs, LOOKUPS_IN_FLIGHT, async (h): Promise<Found> => {
        const { member } = h;
        if (!member || !isHomeDavNode(member) || !member.home.resource || member.tree !== tree) {
          return { ...h, status: 404 };
        }
        if (!(await dr.privileges(member)).has('read')) return { ...h, status: 403 };
        const res = member.home.resource;
        const text = wantsData ? await tree.kind.store.text(res) : undefined;
        return { ...h, status: 200, text };
      });
      // 2. Answer in the order asked
      const out = new MultistatusWriter();
      for (const f of found) {
        const res = f.member && isHomeDavNode(f.member) ? f.member.home.resource : undefined;
        if (f.status !== 200 || !f.member || !res) {
          out.status(f.path ?? f.raw, f.status);
          continue;
        }
        const text = f.text;
        await write(dr, out, f.member, () =>
          text === undefined ? tree.kind.store.text(res) : Promise.resolve(text),
        );
      }
      dr.sendXml(207, out.finish());
    },
  };
}
