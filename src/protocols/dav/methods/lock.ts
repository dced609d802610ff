/**
 * LOCK (RFC 4918 §9.10): create an exclusive or shared write lock (Depth 0 or infinity) on a
 * resource, or on an unmapped URL, which then becomes a locked empty resource (§7.3, 201); or,
 * without a body, refresh a lock named in the If header. Conflicts are 423 with
 * DAV:no-conflicting-lock; the decision is one atomic update of the lock space.
 */

import { randomUUID } from 'node:crypto';
import type { LockRecord, LockScope } from '../../../storage/files/lock-store.ts';
import { DavError } from '../dav-error.ts';
import { isContentTree, isLockingTree } from '../dav-node.ts';
import {
  ifHeaderHolds,
  locksCovering,
  writeActiveLock,
  writeTargets,
  assertCanModify,
} from '../dav-locks.ts';
import { isDescendant, samePath } from '../dav-path.ts';
import type { DavMethod } from '../dav-plugin.ts';
import type { DavRequest } from '../dav-request.ts';
import { submittedTokens } from '../if-header.ts';
import { DAV_NS, childElement, elementsOf, type XmlElement } from '../xml.ts';
import { serializeElement, XmlWriter } from '../xml-writer.ts';
import { allowedMethods } from './allowed-methods.ts';

/** Locks last an hour unless asked otherwise, a week at most. */
export const DEFAULT_LOCK_SECONDS = 3600;
export const MAX_LOCK_SECONDS = 7 * 24 * 3600;

interface LockInfo {
  readonly scope: LockScope;
  readonly owner: string | undefined;
}

function parseLockInfo(body: XmlElement): LockInfo {
  if (body.ns !== DAV_NS || body.name !== 'lockinfo')
    throw DavError.badRequest('LOCK body must be DAV:lockinfo');
  const scopeEl = childElement(body, DAV_NS, 'lockscope');
  const typeEl = childElement(body, DAV_NS, 'locktype');
  const scope = scopeEl ? elementsOf(scopeEl)[0] : undefined;
  const type = typeEl ? elementsOf(typeEl)[0] : undefined;
  if (!scope || scope.ns !== DAV_NS || (scope.name !== 'exclusive' && scope.name !== 'shared')) {
    throw DavError.badRequest('lockscope must be exclusive or shared');
  }
  if (!type || type.ns !== DAV_NS || type.name !== 'write')
    throw DavError.badRequest('only write locks exist');
  const ownerEl = childElement(body, DAV_NS, 'owner');
  return { scope: scope.name, owner: ownerEl ? serializeElement(ownerEl) : undefined };
}

function lockResponse(
  dr: DavRequest,
  status: number,
  lock: LockRecord,
  headers: Record<string, string> = {},
): void {
  const w = new XmlWriter();
  w.open(DAV_NS, 'prop').open(DAV_NS, 'lockdiscovery');
  writeActiveLock(w, lock, Date.now());
  dr.sendXml(status, w.close().close().toString(), headers);
}

async function refresh(dr: DavRequest, space: string, seconds: number): Promise<void> {
  const tokens = submittedTokens(dr.ifLists());
  if (tokens.size === 0)
    throw DavError.badRequest('a lock refresh needs the lock token in an If header');
  const node = await dr.requireNode();
  const lock = (await locksCovering(dr, node.path)).find((l) => tokens.has(l.token));
  if (!lock) {
    throw DavError.preconditionFailed('no such lock on this resource', {
      ns: DAV_NS,
      name: 'lock-token-matches-request-uri',
    });
  }
  if (lock.principal !== dr.ctx.access.principalId)
    throw DavError.forbidden('the lock belongs to someone else');
  if (!(await ifHeaderHolds(dr))) throw DavError.preconditionFailed('the If header does not hold');
  const refreshed = await dr.settings.locks.update(space, (locks) => {
    const current = locks.find((l) => l.token === lock.token);
    if (!current) throw DavError.preconditionFailed('the lock has expired');
    const next: LockRecord = { ...current, timeout: seconds, expires: Date.now() + seconds * 1000 };
    return { remove: [current.token], add: [next], result: next };
  });
  lockResponse(dr, 200, refreshed);
}

export const lockMethod: DavMethod = {
  name: 'LOCK',
  allowed: () => true,
  async run(dr) {
    const tree = dr.tree();
    const space = isLockingTree(tree) ? await tree.lockSpace(dr.ctx, dr.path) : undefined;
    if (!isLockingTree(tree) || space === undefined) {
      throw DavError.methodNotAllowed(
        'locks are not supported here',
        allowedMethods(dr, await dr.node()),
      );
    }
    const body = await dr.readXml();
    const seconds = dr.timeout(MAX_LOCK_SECONDS) ?? DEFAULT_LOCK_SECONDS;
    if (!body) {
      await refresh(dr, space, seconds);
      return;
    }
    const info = parseLockInfo(body);
    const depth = dr.depth('infinity', [0, 'infinity']) as 0 | 'infinity';
    const node = await dr.node();
    if (node) {
      await dr.require(node, 'write-content');
      if (!(await ifHeaderHolds(dr)))
        throw DavError.preconditionFailed('the If header does not hold');
    } else {
      if (dr.path.endsWith('/'))
        throw DavError.conflict('a locked empty resource cannot be a collection');
      if (!isContentTree(tree)) throw DavError.methodNotAllowed('cannot create here', []);
      await dr.require(await dr.requireParent(dr.path), 'bind');
      await assertCanModify(dr, writeTargets(dr.path, false));
    }
    const root = node?.path ?? dr.path;

    // 1. Grant the lock unless a conflicting one exists (§6.1)
    const now = Date.now();
    const lock: LockRecord = {
      token: `urn:uuid:${randomUUID()}`,
      root,
      depth,
      scope: info.scope,
      owner: info.owner,
      principal: dr.ctx.access.principalId,
      timeout: seconds,
      expires: now + seconds * 1000,
    };
    await dr.settings.locks.update(space, (locks) => {
      const conflicts = locks.filter(
        (l) =>
          samePath(l.root, root) ||
          (l.depth === 'infinity' && isDescendant(root, l.root)) ||
          (depth === 'infinity' && isDescendant(l.root, root)),
      );
      if (
        conflicts.some((l) => l.scope === 'exclusive') ||
        (info.scope === 'exclusive' && conflicts.length > 0)
      ) {
        throw new DavError(423, 'a conflicting lock exists', {
          condition: {
            ns: DAV_NS,
            name: 'no-conflicting-lock',
            hrefs: conflicts.map((l) => l.root),
          },
        });
      }
      return { add: [lock], result: undefined };
    });
    dr.invalidate();

    // 2. An unmapped URL becomes a locked empty resource
    if (!node && isContentTree(tree)) {
      try {
        await tree.writeContent(dr.ctx, root, new Uint8Array(0), {
          contentType: 'application/octet-stream',
          check: (current) => {
            if (current) throw DavError.conflict('the resource appeared meanwhile');
          },
        });
      } catch (err) {
        await dr.settings.locks.update(space, () => ({ remove: [lock.token], result: undefined }));
        throw err;
      }
    }
    lockResponse(dr, node ? 200 : 201, lock, { 'lock-token': `<${lock.token}>` });
  },
};
