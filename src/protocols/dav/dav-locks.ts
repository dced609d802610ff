/**
 * Lock semantics over the LockStore (RFC 4918 §6-7, §10.4): which locks cover a path, If
 * header evaluation, the lock-token-submitted check every modifying method runs, and the
 * DAV:activelock rendering shared by LOCK and DAV:lockdiscovery.
 *
 * A lock covers its root, and with depth infinity everything below it. Modifying a resource
 * needs the tokens of the locks covering it; adding or removing a member of a collection needs
 * those covering the collection (a lock protects its members' names, §7.4); removing a subtree
 * needs those of every lock inside it too.
 */

import type { LockRecord } from '../../storage/files/lock-store.ts';
import { DavError } from './dav-error.ts';
import { isLockingTree } from './dav-node.ts';
import { isDescendant, parentPath, samePath } from './dav-path.ts';
import type { DavRequest } from './dav-request.ts';
import { submittedTokens } from './if-header.ts';
import { hrefText } from './multistatus.ts';
import { DAV_NS } from './xml.ts';
import type { XmlWriter } from './xml-writer.ts';

/** What a request is about to change. */
export interface LockTarget {
  readonly path: string;
  /** 'self': the resource; 'members': membership of this collection; 'tree': the subtree. */
  readonly scope: 'self' | 'members' | 'tree';
}

/** Locks of the lock space `path` belongs to (empty when the tree has no locks). */
export async function locksNear(dr: DavRequest, path: string): Promise<LockRecord[]> {
  const tree = dr.registry.tree(path);
  if (!tree || !isLockingTree(tree)) return [];
  const space = await tree.lockSpace(dr.ctx, path);
  return space === undefined ? [] : dr.locksOf(space);
}

/** Locks whose scope includes `path`. */
export async function locksCovering(dr: DavRequest, path: string): Promise<LockRecord[]> {
  return (await locksNear(dr, path)).filter(
    (l) => samePath(l.root, path) || (l.depth === 'infinity' && isDescendant(path, l.root)),
  );
}

/** Locks rooted strictly below `path`. */
export async function locksBelow(dr: DavRequest, path: string): Promise<LockRecord[]> {
  return (await locksNear(dr, path)).filter((l) => isDescendant(l.root, path));
}

async function locksFor(dr: DavRequest, target: LockTarget): Promise<LockRecord[]> {
  if (target.scope === 'self') return locksCovering(dr, target.path);
  if (target.scope === 'members') return locksCovering(dr, target.path);
  return [...(await locksCovering(dr, target.path)), ...(await locksBelow(dr, target.path))];
}

/** Entity-tag match for If lists (strong comparison, RFC 9110 §8.8.3.2). */
function etagMatches(current: string | undefined, wanted: string): boolean {
  return current !== undefined && !wanted.startsWith('W/') && current === wanted;
}

/**
 * Evaluate the If header (RFC 4918 §10.4.2): true when absent or when any list holds. A list
 * holds when each condition does: a state token matches a lock covering its resource, an
 * entity tag matches its resource's current one (negated by Not).
 */
export async function ifHeaderHolds(dr: DavRequest): Promise<boolean> {
  const lists = dr.ifLists();
  if (lists.length === 0) return true;
  for (const list of lists) {
    const path = list.resource === undefined ? dr.path : safeResolve(dr, list.resource);
    if (path === undefined) continue;
    const node = await dr.lookup(path);
    const tokens = new Set((await locksCovering(dr, path)).map((l) => l.token));
    const holds = list.conditions.every((c) => {
      const matched =
        c.token !== undefined ? tokens.has(c.token) : etagMatches(node?.etag, c.etag ?? '');
      return c.not ? !matched : matched;
    });
    if (holds) return true;
  }
  return false;
}

function safeResolve(dr: DavRequest, uri: string): string | undefined {
  try {
    return dr.resolveUri(uri);
  } catch {
    return undefined;
  }
}

/**
 * The checks before any change: the If header must hold (412), then every lock on the targets
 * must have one of its tokens submitted by its owner (423 lock-token-submitted, §7.5).
 */
export async function assertCanModify(
  dr: DavRequest,
  targets: readonly LockTarget[],
): Promise<void> {
  if (!(await ifHeaderHolds(dr))) throw DavError.preconditionFailed('the If header does not hold');
  const submitted = submittedTokens(dr.ifLists());
  const byRoot = new Map<string, LockRecord[]>();
  for (const t of targets) {
    for (const l of await locksFor(dr, t)) {
      const list = byRoot.get(l.root) ?? [];
      if (!list.some((x) => x.token === l.token)) list.push(l);
      byRoot.set(l.root, list);
    }
  }
  const unmet: string[] = [];
  for (const [root, locks] of byRoot) {
    const ok = locks.some(
      (l) => submitted.has(l.token) && l.principal === dr.ctx.access.principalId,
    );
    if (!ok) unmet.push(root);
  }
  if (unmet.length > 0) throw DavError.locked(unmet);
}

/** Targets for creating or replacing the resource at `path`. */
export function writeTargets(path: string, exists: boolean): LockTarget[] {
  return exists ? [{ path, scope: 'self' }] : [{ path: parentPath(path), scope: 'members' }];
}

/** Targets for removing the resource at `path` and its subtree. */
export function removeTargets(path: string): LockTarget[] {
  return [
    { path: parentPath(path), scope: 'members' },
    { path, scope: 'tree' },
  ];
}

/** One DAV:activelock (RFC 4918 §14.1). */
export function writeActiveLock(w: XmlWriter, lock: LockRecord, now: number): void {
  w.open(DAV_NS, 'activelock');
  w.open(DAV_NS, 'locktype').leaf(DAV_NS, 'write').close();
  w.open(DAV_NS, 'lockscope').leaf(DAV_NS, lock.scope).close();
  w.leaf(DAV_NS, 'depth', lock.depth === 0 ? '0' : 'infinity');
  if (lock.owner !== undefined) w.raw(lock.owner);
  const left = Math.max(0, Math.ceil((lock.expires - now) / 1000));
  w.leaf(DAV_NS, 'timeout', `Second-${left}`);
  w.open(DAV_NS, 'locktoken').leaf(DAV_NS, 'href', lock.token).close();
  w.open(DAV_NS, 'lockroot').leaf(DAV_NS, 'href', hrefText(lock.root)).close();
  w.close();
}

/** Drop the locks rooted at `path` or below it (after DELETE or MOVE of the source). */
export async function releaseLocksUnder(dr: DavRequest, path: string): Promise<void> {
  const tree = dr.registry.tree(path);
  if (!tree || !isLockingTree(tree)) return;
  const space = await tree.lockSpace(dr.ctx, path);
  if (space === undefined) return;
  await dr.settings.locks.update(space, (locks) => ({
    remove: locks
      .filter((l) => samePath(l.root, path) || isDescendant(l.root, path))
      .map((l) => l.token),
    result: undefined,
  }));
  dr.invalidate();
}
