/**
 * Stored grants seen through RFC 3744: an ACL request's entries become grants (read or
 * read-write, for an individual or a group of the owner's domain), and grants are shown as
 * DAV:acl entries. The preconditions of §8.1.3 are raised here as 403 DAV:error conditions.
 */

import { davPrincipalAddress, davPrincipalPath } from '../../core/principal-names.ts';
import type { Principal } from '../../core/principal.ts';
import type { Directory } from '../../storage/directory/directory.ts';
import { rightsOfLevel, type Grant, type ShareLevel } from '../../storage/grants.ts';
import { DavError } from './dav-error.ts';
import type { AccessControlEntry, AclRequestEntry } from './dav-node.ts';
import { PrivilegeSet, leavesOf, privilegesOfRights, type Privilege } from './privileges.ts';
import { DAV_NS } from './xml.ts';

const refuse = (name: string, message: string): DavError =>
  new DavError(403, message, { condition: { ns: DAV_NS, name } });

/** Privileges a share may name: read and write and their parts. */
const SHAREABLE = new Set<Privilege>([
  'read',
  'read-current-user-privilege-set',
  'unlock',
  ...leavesOf('write'),
  'write',
]);

/** The share level an ACE's privileges amount to (undefined: it grants nothing). */
export function levelOfPrivileges(grant: readonly Privilege[]): ShareLevel | undefined {
  const unsupported = grant.find((p) => !SHAREABLE.has(p));
  if (unsupported) {
    throw refuse('not-supported-privilege', `DAV:${unsupported} cannot be granted here`);
  }
  const set = new PrivilegeSet(grant);
  const writes = leavesOf('write').some((p) => set.has(p));
  if (writes && !set.has('read')) {
    throw refuse('not-supported-privilege', 'write is granted together with read');
  }
  if (writes) return 'read-write';
  return set.has('read') ? 'read' : undefined;
}

/**
 * The grants an ACL request asks for on `owner`'s resource. The owner's own entry is the
 * protected one: restating it is accepted, changing it is refused.
 */
export async function grantsOfAcl(
  entries: readonly AclRequestEntry[],
  owner: Principal,
  directory: Directory,
): Promise<Grant[]> {
  const grants: Grant[] = [];
  for (const entry of entries) {
    if (entry.principal.startsWith('{')) {
      throw refuse('allowed-principal', 'grants name a user or a group');
    }
    const address = davPrincipalAddress(entry.principal);
    const who = address === undefined ? undefined : await directory.findByAddress(address);
    if (!who || who.address !== address || who.domain !== owner.domain) {
      throw refuse('recognized-principal', `unknown principal ${entry.principal}`);
    }
    if (who.id === owner.id) {
      if (!new PrivilegeSet(entry.grant).has('all')) {
        throw refuse('no-protected-ace-conflict', "the owner's entry cannot be changed");
      }
      continue;
    }
    if (who.kind !== 'individual' && who.kind !== 'group') {
      throw refuse('allowed-principal', 'grants name a user or a group');
    }
    const level = levelOfPrivileges(entry.grant);
    if (level === undefined) continue;
    const prior = grants.find((g) => g.principal === who.id);
    if (prior && prior.rights.includes('write')) continue;
    if (prior) grants.splice(grants.indexOf(prior), 1);
    grants.push({ principal: who.id, rights: rightsOfLevel(level) });
  }
  return grants;
}

/** DAV:acl entries for grants (principals no longer in the directory are left out). */
export async function acesOfGrants(
  grants: readonly Grant[],
  directory: Directory,
  inherited: string | undefined,
): Promise<AccessControlEntry[]> {
  const out: AccessControlEntry[] = [];
  for (const g of grants) {
    const who = await directory.getPrincipal(g.principal);
    if (!who) continue;
    out.push({
      principal: davPrincipalPath(who),
      grant: privilegesOfRights(g.rights).expanded(),
      protected: false,
      inherited,
    });
  }
  return out;
}
