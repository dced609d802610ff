/**
 * Grants: access one principal gives another (a user or a group) to part of its data, in
 * protocol-neutral rights (core/principal.ts). Written once for every domain that shares:
 * files (a grant on a node reaches its subtree), calendar and address-book collections and
 * whole homes (a grant on a home is a delegation). Sharing offers two levels, read and
 * read-write; each protocol maps the rights onto its own vocabulary (DAV privileges, ...).
 */

import type { AccessContext, Right } from '../core/principal.ts';

export interface Grant {
  /** Principal (or group) id the grant is for. */
  readonly principal: number;
  readonly rights: readonly Right[];
}

/** What an owner can give when sharing. */
export type ShareLevel = 'read' | 'read-write';

export const SHARE_LEVELS: readonly ShareLevel[] = ['read', 'read-write'];

const LEVEL_RIGHTS: Readonly<Record<ShareLevel, readonly Right[]>> = {
  read: ['read'],
  'read-write': ['read', 'write', 'delete'],
};

/** The rights a share level gives. */
export function rightsOfLevel(level: ShareLevel): readonly Right[] {
  return LEVEL_RIGHTS[level];
}

/** The share level that rights amount to: read-write when they write, read when they read. */
export function levelOfRights(rights: Iterable<Right>): ShareLevel | undefined {
  const set = new Set(rights);
  if (set.has('write')) return 'read-write';
  return set.has('read') ? 'read' : undefined;
}

/** Who a grant may name for `access`: the principal and every group it is in. */
export function granteesOf(access: AccessContext): Set<number> {
  return new Set([access.principalId, ...access.memberOf]);
}

/** The union of the rights that grants give to any of `who` (a principal and its groups). */
export function rightsFrom(grants: readonly Grant[], who: ReadonlySet<number>): Set<Right> {
  const out = new Set<Right>();
  for (const g of grants) if (who.has(g.principal)) for (const r of g.rights) out.add(r);
  return out;
}

/** Grants with `principal`'s grant replaced by `rights` (none or empty: removed). */
export function withGrant(
  grants: readonly Grant[],
  principal: number,
  rights: readonly Right[] | undefined,
): Grant[] {
  const kept = grants.filter((g) => g.principal !== principal);
  if (rights && rights.length > 0) kept.push({ principal, rights: [...new Set(rights)] });
  return kept.sort((a, b) => a.principal - b.principal);
}

/** One grant per principal, without empty ones, in principal order. */
export function normalizeGrants(grants: readonly Grant[]): Grant[] {
  let out: Grant[] = [];
  for (const g of grants) {
    const prior = out.find((x) => x.principal === g.principal)?.rights ?? [];
    out = withGrant(out, g.principal, [...prior, ...g.rights]);
  }
  return out;
}
