/**
 * addressbook-query (RFC 6352 §8.6): the vCards of an address book matching prop-filters
 * (test anyof/allof, text-match with match types and collations, param-filter), at most
 * `limit` of them (a cut-short result carries a 507 for the collection, §8.6.1).
 */

import type { ContactsService } from '../../../storage/contacts/contacts-service.ts';
import { DavError } from '../dav-error.ts';
import type { DavReport } from '../dav-plugin.ts';
import { MultistatusWriter } from '../multistatus.ts';
import {
  CARDDAV_NS,
  DAV_NS,
  attribute,
  childElement,
  clark,
  elementsOf,
  textOf,
  type XmlElement,
} from '../xml.ts';
import { isHomeDavNode, type CollectionHomeTree } from '../caldav/collection-home-tree.ts';
import { parsePropFilter } from '../caldav/filter-xml.ts';
import { parseAddressDataRequest, writeCardResponse } from './address-data-request.ts';

/** The filter (test + prop-filters) and limit of an addressbook-query body (§10.5, §8.6.1). */
export function parseAddressbookQuery(body: XmlElement): {
  test: 'anyof' | 'allof';
  props: ReturnType<typeof parsePropFilter>[];
  limit: number | undefined;
} {
  const filterEl = childElement(body, CARDDAV_NS, 'filter');
  const test = (filterEl && attribute(filterEl, 'test')) ?? 'anyof';
  if (test !== 'anyof' && test !== 'allof') throw DavError.badRequest('invalid filter test');
  const props = filterEl
    ? elementsOf(filterEl)
        .filter((e) => e.ns === CARDDAV_NS && e.name === 'prop-filter')
        .map((e) => parsePropFilter(e, CARDDAV_NS, 'anyof'))
    : [];
  const limitEl = childElement(body, CARDDAV_NS, 'limit');
  const nresults = limitEl && childElement(limitEl, CARDDAV_NS, 'nresults');
  const limit = nresults ? Number(textOf(nresults).trim()) : undefined;
  if (limit !== undefined && (!Number.isSafeInteger(limit) || limit < 1)) {
    throw DavError.badRequest('invalid limit');
  }
  return { test, props, limit };
}

export function addressbookQueryReport(
  tree: CollectionHomeTree,
  contacts: ContactsService,
): DavReport {
  return {
    name: clark(CARDDAV_NS, 'addressbook-query'),
    applies: (node) =>
      node.tree === tree &&
      isHomeDavNode(node) &&
      node.home.collection !== undefined &&
      node.collection,
    async run(dr, node, body) {
      const { test, props, limit } = parseAddressbookQuery(body);
      const request = parseAddressDataRequest(body);
      const { owner, collection } = tree.collectionOf(node);
      const { matches, truncated } = await contacts.query(
        owner.id,
        collection.name,
        { test, props },
        limit,
      );
      const out = new MultistatusWriter();
      for (const m of matches) {
        const member = tree.resourceNode(owner, collection, m.resource);
        await writeCardResponse(dr, out, member, request, async () => m.text);
      }
      if (truncated)
        out.status(node.path, 507, { ns: DAV_NS, name: 'number-of-matches-within-limits' });
      dr.sendXml(207, out.finish());
    },
  };
}
