/**
 * The principal-property-search report (RFC 3744 §9.4): principals of the caller's domain
 * whose searchable properties contain the given strings (case-insensitive), all of them
 * (test="allof", the default) or any (test="anyof"), with the requested properties.
 */

import type { Principal } from '../../../core/principal.ts';
import { DavError } from '../dav-error.ts';
import type { DavReport } from '../dav-plugin.ts';
import { MultistatusWriter } from '../multistatus.ts';
import { propNames, resolveProperties } from '../properties.ts';
import type { PrincipalsTree } from '../trees/principals-tree.ts';
import {
  CALDAV_NS,
  CALENDARSERVER_NS,
  DAV_NS,
  attribute,
  childElement,
  clark,
  elementsOf,
  textOf,
} from '../xml.ts';

const MAX_RESULTS = 100;

/** Searchable properties and how to read their values from a principal. */
export const SEARCHABLE: ReadonlyMap<
  string,
  { readonly description: string; readonly values: (p: Principal) => string[] }
> = new Map([
  [
    clark(DAV_NS, 'displayname'),
    { description: 'Display name', values: (p: Principal) => [p.displayName] },
  ],
  [
    clark(CALENDARSERVER_NS, 'email-address-set'),
    { description: 'Email addresses', values: (p: Principal) => [...p.addresses] },
  ],
  [
    clark(CALDAV_NS, 'calendar-user-address-set'),
    {
      description: 'Calendar user addresses',
      values: (p: Principal) => p.addresses.map((a) => `mailto:${a}`),
    },
  ],
]);

interface Criterion {
  readonly props: readonly string[];
  readonly match: string;
}

export function principalPropertySearch(tree: PrincipalsTree): DavReport {
  return {
    name: clark(DAV_NS, 'principal-property-search'),
    applies: () => true,
    async run(dr, _node, body) {
      dr.depth(0, [0]);
      const criteria: Criterion[] = elementsOf(body)
        .filter((e) => e.ns === DAV_NS && e.name === 'property-search')
        .map((e) => {
          const prop = childElement(e, DAV_NS, 'prop');
          const match = childElement(e, DAV_NS, 'match');
          if (!prop || !match) throw DavError.badRequest('property-search needs prop and match');
          return { props: propNames(prop), match: textOf(match).toLowerCase() };
        });
      if (criteria.length === 0) throw DavError.badRequest('no property-search');
      const anyOf = attribute(body, 'test') === 'anyof';
      const propEl = childElement(body, DAV_NS, 'prop');
      const names = propEl ? propNames(propEl) : [];

      const domain = dr.ctx.access.address.slice(dr.ctx.access.address.lastIndexOf('@') + 1);
      const matches = (p: Principal, c: Criterion): boolean =>
        c.props.some(
          (name) =>
            SEARCHABLE.get(name)
              ?.values(p)
              .some((v) => v.toLowerCase().includes(c.match)) ?? false,
        );
      const found = (await tree.directory.listPrincipals({ domain })).filter((p) =>
        anyOf ? criteria.some((c) => matches(p, c)) : criteria.every((c) => matches(p, c)),
      );
      const out = new MultistatusWriter();
      for (const p of found.slice(0, MAX_RESULTS)) {
        const node = tree.nodeOf(p);
        out.response(node.path, await resolveProperties(dr, node, { kind: 'prop', names }));
      }
      dr.sendXml(207, out.finish());
    },
  };
}
