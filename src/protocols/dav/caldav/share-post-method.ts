/**
 * Sharing by POST on a calendar or address book, as clients that do not speak the ACL method
 * share: CalendarServer's `CS:share` (Apple Calendar: `set` with read or read-write, `remove`)
 * and the WebDAV resource sharing draft's `DAV:share-resource` (sharees with read,
 * read-write or no-access). Both change the same grants as the ACL method; only the owner may
 * use them (DAV:write-acl). Sharees are named by `mailto:` address or principal URL, and must
 * be users or groups of the owner's domain.
 */

import type { Principal } from '../../../core/principal.ts';
import { davPrincipalAddress } from '../../../core/principal-names.ts';
import type { Directory } from '../../../storage/directory/directory.ts';
import { rightsOfLevel, withGrant, type ShareLevel } from '../../../storage/grants.ts';
import { DavError } from '../dav-error.ts';
import type { DavMethod } from '../dav-plugin.ts';
import type { DavRequest } from '../dav-request.ts';
import {
  CALENDARSERVER_NS,
  DAV_NS,
  childElement,
  elementsOf,
  textOf,
  type XmlElement,
} from '../xml.ts';
import { CollectionHomeTree, isHomeDavNode } from './collection-home-tree.ts';

const CS = CALENDARSERVER_NS;
const MAX_SHAREES = 256;

interface ShareChange {
  /** The sharee as written: a mailto: URI or a principal URL. */
  readonly href: string;
  /** undefined: stop sharing with it. */
  readonly level: ShareLevel | undefined;
}

function hrefOf(el: XmlElement): string {
  const href = childElement(el, DAV_NS, 'href');
  const text = href ? textOf(href).trim() : '';
  if (text === '') throw DavError.badRequest('a sharee needs an href');
  return text;
}

/** The changes of a CS:share or DAV:share-resource body. */
export function parseShareBody(body: XmlElement | undefined): ShareChange[] {
  const out: ShareChange[] = [];
  if (body?.ns === CS && body.name === 'share') {
    for (const el of elementsOf(body)) {
      if (el.ns !== CS) continue;
      if (el.name === 'remove') out.push({ href: hrefOf(el), level: undefined });
      if (el.name === 'set') {
        const level = childElement(el, CS, 'read-write') ? 'read-write' : 'read';
        out.push({ href: hrefOf(el), level });
      }
    }
  } else if (body?.ns === DAV_NS && body.name === 'share-resource') {
    for (const el of elementsOf(body)) {
      if (el.ns !== DAV_NS || el.name !== 'sharee') continue;
      const access = childElement(el, DAV_NS, 'share-access');
      const [kind] = access ? elementsOf(access) : [];
      if (kind?.ns !== DAV_NS) throw DavError.badRequest('a sharee needs a share-access');
      if (kind.name === 'read' || kind.name === 'read-write') {
        out.push({ href: hrefOf(el), level: kind.name });
      } else if (kind.name === 'no-access') {
        out.push({ href: hrefOf(el), level: undefined });
      } else {
        throw DavError.badRequest(`unknown share-access ${kind.name}`);
      }
    }
  } else {
    throw DavError.badRequest('POST here takes CS:share or DAV:share-resource');
  }
  if (out.length > MAX_SHAREES) throw DavError.badRequest('too many sharees');
  return out;
}

async function shareeOf(
  dr: DavRequest,
  directory: Directory,
  owner: Principal,
  href: string,
): Promise<Principal> {
  let address: string | undefined;
  if (/^mailto:/i.test(href)) address = href.slice('mailto:'.length).toLowerCase();
  else {
    try {
      address = davPrincipalAddress(dr.resolveUri(href));
    } catch {
      address = undefined;
    }
  }
  const who = address === undefined ? undefined : await directory.findByAddress(address);
  if (
    !who ||
    who.id === owner.id ||
    who.domain !== owner.domain ||
    (who.kind !== 'individual' && who.kind !== 'group')
  ) {
    throw new DavError(403, `cannot share with ${href}`, {
      condition: { ns: DAV_NS, name: 'recognized-principal' },
    });
  }
  return who;
}

export function sharePostMethod(directory: Directory): DavMethod {
  return {
    name: 'POST',
    allowed: (node) =>
      node !== undefined &&
      node.tree instanceof CollectionHomeTree &&
      isHomeDavNode(node) &&
      node.home.collection !== undefined &&
      node.home.resource === undefined,
    async run(dr) {
      const node = await dr.requireNode();
      if (
        !(node.tree instanceof CollectionHomeTree) ||
        !isHomeDavNode(node) ||
        !node.home.collection ||
        node.home.collection.mount
      ) {
        throw DavError.forbidden('only the owner of a collection shares it');
      }
      const body = await dr.readXml();
      await dr.require(node, 'write-acl');
      const changes = parseShareBody(body);
      const { owner, collection } = node.home;
      // 1. Resolve every sharee first, so a bad one changes nothing
      const resolved: { who: Principal; level: ShareLevel | undefined }[] = [];
      for (const c of changes) {
        resolved.push({ who: await shareeOf(dr, directory, owner, c.href), level: c.level });
      }
      // 2. Apply all of it in one commit
      await node.tree.kind.store.grants.updateGrants(owner.id, collection.name, (current) =>
        resolved.reduce(
          (grants, { who, level }) =>
            withGrant(grants, who.id, level === undefined ? undefined : rightsOfLevel(level)),
          current,
        ),
      );
      dr.send(200);
    },
  };
}
