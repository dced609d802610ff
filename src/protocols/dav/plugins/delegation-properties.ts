/**
 * Properties of calendar delegation (CalendarServer's calendar-proxy extension, as Apple
 * Calendar and others use it): on a proxy group principal its displayname, principal-URL and
 * DAV:group-member-set (writable by the owner with PROPPATCH, see principals-tree.ts); on a
 * principal CS:calendar-proxy-read-for / -write-for, the principals whose calendars it may
 * read or change. DAV:group-membership lists the proxy groups (principals-plugin.ts).
 */

import type { Principal } from '../../../core/principal.ts';
import { davPrincipalPath } from '../../../core/principal-names.ts';
import type {
  CalendarDelegation,
  ProxyLevel,
} from '../../../storage/calendar/calendar-delegation.ts';
import type { Directory } from '../../../storage/directory/directory.ts';
import type { DavNode } from '../dav-node.ts';
import { hrefProperty, liveProperty, type LiveProperty } from '../dav-plugin.ts';
import { isPrincipalNode, isProxyNode, PrincipalsTree } from '../trees/principals-tree.ts';
import { CALENDARSERVER_NS, DAV_NS, clark } from '../xml.ts';

/** Ids a principal acts as for delegation: itself and its groups. */
async function selfAndGroups(directory: Directory, p: Principal): Promise<number[]> {
  return [p.id, ...(await directory.groupsOf(p.id))];
}

/** Paths of the proxy groups `p` (or one of its groups) is a member of. */
export async function proxyMemberships(
  directory: Directory,
  delegation: CalendarDelegation,
  p: Principal,
): Promise<string[]> {
  const ids = await selfAndGroups(directory, p);
  const out: string[] = [];
  for (const level of ['read', 'write'] as const) {
    for (const id of await delegation.delegatorsOf(ids, level)) {
      const owner = await directory.getPrincipal(id);
      if (owner) out.push(PrincipalsTree.proxyPath(owner, level));
    }
  }
  return out;
}

export function delegationProperties(
  directory: Directory,
  delegation: CalendarDelegation,
): LiveProperty[] {
  const onProxy = (node: DavNode): boolean => isProxyNode(node);
  const onPrincipal = (node: DavNode): boolean =>
    isPrincipalNode(node) && node.principal.kind !== 'group';
  const paths = async (ids: readonly number[]): Promise<string[]> => {
    const out: string[] = [];
    for (const id of ids) {
      const p = await directory.getPrincipal(id);
      if (p) out.push(davPrincipalPath(p));
    }
    return out;
  };
  const proxyFor = (level: ProxyLevel) =>
    hrefProperty(
      clark(CALENDARSERVER_NS, `calendar-proxy-${level}-for`),
      async (_dr, node) => {
        if (!isPrincipalNode(node)) return undefined;
        const ids = await selfAndGroups(directory, node.principal);
        return paths(await delegation.delegatorsOf(ids, level));
      },
      { applies: onPrincipal },
    );
  return [
    liveProperty(
      clark(DAV_NS, 'displayname'),
      async (_dr, node) => {
        if (!isProxyNode(node)) return undefined;
        const { owner, level } = node.proxy;
        return { text: `${owner.displayName}: calendar ${level} access` };
      },
      { inAllprop: true, applies: onProxy },
    ),
    hrefProperty(clark(DAV_NS, 'principal-URL'), async (_dr, node) => [node.path], {
      applies: onProxy,
    }),
    hrefProperty(clark(DAV_NS, 'group-membership'), async () => [], { applies: onProxy }),
    {
      ...hrefProperty(
        clark(DAV_NS, 'group-member-set'),
        async (_dr, node) => {
          if (!isProxyNode(node)) return undefined;
          return paths(await delegation.members(node.proxy.owner.id, node.proxy.level));
        },
        { applies: onProxy },
      ),
      protected: false,
    },
    proxyFor('read'),
    proxyFor('write'),
  ];
}
