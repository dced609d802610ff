/**
 * Principals and discovery (RFC 3744 §4, RFC 4791 §6.2.1, RFC 6352 §7.1.1, RFC 6638 §2.4):
 * the principals tree, the principal properties clients read on login (displayname,
 * principal-URL, addresses, group membership, calendar and address book homes; the homes are
 * filled by the CalDAV/CardDAV plugins), the principal search reports, and with a
 * CalendarDelegation the calendar proxy groups (delegation-properties.ts).
 */

import type { Principal } from '../../../core/principal.ts';
import { davPrincipalPath } from '../../../core/principal-names.ts';
import type { CalendarDelegation } from '../../../storage/calendar/calendar-delegation.ts';
import type { Directory } from '../../../storage/directory/directory.ts';
import type { DavNode } from '../dav-node.ts';
import { hrefProperty, liveProperty, type DavPlugin } from '../dav-plugin.ts';
import { delegationProperties, proxyMemberships } from './delegation-properties.ts';
import { principalPropertySearch } from '../reports/principal-property-search.ts';
import { principalSearchPropertySetReport } from '../reports/principal-search-property-set.ts';
import { isPrincipalNode, PrincipalsTree } from '../trees/principals-tree.ts';
import { CALDAV_NS, CALENDARSERVER_NS, CARDDAV_NS, DAV_NS, clark } from '../xml.ts';

/** Where CalDAV and CardDAV will put a principal's homes. */
export const calendarHomeOf = (p: Pick<Principal, 'address'>): string =>
  `/dav/calendars/${p.address}/`;
export const addressbookHomeOf = (p: Pick<Principal, 'address'>): string =>
  `/dav/addressbooks/${p.address}/`;

const CALENDAR_USER_TYPES = {
  individual: 'INDIVIDUAL',
  group: 'GROUP',
  resource: 'RESOURCE',
  room: 'ROOM',
} as const;

export function principalsPlugin(directory: Directory, delegation?: CalendarDelegation): DavPlugin {
  const tree = new PrincipalsTree(directory, delegation);
  const onPrincipal = (node: DavNode): boolean => isPrincipalNode(node);
  const principal = (node: DavNode): Principal | undefined =>
    isPrincipalNode(node) ? node.principal : undefined;
  const paths = async (ids: readonly number[]): Promise<string[]> => {
    const out: string[] = [];
    for (const id of ids) {
      const p = await directory.getPrincipal(id);
      if (p) out.push(davPrincipalPath(p));
    }
    return out;
  };
  return {
    name: 'principals',
    trees: [tree],
    reports: [principalPropertySearch(tree), principalSearchPropertySetReport],
    properties: [
      ...(delegation ? delegationProperties(directory, delegation) : []),
      liveProperty(
        clark(DAV_NS, 'displayname'),
        async (_dr, node) => {
          const p = principal(node);
          return p && { text: p.displayName };
        },
        { inAllprop: true, applies: onPrincipal },
      ),
      hrefProperty(clark(DAV_NS, 'principal-URL'), async (_dr, node) => [node.path], {
        applies: onPrincipal,
      }),
      hrefProperty(
        clark(DAV_NS, 'alternate-URI-set'),
        async (_dr, node) => principal(node)?.addresses.map((a) => `mailto:${a}`),
        { applies: onPrincipal },
      ),
      hrefProperty(
        clark(DAV_NS, 'group-membership'),
        async (_dr, node) => {
          const p = principal(node);
          if (!p) return undefined;
          const groups = await paths(await directory.groupsOf(p.id));
          if (!delegation) return groups;
          return [...groups, ...(await proxyMemberships(directory, delegation, p))];
        },
        { applies: onPrincipal },
      ),
      hrefProperty(
        clark(DAV_NS, 'group-member-set'),
        async (_dr, node) => {
          const p = principal(node);
          return p && (await directory.members(p.id)).map((m) => davPrincipalPath(m));
        },
        { applies: (node) => principal(node)?.kind === 'group' },
      ),
      hrefProperty(
        clark(CALDAV_NS, 'calendar-home-set'),
        async (_dr, node) => {
          const p = principal(node);
          return p && [calendarHomeOf(p)];
        },
        { applies: onPrincipal },
      ),
      hrefProperty(
        clark(CARDDAV_NS, 'addressbook-home-set'),
        async (_dr, node) => {
          const p = principal(node);
          return p && [addressbookHomeOf(p)];
        },
        { applies: onPrincipal },
      ),
      hrefProperty(
        clark(CALDAV_NS, 'calendar-user-address-set'),
        async (_dr, node) => {
          const p = principal(node);
          return p && [...p.addresses.map((a) => `mailto:${a}`), node.path];
        },
        { applies: onPrincipal },
      ),
      liveProperty(
        clark(CALDAV_NS, 'calendar-user-type'),
        async (_dr, node) => {
          const p = principal(node);
          return p && { text: CALENDAR_USER_TYPES[p.kind] };
        },
        { applies: onPrincipal },
      ),
      liveProperty(
        clark(CALENDARSERVER_NS, 'email-address-set'),
        async (_dr, node) => {
          const p = principal(node);
          return (
            p && {
              write: (w) =>
                p.addresses.forEach((a) => w.leaf(CALENDARSERVER_NS, 'email-address', a)),
            }
          );
        },
        { applies: onPrincipal },
      ),
    ],
  };
}
