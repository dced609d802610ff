/**
 * The DAV root `/dav/`: a read-only collection whose members are the roots of the other
 * trees (`/dav/principals/`, `/dav/files/`, later `/dav/calendars/` ...). Clients that start
 * discovery here (RFC 6764 §5 context path) find current-user-principal on it.
 */

import type { DavContext, DavNode, DavTree } from '../dav-node.ts';
import { samePath } from '../dav-path.ts';
import { PrivilegeSet } from '../privileges.ts';
import { virtualCollection } from './virtual-collection.ts';

export const DAV_ROOT = '/dav/';

export class RootTree implements DavTree {
  readonly name = 'root';
  readonly prefix = DAV_ROOT;
  readonly #members: () => readonly DavTree[];

  /** `members`: the trees whose roots are listed (asked at request time). */
  constructor(members: () => readonly DavTree[]) {
    this.#members = members;
  }

  async lookup(_ctx: DavContext, path: string): Promise<DavNode | undefined> {
    return samePath(path, DAV_ROOT) ? virtualCollection(this, DAV_ROOT) : undefined;
  }

  async children(ctx: DavContext): Promise<DavNode[]> {
    const out: DavNode[] = [];
    for (const t of this.#members()) {
      const node = await t.lookup(ctx, t.prefix);
      if (node) out.push(node);
    }
    return out;
  }

  async privileges(): Promise<PrivilegeSet> {
    return new PrivilegeSet(['read', 'read-current-user-privilege-set']);
  }
}
