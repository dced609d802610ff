/**
 * DAV privileges (RFC 3744 §3) and their aggregation. A PrivilegeSet holds leaf privileges;
 * `has` of an aggregate asks for all of its leaves.
 *
 *   all ─┬ read                                  write ─┬ write-properties
 *        ├ write ──────────────────────────────────────├ write-content
 *        ├ unlock                                      ├ bind
 *        ├ read-acl                                    └ unbind
 *        ├ read-current-user-privilege-set
 *        └ write-acl
 */

import type { Right } from '../../core/principal.ts';

export type Privilege =
  | 'all'
  | 'read'
  | 'write'
  | 'write-properties'
  | 'write-content'
  | 'bind'
  | 'unbind'
  | 'unlock'
  | 'read-acl'
  | 'read-current-user-privilege-set'
  | 'write-acl';

export const PRIVILEGE_TREE: Readonly<Record<Privilege, readonly Privilege[]>> = {
  all: ['read', 'write', 'unlock', 'read-acl', 'read-current-user-privilege-set', 'write-acl'],
  read: [],
  write: ['write-properties', 'write-content', 'bind', 'unbind'],
  'write-properties': [],
  'write-content': [],
  bind: [],
  unbind: [],
  unlock: [],
  'read-acl': [],
  'read-current-user-privilege-set': [],
  'write-acl': [],
};

export const PRIVILEGES = Object.keys(PRIVILEGE_TREE) as Privilege[];

export function isPrivilege(name: string): name is Privilege {
  return Object.hasOwn(PRIVILEGE_TREE, name);
}

function expand(p: Privilege): Privilege[] {
  const kids = PRIVILEGE_TREE[p];
  return kids.length === 0 ? [p] : kids.flatMap(expand);
}

const LEAVES: ReadonlyMap<Privilege, readonly Privilege[]> = new Map(
  (Object.keys(PRIVILEGE_TREE) as Privilege[]).map((p) => [p, expand(p)]),
);

/** The leaf privileges of a privilege. */
export function leavesOf(p: Privilege): readonly Privilege[] {
  return LEAVES.get(p) ?? [p];
}

export class PrivilegeSet {
  readonly #leaves: ReadonlySet<Privilege>;

  constructor(granted: Iterable<Privilege> = []) {
    const leaves = new Set<Privilege>();
    for (const p of granted) for (const l of leavesOf(p)) leaves.add(l);
    this.#leaves = leaves;
  }

  static all(): PrivilegeSet {
    return ALL;
  }

  static none(): PrivilegeSet {
    return NONE;
  }

  has(p: Privilege): boolean {
    for (const l of leavesOf(p)) if (!this.#leaves.has(l)) return false;
    return true;
  }

  union(other: PrivilegeSet): PrivilegeSet {
    return new PrivilegeSet([...this.#leaves, ...other.leaves()]);
  }

  leaves(): Privilege[] {
    return [...this.#leaves];
  }

  /** Every privilege held, aggregates included (for current-user-privilege-set). */
  expanded(): Privilege[] {
    return PRIVILEGES.filter((p) => this.has(p));
  }

  get empty(): boolean {
    return this.#leaves.size === 0;
  }
}

const ALL = new PrivilegeSet(['all']);
const NONE = new PrivilegeSet();

/** DAV privileges for protocol-neutral rights (DESIGN: each protocol maps them). */
export function privilegesOfRights(rights: Iterable<Right>): PrivilegeSet {
  const out: Privilege[] = [];
  for (const r of rights) {
    if (r === 'read') out.push('read', 'read-current-user-privilege-set');
    if (r === 'write') out.push('write-properties', 'write-content', 'bind', 'unlock');
    if (r === 'delete') out.push('unbind');
    if (r === 'admin' || r === 'share') out.push('read-acl', 'write-acl');
  }
  return new PrivilegeSet(out);
}

/** The protocol-neutral rights covered by a set of DAV privileges (stored in grants). */
export function rightsOfPrivileges(privileges: Iterable<Privilege>): Right[] {
  const set = new PrivilegeSet(privileges);
  const out: Right[] = [];
  if (set.has('read')) out.push('read');
  if (set.has('write-content') || set.has('write-properties') || set.has('bind')) out.push('write');
  if (set.has('unbind')) out.push('delete');
  if (set.has('write-acl')) out.push('share');
  return out;
}
