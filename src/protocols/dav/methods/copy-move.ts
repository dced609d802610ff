/**
 * What COPY and MOVE share (RFC 4918 §9.8-9.9): Destination, Depth and Overwrite handling,
 * privileges on both ends, lock checks on both ends, and 201/204.
 */

import { DavError } from '../dav-error.ts';
import { isMutableTree } from '../dav-node.ts';
import {
  assertCanModify,
  releaseLocksUnder,
  removeTargets,
  writeTargets,
  type LockTarget,
} from '../dav-locks.ts';
import { isDescendant, parentPath, samePath } from '../dav-path.ts';
import type { DavRequest } from '../dav-request.ts';
import { evaluateConditionals } from '../preconditions.ts';
import { allowedMethods } from './allowed-methods.ts';

export async function copyOrMove(dr: DavRequest, move: boolean): Promise<void> {
  const node = await dr.requireNode();
  const tree = node.tree;
  if (!isMutableTree(tree))
    throw DavError.methodNotAllowed('cannot copy or move here', allowedMethods(dr, node));
  let destination = dr.destination();
  if (dr.registry.tree(destination) !== tree)
    throw DavError.forbidden('the destination is in another space');
  destination = node.collection
    ? destination.endsWith('/')
      ? destination
      : `${destination}/`
    : destination.replace(/\/$/, '');
  if (samePath(node.path, destination))
    throw DavError.forbidden('source and destination are the same');
  if (isDescendant(destination, node.path) || isDescendant(node.path, destination)) {
    throw DavError.forbidden('source and destination overlap');
  }
  const depth = node.collection
    ? (dr.depth('infinity', move ? ['infinity'] : [0, 'infinity']) as 0 | 'infinity')
    : 'infinity';
  const overwrite = dr.overwrite();

  // 1. Destination: parent must exist; an existing target needs Overwrite: T
  const existing = await dr.lookup(destination);
  if (existing && !overwrite) throw DavError.preconditionFailed('the destination exists');
  const destParent = await dr.requireParent(destination);

  // 2. Privileges on both ends
  await dr.require(node, 'read');
  await dr.require(destParent, 'bind');
  if (existing) await dr.require(destParent, 'unbind');
  if (move) {
    const srcParent = await dr.lookup(parentPath(node.path));
    if (!srcParent || srcParent.tree !== tree)
      throw DavError.forbidden('this collection cannot be moved');
    await dr.require(srcParent, 'unbind');
  }

  // 3. Conditions and locks
  evaluateConditionals(dr, node);
  const targets: LockTarget[] = existing
    ? removeTargets(existing.path)
    : writeTargets(destination, false);
  if (move) targets.push(...removeTargets(node.path));
  await assertCanModify(dr, targets);

  const options = { depth, overwrite };
  const { created } = move
    ? await tree.move(dr.ctx, node, destination, options)
    : await tree.copy(dr.ctx, node, destination, options);
  if (move) await releaseLocksUnder(dr, node.path);
  dr.send(created ? 201 : 204, created ? { location: dr.href(destination) } : {});
}
