/**
 * ACL (RFC 3744 §8.1): replace the access control list of a resource whose tree can store
 * one. Only grant ACEs with a principal href or pseudo principal are understood (the server
 * advertises grant-only and no-invert); protected and inherited ACEs sent back by a client
 * are skipped, since they cannot be changed here. Needs DAV:write-acl.
 */

import { DavError } from '../dav-error.ts';
import { isWritableAclTree, type AclRequestEntry } from '../dav-node.ts';
import { assertCanModify } from '../dav-locks.ts';
import type { DavMethod } from '../dav-plugin.ts';
import type { DavRequest } from '../dav-request.ts';
import { isPrivilege, type Privilege } from '../privileges.ts';
import { DAV_NS, childElement, clarkOf, elementsOf, textOf, type XmlElement } from '../xml.ts';

const MAX_ACES = 256;
const PSEUDO = ['all', 'authenticated', 'unauthenticated', 'self'];

function refuse(name: string, message: string): DavError {
  return new DavError(403, message, { condition: { ns: DAV_NS, name } });
}

function principalOf(dr: DavRequest, ace: XmlElement): string {
  const principal = childElement(ace, DAV_NS, 'principal');
  const [inner] = principal ? elementsOf(principal) : [];
  if (!inner) throw DavError.badRequest('an ACE needs a principal');
  if (inner.ns === DAV_NS && inner.name === 'href') return dr.resolveUri(textOf(inner).trim());
  if (inner.ns === DAV_NS && PSEUDO.includes(inner.name)) return clarkOf(inner);
  throw refuse('allowed-principal', 'this principal cannot be named here');
}

function privilegesOf(grant: XmlElement): Privilege[] {
  const out: Privilege[] = [];
  for (const p of elementsOf(grant)) {
    if (p.ns !== DAV_NS || p.name !== 'privilege') continue;
    for (const el of elementsOf(p)) {
      if (el.ns !== DAV_NS || !isPrivilege(el.name)) {
        throw refuse('not-supported-privilege', `${clarkOf(el)} is not supported`);
      }
      out.push(el.name);
    }
  }
  return out;
}

/** The entries of a DAV:acl body to apply, in document order. */
export function parseAclBody(dr: DavRequest, body: XmlElement | undefined): AclRequestEntry[] {
  if (!body || body.ns !== DAV_NS || body.name !== 'acl') {
    throw DavError.badRequest('ACL body must be DAV:acl');
  }
  const aces = elementsOf(body).filter((e) => e.ns === DAV_NS && e.name === 'ace');
  if (aces.length > MAX_ACES) throw refuse('limited-number-of-aces', 'too many ACEs');
  const out: AclRequestEntry[] = [];
  for (const ace of aces) {
    if (childElement(ace, DAV_NS, 'invert')) throw refuse('no-invert', 'invert is not supported');
    if (childElement(ace, DAV_NS, 'deny')) throw refuse('grant-only', 'only grants are supported');
    if (childElement(ace, DAV_NS, 'protected') || childElement(ace, DAV_NS, 'inherited')) continue;
    const grant = childElement(ace, DAV_NS, 'grant');
    if (!grant) throw DavError.badRequest('an ACE needs a grant');
    out.push({ principal: principalOf(dr, ace), grant: privilegesOf(grant) });
  }
  return out;
}

export const aclMethod: DavMethod = {
  name: 'ACL',
  allowed: (node) => node !== undefined && isWritableAclTree(node.tree),
  async run(dr) {
    const node = await dr.requireNode();
    const tree = node.tree;
    if (!isWritableAclTree(tree)) throw DavError.forbidden('this resource has no ACL to change');
    const body = await dr.readXml();
    await dr.require(node, 'write-acl');
    const entries = parseAclBody(dr, body);
    await assertCanModify(dr, [{ path: node.path, scope: 'self' }]);
    await tree.setAcl(dr.ctx, node, entries);
    dr.send(200);
  },
};
