/**
 * Delegation of a calendar home as the two proxy groups of CalendarServer (used by Apple
 * Calendar and others): the members of `calendar-proxy-read` may read the whole home, those of
 * `calendar-proxy-write` may also change it. Both are views of the home's grants
 * (collection-grants.ts), so a delegation made with the ACL method on the home shows here and
 * the other way round.
 */

import type { Right } from '../../core/principal.ts';
import { levelOfRights, rightsOfLevel, type Grant } from '../grants.ts';
import type { CollectionGrants } from './collection-grants.ts';

export type ProxyLevel = 'read' | 'write';

export const PROXY_LEVELS: readonly ProxyLevel[] = ['read', 'write'];

function levelOf(rights: readonly Right[]): ProxyLevel | undefined {
  const level = levelOfRights(rights);
  return level === 'read-write' ? 'write' : level;
}

const RIGHTS: Readonly<Record<ProxyLevel, readonly Right[]>> = {
  read: rightsOfLevel('read'),
  write: rightsOfLevel('read-write'),
};

export class CalendarDelegation {
  readonly #grants: CollectionGrants;

  constructor(grants: CollectionGrants) {
    this.#grants = grants;
  }

  /** Principal ids in the owner's proxy group of `level`. */
  async members(owner: number, level: ProxyLevel): Promise<number[]> {
    return (await this.#grants.homeGrants(owner))
      .filter((g) => levelOf(g.rights) === level)
      .map((g) => g.principal);
  }

  /**
   * Make `ids` the members of the owner's proxy group of `level`: those named move to this
   * level (out of the other group), those no longer named lose their delegation.
   */
  async setMembers(owner: number, level: ProxyLevel, ids: readonly number[]): Promise<void> {
    const wanted = new Set(ids.filter((id) => id !== owner));
    await this.#grants.updateHomeGrants(owner, (current) => {
      const kept: Grant[] = current.filter(
        (g) => !wanted.has(g.principal) && levelOf(g.rights) !== level,
      );
      for (const id of wanted) kept.push({ principal: id, rights: RIGHTS[level] });
      return kept;
    });
  }

  /** Owners who made any of `ids` a delegate at exactly `level`. */
  async delegatorsOf(ids: readonly number[], level: ProxyLevel): Promise<number[]> {
    return (await this.#grants.delegationsOf(ids))
      .filter((d) => levelOf(d.rights) === level)
      .map((d) => d.owner);
  }
}
