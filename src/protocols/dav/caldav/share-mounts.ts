/**
 * Shared collections as the sharee sees them: every calendar (or address book) shared with
 * the caller or one of its groups appears in the caller's own home as a collection named
 * `<owner address>-<collection>`. Reading and writing there acts on the owner's collection
 * (one copy of the data, the owner's change log, so sync tokens and ctags follow it).
 */

import type { Principal, Right } from '../../../core/principal.ts';
import type { CollectionStore } from '../../../storage/calendar/collection-store.ts';
import type { Directory } from '../../../storage/directory/directory.ts';
import type { DavContext } from '../dav-node.ts';

export interface ShareMount {
  /** The sharee, in whose home the collection appears. */
  readonly home: Principal;
  /** Its name in the sharee's home. */
  readonly name: string;
  readonly owner: Principal;
  /** The owner's name of the collection. */
  readonly collection: string;
  readonly rights: readonly Right[];
}

/** The name of a shared collection in a sharee's home. */
export function mountName(owner: Pick<Principal, 'address'>, collection: string): string {
  return `${owner.address}-${collection}`;
}

/** The collections shared with the caller (whose home is `home`), memoized per request. */
export async function sharesOf(
  ctx: DavContext,
  treeName: string,
  store: CollectionStore,
  directory: Directory,
  home: Principal,
): Promise<readonly ShareMount[]> {
  const memoKey = `${treeName}:shares:${home.id}`;
  const hit = ctx.memo.get(memoKey) as ShareMount[] | undefined;
  if (hit) return hit;
  const ids = home.id === ctx.access.principalId ? [home.id, ...ctx.access.memberOf] : [home.id];
  const out: ShareMount[] = [];
  for (const s of await store.grants.sharedWith(ids)) {
    const owner = await directory.getPrincipal(s.owner);
    if (!owner) continue;
    const name = mountName(owner, s.collection);
    if (out.some((m) => m.name === name)) continue;
    out.push({ home, name, owner, collection: s.collection, rights: s.rights });
  }
  ctx.memo.set(memoKey, out);
  return out;
}
