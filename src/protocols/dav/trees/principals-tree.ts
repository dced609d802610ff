/**
 * Principals (RFC 3744 §2): `/dav/principals/` and one principal resource per directory
 * principal, `/dav/principals/<address>/` (davPrincipalPath). A caller sees principals of its
 * own domain (so clients can find people to share with) and nothing of other domains.
 */

import { davPrincipalPath } from '../../../core/principal-names.ts';
import type { Principal } from '../../../core/principal.ts';
import type { Directory } from '../../../storage/directory/directory.ts';
import { DavError } from '../dav-error.ts';
import type { DavContext, DavNode, DavTree } from '../dav-node.ts';
import { samePath } from '../dav-path.ts';
import { PrivilegeSet } from '../privileges.ts';
import { DAV_NS, clark } from '../xml.ts';
import { virtualCollection } from './virtual-collection.ts';

export const PRINCIPALS_ROOT = '/dav/principals/';

/** A principal resource node: a DavNode that carries its directory record. */
export interface PrincipalNode extends DavNode {
  readonly principal: Principal;
}

export function isPrincipalNode(node: DavNode): node is PrincipalNode {
  return (node as Partial<PrincipalNode>).principal !== undefined;
}

export class PrincipalsTree implements DavTree {
  readonly name = 'principals';
  readonly prefix = PRINCIPALS_ROOT;
  readonly directory: Directory;

  constructor(directory: Directory) {
    this.directory = directory;
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
    if (rest === '' || rest.includes('/')) return undefined;
    const principal = await this.directory.findByAddress(rest);
    if (!principal || principal.address !== rest.toLowerCase() || !this.visible(ctx, principal))
      return undefined;
    return this.nodeOf(principal);
  }

  async children(ctx: DavContext, node: DavNode): Promise<DavNode[]> {
    if (!samePath(node.path, PRINCIPALS_ROOT)) return [];
    const me = await this.directory.getPrincipal(ctx.access.principalId);
    return me ? [this.nodeOf(me)] : [];
  }

  async privileges(ctx: DavContext, node: DavNode): Promise<PrivilegeSet> {
    if (isPrincipalNode(node) && node.principal.id === ctx.access.principalId) {
      return new PrivilegeSet(['read', 'read-acl', 'read-current-user-privilege-set']);
    }
    return new PrivilegeSet(['read', 'read-current-user-privilege-set']);
  }

  /** The principal with this principal URL, or 404. */
  async principalAt(ctx: DavContext, path: string): Promise<Principal> {
    const node = await this.lookup(ctx, path);
    if (!node || !isPrincipalNode(node)) throw DavError.notFound('no such principal');
    return node.principal;
  }
}

function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1);
}
