/**
 * UNLOCK (RFC 4918 §9.11): remove the lock named by the Lock-Token header. The token must
 * name a lock covering the request URI (409 lock-token-matches-request-uri); only its creator,
 * or whoever may change the resource's access control, can remove it.
 */

import { DavError } from '../dav-error.ts';
import { isLockingTree } from '../dav-node.ts';
import { locksCovering } from '../dav-locks.ts';
import type { DavMethod } from '../dav-plugin.ts';
import { DAV_NS } from '../xml.ts';
import { allowedMethods } from './allowed-methods.ts';

export const unlockMethod: DavMethod = {
  name: 'UNLOCK',
  allowed: (node) => node !== undefined,
  async run(dr) {
    // A Coded-URL (RFC 4918 §10.5); some clients send the bare URI
    const m = /^\s*<?([^<>\s]+)>?\s*$/.exec(dr.header('lock-token') ?? '');
    if (!m) throw DavError.badRequest('Lock-Token header required');
    const token = m[1] as string;
    const tree = dr.tree();
    const space = isLockingTree(tree) ? await tree.lockSpace(dr.ctx, dr.path) : undefined;
    if (space === undefined)
      throw DavError.methodNotAllowed(
        'locks are not supported here',
        allowedMethods(dr, await dr.node()),
      );
    const node = await dr.requireNode();
    const lock = (await locksCovering(dr, node.path)).find((l) => l.token === token);
    if (!lock) {
      throw new DavError(409, 'the token names no lock on this resource', {
        condition: { ns: DAV_NS, name: 'lock-token-matches-request-uri' },
      });
    }
    if (lock.principal !== dr.ctx.access.principalId) {
      const root = await dr.lookup(lock.root);
      if (!root || !(await dr.privileges(root)).has('write-acl')) {
        throw DavError.forbidden('the lock belongs to someone else');
      }
    }
    await dr.settings.locks.update(space, () => ({ remove: [token], result: undefined }));
    dr.send(204);
  },
};
