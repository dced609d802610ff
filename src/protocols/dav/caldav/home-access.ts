/**
 * Who may do what in someone else's calendar or address-book home, for the DAV tree: the
 * rules are CollectionGrants' (storage/calendar/collection-grants.ts: the owner holds every
 * right, anyone else the union of a delegation and the collection's grants); this memoizes
 * them per request in the DavContext and maps rights to DAV privileges.
 */

import type { Right } from '../../../core/principal.ts';
import type { CollectionStore } from '../../../storage/calendar/collection-store.ts';
import type { DavContext } from '../dav-node.ts';
import { PrivilegeSet, privilegesOfRights } from '../privileges.ts';

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

  /** Rights on the owner's whole home (delegation); see CollectionGrants.homeRights. */
  homeRights(ctx: DavContext, owner: number): Promise<ReadonlySet<Right>> {
    return this.#memo(ctx, `${owner}`, () => this.#store.grants.homeRights(ctx.access, owner));
  }

  /** Rights on one of the owner's collections; see CollectionGrants.collectionRights. */
  collectionRights(
    ctx: DavContext,
    owner: number,
    collection: string,
  ): Promise<ReadonlySet<Right>> {
    return this.#memo(ctx, `${owner}/${collection}`, async () =>
      this.#store.grants.collectionRights(
        ctx.access,
        owner,
        collection,
        await this.homeRights(ctx, owner),
      ),
    );
  }

  /** DAV privileges for rights; the owner's are all of them. */
  privileges(ctx: DavContext, owner: number, rights: ReadonlySet<Right>): PrivilegeSet {
    return owner === ctx.access.principalId ? PrivilegeSet.all() : privilegesOfRights(rights);
  }
}
