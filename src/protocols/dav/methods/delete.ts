/**
 * DELETE (RFC 4918 §9.6): remove a resource, and a collection with everything below it
 * (Depth must be infinity). Atomic, so never a partial 207. Locks inside are released.
 */

import { DavError } from '../dav-error.ts';
import { isMutableTree } from '../dav-node.ts';
import { assertCanModify, releaseLocksUnder, removeTargets } from '../dav-locks.ts';
import { parentPath } from '../dav-path.ts';
import type { DavMethod } from '../dav-plugin.ts';
import { evaluateConditionals } from '../preconditions.ts';
import { allowedMethods } from './allowed-methods.ts';

export const deleteMethod: DavMethod = {
  name: 'DELETE',
  allowed: (node) => node !== undefined,
  async run(dr) {
    const node = await dr.requireNode();
    if (node.collection) dr.depth('infinity', ['infinity']);
    const tree = node.tree;
    if (!isMutableTree(tree))
      throw DavError.methodNotAllowed('cannot delete here', allowedMethods(dr, node));
    const parent = await dr.lookup(parentPath(node.path));
    if (!parent || parent.tree !== tree)
      throw DavError.forbidden('this collection cannot be deleted');
    await dr.require(parent, 'unbind');
    evaluateConditionals(dr, node);
    await assertCanModify(dr, removeTargets(node.path));
    await tree.remove(dr.ctx, node);
    await releaseLocksUnder(dr, node.path);
    dr.send(204);
  },
};
