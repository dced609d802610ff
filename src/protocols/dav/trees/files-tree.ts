/**
 * WebDAV file storage: `/dav/files/<address>/...` maps onto the FilesService tree of that
 * principal. The owner holds every privilege; anyone else only what grants on the node or an
 * ancestor give (protocol-neutral rights mapped to DAV privileges), and a caller with no grant
 * at all in someone's tree gets 403 whether a path exists or not. Locks are kept per account
 * (lock space `files:<id>`), sync tokens are the account's change id.
 */

import type { Readable } from 'node:stream';
import { davPrincipalPath } from '../../../core/principal-names.ts';
import { isCommuneError } from '../../../core/errors.ts';
import type { Principal, Right } from '../../../core/principal.ts';
import type { ByteRange } from '../../../storage/blob-store.ts';
import type { Directory } from '../../../storage/directory/directory.ts';
import type { FileNode, FilesService } from '../../../storage/files/files-service.ts';
import { DavError } from '../dav-error.ts';
import type {
  AccessControlEntry,
  AclTree,
  ContentTree,
  CopyMoveOptions,
  DavContext,
  DavNode,
  DeadPropertyTree,
  LockingTree,
  MakeCollectionOptions,
  MutableTree,
  PropertyPatch,
  QuotaInfo,
  QuotaTree,
  SyncChanges,
  SyncTree,
  WriteContentOptions,
} from '../dav-node.ts';
import { samePath } from '../dav-path.ts';
import { PrivilegeSet, privilegesOfRights } from '../privileges.ts';
import { granteesOf } from '../../../storage/grants.ts';
import { DAV_NS } from '../xml.ts';
import { virtualCollection } from './virtual-collection.ts';

export const FILES_ROOT = '/dav/files/';
export const SYNC_TOKEN_PREFIX = 'urn:commune:sync:';

/** A node of someone's file tree. */
export interface FileDavNode extends DavNode {
  readonly file: { readonly owner: Principal; readonly node: FileNode };
}

export function isFileDavNode(node: DavNode): node is FileDavNode {
  return (node as Partial<FileDavNode>).file !== undefined;
}

interface Located {
  readonly owner: Principal;
  /** Path inside the owner's tree ('/' for the home). */
  readonly rel: string;
}

export interface FilesTreeOptions {
  readonly files: FilesService;
  readonly directory: Directory;
  /** Free space to report as quota-available-bytes for unlimited accounts (RFC 4331 §3). */
  readonly freeSpace?: () => Promise<number | undefined>;
}

/** Domain errors of the files service, as DAV statuses. */
function davErrorOf(err: unknown): unknown {
  if (!isCommuneError(err) || err instanceof DavError) return err;
  switch (err.code) {
    case 'over-quota':
      return new DavError(507, err.message, {
        condition: { ns: DAV_NS, name: 'quota-not-exceeded' },
      });
    case 'already-exists':
      return DavError.preconditionFailed(err.message);
    case 'conflict':
      return DavError.conflict(err.message);
    case 'not-found':
      return DavError.notFound(err.message);
    case 'forbidden':
      return DavError.forbidden(err.message);
    case 'too-large':
      return new DavError(413, err.message);
    case 'invalid-argument':
      return DavError.badRequest(err.message);
    default:
      return err;
  }
}

async function mapped<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (err) {
    throw davErrorOf(err);
  }
}

export class FilesTree
  implements ContentTree, MutableTree, DeadPropertyTree, LockingTree, QuotaTree, SyncTree, AclTree
{
  readonly name = 'files';
  readonly prefix = FILES_ROOT;
  readonly #files: FilesService;
  readonly #directory: Directory;
  readonly #freeSpace: (() => Promise<number | undefined>) | undefined;

  constructor(options: FilesTreeOptions) {
    this.#files = options.files;
    this.#directory = options.directory;
    this.#freeSpace = options.freeSpace;
  }

  /** The home collection path of a principal. */
  static homeOf(principal: Pick<Principal, 'address'>): string {
    return `${FILES_ROOT}${principal.address}/`;
  }

  // ---- mapping ----

  async #owner(ctx: DavContext, address: string): Promise<Principal | undefined> {
    const memoKey = `files:owner:${address}`;
    if (ctx.memo.has(memoKey)) return ctx.memo.get(memoKey) as Principal | undefined;
    const p = await this.#directory.findByAddress(address);
    const owner = p && p.address === address ? p : undefined;
    ctx.memo.set(memoKey, owner);
    return owner;
  }

  async #locate(ctx: DavContext, path: string): Promise<Located | 'top' | undefined> {
    if (samePath(path, FILES_ROOT)) return 'top';
    if (!path.startsWith(FILES_ROOT)) return undefined;
    const rest = path.slice(FILES_ROOT.length);
    const slash = rest.indexOf('/');
    const address = slash < 0 ? rest : rest.slice(0, slash);
    const owner = await this.#owner(ctx, address);
    if (!owner) return undefined;
    return { owner, rel: slash < 0 ? '/' : rest.slice(slash) };
  }

  async #home(ctx: DavContext, path: string): Promise<Located> {
    const loc = await this.#locate(ctx, path);
    if (loc === undefined || loc === 'top') throw DavError.forbidden('not inside a file home');
    await this.#guard(ctx, loc);
    return loc;
  }

  #node(owner: Principal, file: FileNode): FileDavNode {
    const r = file.record;
    const isFile = r.kind === 'file';
    return {
      path: `${FILES_ROOT}${owner.address}${file.path}`,
      collection: !isFile,
      resourceTypes: [],
      etag: isFile ? `"${owner.id.toString(36)}-${file.version.toString(36)}"` : undefined,
      contentType: isFile ? r.contentType : undefined,
      contentLength: isFile ? r.size : undefined,
      lastModified: r.modified > 0 ? new Date(r.modified) : undefined,
      created: r.created > 0 ? new Date(r.created) : undefined,
      owner: davPrincipalPath(owner),
      tree: this,
      file: { owner, node: file },
    };
  }

  #fileOf(node: DavNode): { owner: Principal; node: FileNode } {
    if (!isFileDavNode(node)) throw DavError.forbidden('not a file node');
    return node.file;
  }

  // ---- access ----

  /** Rights others hold on `rel` of the owner's tree, from grants on it and its ancestors. */
  async #rights(
    ctx: DavContext,
    owner: Principal,
    rel: string,
    file?: FileNode,
  ): Promise<Set<Right>> {
    const memoKey = `files:rights:${owner.id}:${rel}`;
    const hit = ctx.memo.get(memoKey) as Set<Right> | undefined;
    if (hit) return hit;
    const who = granteesOf(ctx.access);
    const own = file ?? (await this.#files.find(owner.id, rel));
    const rights = new Set<Right>();
    if (rel !== '/') {
      const parent = rel.replace(/\/?[^/]+\/?$/, '/') || '/';
      for (const r of await this.#rights(ctx, owner, parent)) rights.add(r);
    }
    for (const g of own?.record.grants ?? [])
      if (who.has(g.principal)) for (const r of g.rights) rights.add(r);
    ctx.memo.set(memoKey, rights);
    return rights;
  }

  /** Someone else's tree: 403 unless some grant reaches this path. */
  async #guard(ctx: DavContext, loc: Located): Promise<void> {
    if (loc.owner.id === ctx.access.principalId) return;
    if ((await this.#rights(ctx, loc.owner, loc.rel)).size === 0) {
      throw new DavError(403, 'no access to this file tree', {
        condition: { ns: DAV_NS, name: 'need-privileges' },
      });
    }
  }

  async privileges(ctx: DavContext, node: DavNode): Promise<PrivilegeSet> {
    if (!isFileDavNode(node)) return new PrivilegeSet(['read', 'read-current-user-privilege-set']);
    const { owner, node: file } = node.file;
    if (owner.id === ctx.access.principalId) return PrivilegeSet.all();
    return privilegesOfRights(await this.#rights(ctx, owner, file.path, file));
  }

  // ---- DavTree ----

  async lookup(ctx: DavContext, path: string): Promise<DavNode | undefined> {
    const loc = await this.#locate(ctx, path);
    if (loc === undefined) return undefined;
    if (loc === 'top') return virtualCollection(this, FILES_ROOT);
    await this.#guard(ctx, loc);
    const file = await this.#files.find(loc.owner.id, loc.rel);
    return file && this.#node(loc.owner, file);
  }

  async children(ctx: DavContext, node: DavNode): Promise<DavNode[]> {
    if (!isFileDavNode(node)) {
      if (!samePath(node.path, FILES_ROOT)) return [];
      const me = await this.#directory.getPrincipal(ctx.access.principalId);
      const home = me && (await this.#files.find(me.id, '/'));
      return me && home ? [this.#node(me, home)] : [];
    }
    const { owner, node: file } = node.file;
    if (file.record.kind !== 'collection') return [];
    return (await this.#files.list(owner.id, file.path)).map((f) => this.#node(owner, f));
  }

  // ---- ContentTree ----

  async readContent(_ctx: DavContext, node: DavNode, range?: ByteRange): Promise<Readable> {
    return mapped(this.#files.open(this.#fileOf(node).node, range));
  }

  async writeContent(
    ctx: DavContext,
    path: string,
    body: AsyncIterable<Uint8Array> | Uint8Array,
    options: WriteContentOptions,
  ): Promise<{ node: DavNode; created: boolean }> {
    const { owner, rel } = await this.#home(ctx, path);
    const { node, created } = await mapped(
      this.#files.put(owner.id, rel, body, {
        contentType: options.contentType,
        ...(options.expectedSize === undefined ? {} : { expectedSize: options.expectedSize }),
        check: (current) => options.check?.(current && this.#node(owner, current)),
      }),
    );
    return { node: this.#node(owner, node), created };
  }

  // ---- MutableTree ----

  async makeCollection(
    ctx: DavContext,
    path: string,
    options: MakeCollectionOptions,
  ): Promise<DavNode> {
    if (options.resourceTypes.length > 0) {
      throw DavError.forbidden('only plain collections can be made here', {
        ns: DAV_NS,
        name: 'valid-resourcetype',
      });
    }
    const { owner, rel } = await this.#home(ctx, path);
    return this.#node(owner, await mapped(this.#files.mkcol(owner.id, rel, options.properties)));
  }

  async remove(_ctx: DavContext, node: DavNode): Promise<void> {
    const { owner, node: file } = this.#fileOf(node);
    await mapped(this.#files.remove(owner.id, file.path));
  }

  async copy(
    ctx: DavContext,
    node: DavNode,
    destination: string,
    options: CopyMoveOptions,
  ): Promise<{ created: boolean }> {
    return this.#relocate(ctx, node, destination, options, false);
  }

  async move(
    ctx: DavContext,
    node: DavNode,
    destination: string,
    options: CopyMoveOptions,
  ): Promise<{ created: boolean }> {
    return this.#relocate(ctx, node, destination, options, true);
  }

  async #relocate(
    ctx: DavContext,
    node: DavNode,
    destination: string,
    options: CopyMoveOptions,
    move: boolean,
  ): Promise<{ created: boolean }> {
    const { owner, node: file } = this.#fileOf(node);
    const dest = await this.#home(ctx, destination);
    const from = { account: owner.id, path: file.path };
    const to = { account: dest.owner.id, path: dest.rel };
    const check = (current: FileNode | undefined): void =>
      options.check?.(current && this.#node(dest.owner, current));
    return mapped(
      move
        ? this.#files.move(from, to, { overwrite: options.overwrite, check })
        : this.#files.copy(from, to, { depth: options.depth, overwrite: options.overwrite, check }),
    );
  }

  // ---- DeadPropertyTree ----

  async deadProperties(_ctx: DavContext, node: DavNode): Promise<ReadonlyMap<string, string>> {
    if (!isFileDavNode(node)) return new Map();
    return new Map(Object.entries(node.file.node.record.props ?? {}));
  }

  async patchProperties(_ctx: DavContext, node: DavNode, patch: PropertyPatch): Promise<void> {
    const { owner, node: file } = this.#fileOf(node);
    await mapped(this.#files.patchProperties(owner.id, file.path, patch));
  }

  // ---- LockingTree ----

  async lockSpace(ctx: DavContext, path: string): Promise<string | undefined> {
    const loc = await this.#locate(ctx, path);
    return loc === undefined || loc === 'top' ? undefined : `files:${loc.owner.id}`;
  }

  // ---- QuotaTree ----

  async quota(_ctx: DavContext, node: DavNode): Promise<QuotaInfo | undefined> {
    if (!isFileDavNode(node) || !node.collection) return undefined;
    const id = node.file.owner.id;
    const [used, quota] = await Promise.all([this.#files.used(id), this.#files.quota(id)]);
    const available = quota > 0 ? Math.max(0, quota - used) : await this.#freeSpace?.();
    return { used, available };
  }

  // ---- SyncTree ----

  async syncToken(_ctx: DavContext, node: DavNode): Promise<string | undefined> {
    if (!isFileDavNode(node) || !node.collection) return undefined;
    return `${SYNC_TOKEN_PREFIX}${await this.#files.currentVersion(node.file.owner.id)}`;
  }

  async changes(
    ctx: DavContext,
    node: DavNode,
    token: string | undefined,
    level: 1 | 'infinity',
    limit: number | undefined,
  ): Promise<SyncChanges> {
    const { owner, node: dir } = this.#fileOf(node);
    const current = await this.#files.currentVersion(owner.id);
    const invalid = (): DavError =>
      DavError.forbidden('unknown sync token', { ns: DAV_NS, name: 'valid-sync-token' });
    const inScope = (p: string): boolean => {
      if (!p.startsWith(dir.path) || p === dir.path) return false;
      if (level === 'infinity') return true;
      const inner = p.slice(dir.path.length).replace(/\/$/, '');
      return !inner.includes('/');
    };

    // 1. Initial: every member now
    if (token === undefined) {
      const members: DavNode[] = [];
      const walk = async (at: FileNode): Promise<void> => {
        for (const child of await this.#files.list(owner.id, at.path)) {
          members.push(this.#node(owner, child));
          if (level === 'infinity' && child.record.kind === 'collection') await walk(child);
        }
      };
      await walk(dir);
      if (limit !== undefined && members.length > limit) {
        throw new DavError(507, 'more members than the limit', {
          condition: { ns: DAV_NS, name: 'number-of-matches-within-limits' },
        });
      }
      return {
        token: `${SYNC_TOKEN_PREFIX}${current}`,
        changed: members,
        removed: [],
        truncated: false,
      };
    }

    // 2. Incremental: the change log since the token
    if (!token.startsWith(SYNC_TOKEN_PREFIX)) throw invalid();
    const digits = token.slice(SYNC_TOKEN_PREFIX.length);
    if (!/^\d{1,20}$/.test(digits)) throw invalid();
    const since = BigInt(digits);
    if (since > current) throw invalid();
    const { changes } = await this.#files.changesSince(owner.id, since);
    const latest = new Map<string, bigint>();
    let newToken = current;
    let truncated = false;
    for (const c of changes) {
      if (!inScope(c.path)) continue;
      if (limit !== undefined && !latest.has(c.path) && latest.size >= limit) {
        newToken = c.changeId - 1n;
        truncated = true;
        break;
      }
      latest.set(c.path, c.changeId);
    }
    const changed: DavNode[] = [];
    const removed: string[] = [];
    for (const path of latest.keys()) {
      const now = await this.#files.find(owner.id, path);
      if (now) changed.push(this.#node(owner, now));
      else removed.push(`${FILES_ROOT}${owner.address}${path}`);
    }
    return { token: `${SYNC_TOKEN_PREFIX}${newToken}`, changed, removed, truncated };
  }

  // ---- AclTree ----

  async acl(_ctx: DavContext, node: DavNode): Promise<AccessControlEntry[]> {
    if (!isFileDavNode(node)) return [];
    const { owner, node: file } = node.file;
    const out: AccessControlEntry[] = [
      { principal: davPrincipalPath(owner), grant: ['all'], protected: true, inherited: undefined },
    ];
    const lineage = await this.#files.lineage(owner.id, file.path);
    for (const n of lineage) {
      for (const g of n?.record.grants ?? []) {
        const who = await this.#directory.getPrincipal(g.principal);
        if (!who) continue;
        out.push({
          principal: davPrincipalPath(who),
          grant: privilegesOfRights(g.rights).expanded(),
          protected: false,
          inherited:
            n && n.path !== file.path ? `${FILES_ROOT}${owner.address}${n.path}` : undefined,
        });
      }
    }
    return out;
  }
}
