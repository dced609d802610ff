/**
 * Who may do what in someone else's calendar or address-book home. The owner holds every
 * right; anyone else holds the union of what the owner gave them (or a group they are in):
 * a delegation (a grant on the whole home, RFC 3744 ACL on the home or the calendar-proxy
 * groups) and grants on single collections (sharing). No grant at all means no access.
 * Results are memoized per request in the DavContext.
 */

import type { Right } from '../../../core/principal.ts';
import type { CollectionStore } from '../../../storage/calendar/collection-store.ts';
import { rightsFrom } from '../../../storage/grants.ts';
import type { DavContext } from '../dav-node.ts';
import { PrivilegeSet, grantees, privilegesOfRights } from '../privileges.ts';

export class HomeAccess {
  readonly #store: CollectionStore;
  readonly #name: string;

  constructor(store: CollectionStore, name: string) {
    this.#store = store;
    this.#name = name;
  }

  async #memo<T>(ctx: DavContext, key: string, load: () => Promise<T>): Promise<T> {
    const memoKey = `${this.#name}:access:${key}`;
    if (ctx.memo.has(memoKey)) return ctx.memo.get(memoKey) as T;
    const value = await load();
    ctx.memo.set(memoKey, value);
    return value;
  }

  /** Rights on the owner's whole home (delegation). */
  homeRights(ctx: DavContext, owner: number): Promise<ReadonlySet<Right>> {
    return this.#memo(ctx, `${owner}`, async () =>
      owner === ctx.access.principalId
        ? new Set<Right>(['read', 'write', 'delete', 'share', 'admin'])
        : rightsFrom(await this.#store.grants.homeGrants(owner), grantees(ctx.access)),
    );
  }

  /** Rights on one of the owner's collections: the delegation plus the collection's grants. */
  collectionRights(
    ctx: DavContext,
    owner: number,
    collection: string,
  ): Promise<ReadonlySet<Right>> {
    return this.#memo(ctx, `${owner}/${collection}`, async () => {
      const home = await this.homeRights(ctx, owner);
      if (owner === ctx.access.principalId) return home;
      const granted = rightsFrom(
        await this.#store.grants.grantsOf(owner, collection),
        grantees(ctx.access),
      );
      return new Set([...home, ...granted]);
    });
  }

  /** DAV privileges for rights; the owner's are all of them. */
  privileges(ctx: DavContext, owner: number, rights: ReadonlySet<Right>): PrivilegeSet {
    return owner === ctx.access.principalId ? PrivilegeSet.all() : privilegesOfRights(rights);
  }
}
