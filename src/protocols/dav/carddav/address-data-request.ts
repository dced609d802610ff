/**
 * The REPORT side of CardDAV (RFC 6352 §10.4): which properties were asked for, the vCard
 * version address-data is to be returned in, and the DAV:response for one card.
 */

import { convertVCard, type VCardVersion } from '../../../storage/contacts/vcard-object.ts';
import { DavError } from '../dav-error.ts';
import type { DavNode } from '../dav-node.ts';
import type { DavRequest } from '../dav-request.ts';
import { addPropResult, type MultistatusWriter } from '../multistatus.ts';
import { propNames, resolveProperties } from '../properties.ts';
import {
  CARDDAV_NS,
  DAV_NS,
  attribute,
  childElement,
  clark,
  clarkOf,
  elementsOf,
  type XmlElement,
} from '../xml.ts';

export const ADDRESS_DATA = clark(CARDDAV_NS, 'address-data');

export interface AddressDataRequest {
  readonly names: readonly string[];
  /** undefined: address-data not asked for; else the version to return (undefined = as stored). */
  readonly data: { readonly version: VCardVersion | undefined } | undefined;
}

/** Parse the DAV:prop of a CardDAV report body (RFC 6352 §10.4). */
export function parseAddressDataRequest(body: XmlElement): AddressDataRequest {
  const prop = childElement(body, DAV_NS, 'prop');
  if (!prop) return { names: [], data: undefined };
  const names = propNames(prop).filter((n) => n !== ADDRESS_DATA);
  const el = elementsOf(prop).find((e) => clarkOf(e) === ADDRESS_DATA);
  if (!el) return { names, data: undefined };
  const type = attribute(el, 'content-type') ?? 'text/vcard';
  const version = attribute(el, 'version');
  if (type !== 'text/vcard' || (version !== undefined && version !== '3.0' && version !== '4.0')) {
    throw DavError.forbidden('only text/vcard 3.0 and 4.0', {
      ns: CARDDAV_NS,
      name: 'supported-address-data-conversion',
    });
  }
  return { names, data: { version: version as VCardVersion | undefined } };
}

export async function writeCardResponse(
  dr: DavRequest,
  out: MultistatusWriter,
  node: DavNode,
  request: AddressDataRequest,
  read: () => Promise<string>,
): Promise<void> {
  const stats = await resolveProperties(dr, node, { kind: 'prop', names: request.names });
  if (request.data) {
    const raw = await read();
    const text = request.data.version ? convertVCard(raw, request.data.version) : raw;
    addPropResult(stats, 200, { name: ADDRESS_DATA, content: { text } });
  }
  if (stats.size === 0) stats.set(200, []);
  out.response(node.path, stats);
}
