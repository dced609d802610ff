/** Request bodies for the ACL method (RFC 3744 §8.1) in DAV tests. */

export type AclPrivilege =
  'read' | 'write' | 'all' | 'write-acl' | 'read-current-user-privilege-set';

/** A DAV:acl body with one grant ACE per entry. */
export function aclBody(
  ...aces: { href: string; grant: AclPrivilege[]; deny?: boolean }[]
): string {
  const ace = (a: { href: string; grant: AclPrivilege[]; deny?: boolean }): string =>
    `<d:ace><d:principal><d:href>${a.href}</d:href></d:principal><d:${a.deny ? 'deny' : 'grant'}>${a.grant.map((p) => `<d:privilege><d:${p}/></d:privilege>`).join('')}</d:${a.deny ? 'deny' : 'grant'}></d:ace>`;
  return `<?xml version="1.0"?><d:acl xmlns:d="DAV:">${aces.map(ace).join('')}</d:acl>`;
}
