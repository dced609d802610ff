/**
 * The DAV resource model (the SabreDAV node-tree idea, as plain data plus tree objects). A
 * DavTree serves every path under its prefix and hands out DavNodes; what a tree can do beyond
 * reading is said by the capability interfaces below, each with its type guard (DESIGN rule 9),
 * so method handlers ask `isContentTree(tree)` rather than probing optional methods.
 */

import type { Readable } from 'node:stream';
import type { AccessContext } from '../../core/principal.ts';
import type { ByteRange } from '../../storage/blob-store.ts';
import type { Privilege, PrivilegeSet } from './privileges.ts';

/** Who is asking, plus a per-request memo for trees (owners, privileges, lookups). */
export interface DavContext {
  readonly access: AccessContext;
  /** The caller's principal URL path (RFC 5397). */
  readonly principalPath: string;
  readonly memo: Map<string, unknown>;
}

export interface DavNode {
  /** Decoded absolute path; collections end with '/'. */
  readonly path: string;
  readonly collection: boolean;
  /** DAV:resourcetype children besides DAV:collection, in Clark notation. */
  readonly resourceTypes: readonly string[];
  /** Strong entity tag, quoted (RFC 9110 §8.8.3); undefined when the node has none. */
  readonly etag: string | undefined;
  readonly contentType: string | undefined;
  readonly contentLength: number | undefined;
  readonly lastModified: Date | undefined;
  readonly created: Date | undefined;
  /** Principal path of the owner (RFC 3744 §5.1). */
  readonly owner: string | undefined;
  readonly tree: DavTree;
}

export interface DavTree {
  readonly name: string;
  /** The path prefix it serves, its own root included (e.g. `/dav/files/`). */
  readonly prefix: string;
  /** The node at `path` (either trailing-slash form of a collection), or undefined. */
  lookup(ctx: DavContext, path: string): Promise<DavNode | undefined>;
  /** Members of a collection the caller may see. */
  children(ctx: DavContext, node: DavNode): Promise<DavNode[]>;
  /** The caller's privileges on a node (RFC 3744 §3). */
  privileges(ctx: DavContext, node: DavNode): Promise<PrivilegeSet>;
}

export interface WriteContentOptions {
  readonly contentType: string;
  readonly expectedSize?: number;
  /** Re-checked inside the commit with the current node (preconditions). */
  readonly check?: (existing: DavNode | undefined) => void;
}

/** A tree whose non-collection resources have content (GET, PUT). */
export interface ContentTree extends DavTree {
  readContent(ctx: DavContext, node: DavNode, range?: ByteRange): Promise<Readable>;
  writeContent(
    ctx: DavContext,
    path: string,
    body: AsyncIterable<Uint8Array> | Uint8Array,
    options: WriteContentOptions,
  ): Promise<{ node: DavNode; created: boolean }>;
}

export interface MakeCollectionOptions {
  /** Requested resource types beyond DAV:collection (extended MKCOL, RFC 5689). */
  readonly resourceTypes: readonly string[];
  /** Properties to set: Clark name -> serialized element. */
  readonly properties: ReadonlyMap<string, string>;
}

export interface CopyMoveOptions {
  readonly depth: 0 | 'infinity';
  readonly overwrite: boolean;
  readonly check?: (existing: DavNode | undefined) => void;
}

/** A tree whose namespace can change (MKCOL, DELETE, COPY, MOVE). */
export interface MutableTree extends DavTree {
  makeCollection(ctx: DavContext, path: string, options: MakeCollectionOptions): Promise<DavNode>;
  remove(ctx: DavContext, node: DavNode): Promise<void>;
  copy(
    ctx: DavContext,
    node: DavNode,
    destination: string,
    options: CopyMoveOptions,
  ): Promise<{ created: boolean }>;
  move(
    ctx: DavContext,
    node: DavNode,
    destination: string,
    options: CopyMoveOptions,
  ): Promise<{ created: boolean }>;
}

export interface PropertyPatch {
  readonly set: ReadonlyMap<string, string>;
  readonly remove: ReadonlySet<string>;
}

/** A tree that stores dead properties (PROPPATCH, RFC 4918 §9.2). */
export interface DeadPropertyTree extends DavTree {
  /** Clark name -> serialized element. */
  deadProperties(ctx: DavContext, node: DavNode): Promise<ReadonlyMap<string, string>>;
  /** Apply all of it or nothing. */
  patchProperties(ctx: DavContext, node: DavNode, patch: PropertyPatch): Promise<void>;
}

/** A tree whose resources can be locked (RFC 4918 §6). */
export interface LockingTree extends DavTree {
  /** The lock space of a path (locks are listed per space), undefined when not lockable. */
  lockSpace(ctx: DavContext, path: string): Promise<string | undefined>;
}

export interface QuotaInfo {
  readonly used: number;
  /** Undefined when unlimited and unknown. */
  readonly available: number | undefined;
}

/** A tree that accounts storage (RFC 4331). */
export interface QuotaTree extends DavTree {
  quota(ctx: DavContext, node: DavNode): Promise<QuotaInfo | undefined>;
}

export interface SyncChanges {
  /** The new sync token. */
  readonly token: string;
  /** Members that exist now and changed since the token (or all members, initially). */
  readonly changed: readonly DavNode[];
  /** Paths of members removed since the token. */
  readonly removed: readonly string[];
  /** True when `limit` cut the result short (RFC 6578 §3.6). */
  readonly truncated: boolean;
}

/** A tree with collection synchronization (RFC 6578). */
export interface SyncTree extends DavTree {
  syncToken(ctx: DavContext, node: DavNode): Promise<string | undefined>;
  /** DavError 403 valid-sync-token when the token is not one of ours. */
  changes(
    ctx: DavContext,
    node: DavNode,
    token: string | undefined,
    level: 1 | 'infinity',
    limit: number | undefined,
  ): Promise<SyncChanges>;
}

export interface AccessControlEntry {
  /** Principal path, or a pseudo principal (`{DAV:}all`, `{DAV:}authenticated`, `{DAV:}owner`). */
  readonly principal: string;
  readonly grant: readonly string[];
  readonly protected: boolean;
  /** Path of the node this entry is inherited from. */
  readonly inherited: string | undefined;
}

/** A tree that can show its access control list (DAV:acl, RFC 3744 §5.5). */
export interface AclTree extends DavTree {
  acl(ctx: DavContext, node: DavNode): Promise<AccessControlEntry[]>;
}

/** One entry of an ACL request (RFC 3744 §8.1), checked for shape by the ACL method. */
export interface AclRequestEntry {
  /** Decoded principal path, or a pseudo principal in Clark notation (`{DAV:}all`, ...). */
  readonly principal: string;
  readonly grant: readonly Privilege[];
}

/** A tree whose ACLs can be changed (the ACL method, RFC 3744 §8.1). */
export interface WritableAclTree extends AclTree {
  /** Replace the non-protected, non-inherited entries of the node's ACL. */
  setAcl(ctx: DavContext, node: DavNode, entries: readonly AclRequestEntry[]): Promise<void>;
}

function has<K extends string>(tree: DavTree, ...names: K[]): boolean {
  const t = tree as unknown as Record<string, unknown>;
  return names.every((n) => typeof t[n] === 'function');
}

export const isContentTree = (t: DavTree): t is ContentTree =>
  has(t, 'readContent', 'writeContent');
export const isMutableTree = (t: DavTree): t is MutableTree =>
  has(t, 'makeCollection', 'remove', 'copy', 'move');
export const isDeadPropertyTree = (t: DavTree): t is DeadPropertyTree =>
  has(t, 'deadProperties', 'patchProperties');
export const isLockingTree = (t: DavTree): t is LockingTree => has(t, 'lockSpace');
export const isQuotaTree = (t: DavTree): t is QuotaTree => has(t, 'quota');
export const isSyncTree = (t: DavTree): t is SyncTree => has(t, 'syncToken', 'changes');
export const isAclTree = (t: DavTree): t is AclTree => has(t, 'acl');
export const isWritableAclTree = (t: DavTree): t is WritableAclTree => has(t, 'acl', 'setAcl');
