/**
 * Principals (RFC 3744 §2): `/dav/principals/` and one principal resource per directory
 * principal, `/dav/principals/<address>/` (davPrincipalPath). A caller sees principals of its
 * own domain (so clients can find people to share with) and nothing of other domains.
 * With calendar delegation, each principal also has two group principals below it,
 * `calendar-proxy-read/` and `calendar-proxy-write/`, whose DAV:group-member-set the owner
 * sets with PROPPATCH (the CalendarServer delegation model Apple Calendar uses).
 */

import { davPrincipalPath } from '../../../core/principal-names.ts';
import type { Principal } from '../../../core/principal.ts';
import type { Directory } from '../../../storage/directory/directory.ts';
import { DavError } from '../dav-error.ts';
import type {
  CalendarDelegation,
  ProxyLevel,
} from '../../../storage/calendar/calendar-delegation.ts';
import type { DavContext, DavNode, DeadPropertyTree, PropertyPatch } from '../dav-node.ts';
import { decodePath, samePath } from '../dav-path.ts';
import { PrivilegeSet } from '../privileges.ts';
import { CALENDARSERVER_NS, DAV_NS, clark, elementsOf, parseXml, textOf } from '../xml.ts';
import { virtualCollection } from './virtual-collection.ts';

export const PRINCIPALS_ROOT = '/dav/principals/';

/** A principal resource node: a DavNode that carries its directory record. */
export interface PrincipalNode extends DavNode {
  readonly principal: Principal;
}

export function isPrincipalNode(node: DavNode): node is PrincipalNode {
  return (node as Partial<PrincipalNode>).principal !== undefined;
}

/** A calendar proxy group principal of `owner`. */
export interface ProxyNode extends DavNode {
  readonly proxy: { readonly owner: Principal; readonly level: ProxyLevel };
}

export function isProxyNode(node: DavNode): node is ProxyNode {
  return (node as Partial<ProxyNode>).proxy !== undefined;
}

const PROXY_NAMES: Readonly<Record<string, ProxyLevel>> = {
  'calendar-proxy-read': 'read',
  'calendar-proxy-write': 'write',
};
const GROUP_MEMBER_SET = clark(DAV_NS, 'group-member-set');

export class PrincipalsTree implements DeadPropertyTree {
  readonly name = 'principals';
  readonly prefix = PRINCIPALS_ROOT;
  readonly directory: Directory;
  readonly delegation: CalendarDelegation | undefined;

  constructor(directory: Directory, delegation?: CalendarDelegation) {
    this.directory = directory;
    this.delegation = delegation;
  }

  /** The path of a principal's proxy group. */
  static proxyPath(owner: Pick<Principal, 'kind' | 'address'>, level: ProxyLevel): string {
    return `${davPrincipalPath(owner)}calendar-proxy-${level}/`;
  }

  /** The node of a principal's proxy group. */
  proxyNode(owner: Principal, level: ProxyLevel): ProxyNode {
    const path = PrincipalsTree.proxyPath(owner, level);
    return {
      ...virtualCollection(this, path, davPrincipalPath(owner)),
      resourceTypes: [
        clark(DAV_NS, 'principal'),
        clark(CALENDARSERVER_NS, `calendar-proxy-${level}`),
      ],
      proxy: { owner, level },
    };
  }

  /** The node of a principal. */
  nodeOf(principal: Principal): PrincipalNode {
    const path = davPrincipalPath(principal);
    return {
      ...virtualCollection(this, path, path),
      resourceTypes: [clark(DAV_NS, 'principal')],
      created: new Date(principal.createdAt),
      principal,
    };
  }

  /** May the caller see this principal? */
  visible(ctx: DavContext, p: Principal): boolean {
    return (
      p.id === ctx.access.principalId ||
      p.domain === domainOf(ctx.access.address) ||
      ctx.access.admin
    );
  }

  async lookup(ctx: DavContext, path: string): Promise<DavNode | undefined> {
    if (samePath(path, PRINCIPALS_ROOT)) return virtualCollection(this, PRINCIPALS_ROOT);
    const rest = path.slice(PRINCIPALS_ROOT.length).replace(/\/$/, '');
    const [address = '', sub, ...more] = rest.split('/');
    if (address === '' || more.length > 0) return undefined;
    const level = sub === undefined ? undefined : PROXY_NAMES[sub];
    if (sub !== undefined && (level === undefined || !this.delegation)) return undefined;
    const principal = await this.directory.findByAddress(address);
    if (!principal || principal.address !== address.toLowerCase() || !this.visible(ctx, principal))
      return undefined;
    if (level === undefined) return this.nodeOf(principal);
    return principal.kind === 'group' ? undefined : this.proxyNode(principal, level);
  }

  async children(ctx: DavContext, node: DavNode): Promise<DavNode[]> {
    if (isPrincipalNode(node) && this.delegation && node.principal.kind !== 'group') {
      return [this.proxyNode(node.principal, 'read'), this.proxyNode(node.principal, 'write')];
    }
    if (!samePath(node.path, PRINCIPALS_ROOT)) return [];
    const me = await this.directory.getPrincipal(ctx.access.principalId);
    return me ? [this.nodeOf(me)] : [];
  }

  async privileges(ctx: DavContext, node: DavNode): Promise<PrivilegeSet> {
    if (isProxyNode(node) && node.proxy.owner.id === ctx.access.principalId) {
      return new PrivilegeSet([
        'read',
        'read-acl',
        'read-current-user-privilege-set',
        'write-properties',
      ]);
    }
    if (isPrincipalNode(node) && node.principal.id === ctx.access.principalId) {
      return new PrivilegeSet(['read', 'read-acl', 'read-current-user-privilege-set']);
    }
    return new PrivilegeSet(['read', 'read-current-user-privilege-set']);
  }

  // ---- DeadPropertyTree: only a proxy group's member set can be written ----

  async deadProperties(): Promise<ReadonlyMap<string, string>> {
    return new Map();
  }

  async patchProperties(ctx: DavContext, node: DavNode, patch: PropertyPatch): Promise<void> {
    const names = [...patch.set.keys(), ...patch.remove];
    if (!isProxyNode(node) || !this.delegation || names.some((n) => n !== GROUP_MEMBER_SET)) {
      throw DavError.forbidden('only the member set of a proxy group can be changed', {
        ns: DAV_NS,
        name: 'cannot-modify-protected-property',
      });
    }
    const value = patch.set.get(GROUP_MEMBER_SET);
    const members: number[] = [];
    for (const href of value === undefined ? [] : hrefsOf(value)) {
      const p = await this.principalAt(ctx, href).catch(() => undefined);
      if (!p || p.id === node.proxy.owner.id) {
        throw DavError.forbidden(`not a principal that can be a delegate: ${href}`, {
          ns: DAV_NS,
          name: 'recognized-principal',
        });
      }
      members.push(p.id);
    }
    await this.delegation.setMembers(node.proxy.owner.id, node.proxy.level, members);
  }

  /** The principal with this principal URL, or 404. */
  async principalAt(ctx: DavContext, path: string): Promise<Principal> {
    const node = await this.lookup(ctx, path);
    if (!node || !isPrincipalNode(node)) throw DavError.notFound('no such principal');
    return node.principal;
  }
}

/** Decoded paths of the DAV:href elements of a serialized property (URLs or paths). */
function hrefsOf(serialized: string): string[] {
  return elementsOf(parseXml(serialized))
    .filter((e) => e.ns === DAV_NS && e.name === 'href')
    .map((e) => {
      const raw = textOf(e).trim();
      return decodePath(/^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? new URL(raw).pathname : raw);
    });
}

function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1);
}
