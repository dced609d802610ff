/**
 * The shape CalDAV and CardDAV share: `<root><address>/` is a principal's home, its members are
 * collections (calendars or address books) of a CollectionStore, and their members are text
 * resources (calendar objects, vCards). The owner holds every privilege; anyone else gets 403.
 * Collections sync with the account's change id (RFC 6578), shared by getctag.
 */

import { Readable } from 'node:stream';
import { davPrincipalPath } from '../../../core/principal-names.ts';
import { isCommuneError } from '../../../core/errors.ts';
import type { Principal } from '../../../core/principal.ts';
import {
  UidConflictError,
  type CollectionRecord,
  type CollectionStore,
  type ResourceRecord,
  type Versioned,
} from '../../../storage/calendar/collection-store.ts';
import type { Directory } from '../../../storage/directory/directory.ts';
import { DavError } from '../dav-error.ts';
import type {
  ContentTree,
  CopyMoveOptions,
  DavContext,
  DavNode,
  DeadPropertyTree,
  MakeCollectionOptions,
  MutableTree,
  PropertyPatch,
  SyncChanges,
  SyncTree,
  WriteContentOptions,
} from '../dav-node.ts';
import { samePath } from '../dav-path.ts';
import { PrivilegeSet } from '../privileges.ts';
import { DAV_NS } from '../xml.ts';
import { virtualCollection } from '../trees/virtual-collection.ts';
import { SYNC_TOKEN_PREFIX } from '../trees/files-tree.ts';

/** What a home tree is made of: the store, the collection kind and the resource rules. */
export interface HomeKind {
  readonly name: string;
  /** e.g. `/dav/calendars/`. */
  readonly root: string;
  readonly store: CollectionStore;
  /** Namespace of the RFC's preconditions (CalDAV or CardDAV). */
  readonly ns: string;
  /** Resource type of a collection, Clark notation. */
  readonly collectionType: string;
  readonly maxResourceSize: number;
  ensureHome(account: number): Promise<void>;
  /** Create a collection; resourceTypes are those asked for besides DAV:collection. */
  create(account: number, name: string, options: MakeCollectionOptions): Promise<void>;
  put(
    account: number,
    collection: string,
    name: string,
    text: Uint8Array,
    options: {
      contentType: string;
      check?: (existing: Versioned<ResourceRecord> | undefined) => void;
    },
  ): Promise<{ resource: Versioned<ResourceRecord>; created: boolean }>;
  /** Generated collections shown in every home besides the stored ones. */
  readonly mounts?: readonly HomeMount[];
}

/** A collection at a fixed name in every home, served by another tree (e.g. the directory). */
export interface HomeMount {
  readonly name: string;
  /** The collection (resource undefined) or one of its members, for the home's owner. */
  node(
    ctx: DavContext,
    owner: Principal,
    resource: string | undefined,
  ): Promise<DavNode | undefined>;
}

export interface HomeRef {
  readonly owner: Principal;
  readonly collection?: Versioned<CollectionRecord>;
  readonly resource?: Versioned<ResourceRecord>;
}

export interface HomeDavNode extends DavNode {
  readonly home: HomeRef;
}

export function isHomeDavNode(node: DavNode): node is HomeDavNode {
  return (node as Partial<HomeDavNode>).home !== undefined;
}

/** The tree's precondition errors (a `condition` name in the kind's namespace) as DavErrors. */
export function davErrorOf(err: unknown, ns: string, hrefOf: (name: string) => string): unknown {
  if (err instanceof DavError || !isCommuneError(err)) return err;
  if (err instanceof UidConflictError) {
    return new DavError(403, err.message, {
      condition: { ns, name: 'no-uid-conflict', hrefs: [hrefOf(err.existing)] },
    });
  }
  const condition = (err as { condition?: unknown }).condition;
  if (typeof condition === 'string') {
    return new DavError(403, err.message, { condition: { ns, name: condition } });
  }
  switch (err.code) {
    case 'already-exists':
      return DavError.methodNotAllowed(err.message, []);
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

async function readLimited(
  body: AsyncIterable<Uint8Array> | Uint8Array,
  max: number,
): Promise<Uint8Array | undefined> {
  if (body instanceof Uint8Array) return body.length > max ? undefined : body;
  const parts: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > max) return undefined;
    parts.push(chunk);
  }
  return Buffer.concat(parts);
}

interface Located {
  readonly owner: Principal;
  readonly collection: string | undefined;
  readonly resource: string | undefined;
}

export class CollectionHomeTree implements ContentTree, MutableTree, DeadPropertyTree, SyncTree {
  readonly name: string;
  readonly prefix: string;
  readonly kind: HomeKind;
  readonly #directory: Directory;

  constructor(kind: HomeKind, directory: Directory) {
    this.name = kind.name;
    this.prefix = kind.root;
    this.kind = kind;
    this.#directory = directory;
  }

  homeOf(owner: Pick<Principal, 'address'>): string {
    return `${this.prefix}${owner.address}/`;
  }

  collectionPath(owner: Pick<Principal, 'address'>, collection: string): string {
    return `${this.homeOf(owner)}${collection}/`;
  }

  resourcePath(owner: Pick<Principal, 'address'>, collection: string, name: string): string {
    return `${this.homeOf(owner)}${collection}/${name}`;
  }

  #mapped<T>(work: Promise<T>, owner: Principal, collection: string): Promise<T> {
    return work.catch((err: unknown) => {
      throw davErrorOf(err, this.kind.ns, (n) => this.resourcePath(owner, collection, n));
    });
  }

  // ---- mapping ----

  async #owner(ctx: DavContext, address: string): Promise<Principal | undefined> {
    const memoKey = `${this.name}:owner:${address}`;
    if (ctx.memo.has(memoKey)) return ctx.memo.get(memoKey) as Principal | undefined;
    const p = await this.#directory.findByAddress(address);
    const owner = p && p.address === address ? p : undefined;
    if (owner && owner.id === ctx.access.principalId) await this.kind.ensureHome(owner.id);
    ctx.memo.set(memoKey, owner);
    return owner;
  }

  async #locate(ctx: DavContext, path: string): Promise<Located | 'top' | undefined> {
    if (samePath(path, this.prefix)) return 'top';
    if (!path.startsWith(this.prefix)) return undefined;
    const parts = path.slice(this.prefix.length).split('/');
    const [address, collection, resource, extra] = parts;
    if (address === undefined || address === '') return undefined;
    if (extra !== undefined && !(extra === '' && parts.length === 4)) return undefined;
    const owner = await this.#owner(ctx, address);
    if (!owner) return undefined;
    if (owner.id !== ctx.access.principalId) {
      throw new DavError(403, 'no access to this home', {
        condition: { ns: DAV_NS, name: 'need-privileges' },
      });
    }
    return {
      owner,
      collection: collection === undefined || collection === '' ? undefined : collection,
      resource: resource === undefined || resource === '' ? undefined : resource,
    };
  }

  homeNode(owner: Principal): HomeDavNode {
    return {
      ...virtualCollection(this, this.homeOf(owner), davPrincipalPath(owner)),
      home: { owner },
    };
  }

  collectionNode(owner: Principal, col: Versioned<CollectionRecord>): HomeDavNode {
    return {
      path: this.collectionPath(owner, col.name),
      collection: true,
      resourceTypes: [this.kind.collectionType],
      etag: undefined,
      contentType: undefined,
      contentLength: undefined,
      lastModified: new Date(col.record.modified),
      created: new Date(col.record.created),
      owner: davPrincipalPath(owner),
      tree: this,
      home: { owner, collection: col },
    };
  }

  resourceNode(
    owner: Principal,
    col: Versioned<CollectionRecord>,
    res: Versioned<ResourceRecord>,
  ): HomeDavNode {
    return {
      path: this.resourcePath(owner, col.name, res.name),
      collection: false,
      resourceTypes: [],
      etag: `"${res.version.toString(36)}"`,
      contentType: res.record.contentType,
      contentLength: res.record.size,
      lastModified: new Date(res.record.modified),
      created: new Date(res.record.created),
      owner: davPrincipalPath(owner),
      tree: this,
      home: { owner, collection: col, resource: res },
    };
  }

  // ---- DavTree ----

  async lookup(ctx: DavContext, path: string): Promise<DavNode | undefined> {
    const loc = await this.#locate(ctx, path);
    if (loc === undefined) return undefined;
    if (loc === 'top') return virtualCollection(this, this.prefix);
    if (loc.collection === undefined) return this.homeNode(loc.owner);
    const mount = this.kind.mounts?.find((m) => m.name === loc.collection);
    if (mount) {
      if (loc.resource !== undefined && path.endsWith('/')) return undefined;
      return mount.node(ctx, loc.owner, loc.resource);
    }
    const col = await this.kind.store.getCollection(loc.owner.id, loc.collection);
    if (!col) return undefined;
    if (loc.resource === undefined) return this.collectionNode(loc.owner, col);
    if (path.endsWith('/')) return undefined;
    const res = await this.kind.store.getResource(loc.owner.id, loc.collection, loc.resource);
    return res && this.resourceNode(loc.owner, col, res);
  }

  async children(ctx: DavContext, node: DavNode): Promise<DavNode[]> {
    if (!isHomeDavNode(node)) {
      if (!samePath(node.path, this.prefix)) return [];
      const me = await this.#directory.getPrincipal(ctx.access.principalId);
      if (!me) return [];
      await this.kind.ensureHome(me.id);
      return [this.homeNode(me)];
    }
    const { owner, collection, resource } = node.home;
    if (resource) return [];
    if (!collection) {
      const mounted: DavNode[] = [];
      for (const m of this.kind.mounts ?? []) {
        const n = await m.node(ctx, owner, undefined);
        if (n) mounted.push(n);
      }
      const stored = (await this.kind.store.listCollections(owner.id)).filter(
        (c) => !mounted.some((n) => n.path === this.collectionPath(owner, c.name)),
      );
      return [...stored.map((c) => this.collectionNode(owner, c)), ...mounted];
    }
    return (await this.kind.store.listResources(owner.id, collection.name)).map((r) =>
      this.resourceNode(owner, collection, r),
    );
  }

  async privileges(ctx: DavContext, node: DavNode): Promise<PrivilegeSet> {
    if (!isHomeDavNode(node)) return new PrivilegeSet(['read', 'read-current-user-privilege-set']);
    if (node.home.owner.id === ctx.access.principalId) return PrivilegeSet.all();
    return PrivilegeSet.none();
  }

  /** The collection a node is or is in. */
  collectionOf(node: DavNode): { owner: Principal; collection: Versioned<CollectionRecord> } {
    if (!isHomeDavNode(node) || !node.home.collection) {
      throw DavError.forbidden('not inside a collection');
    }
    return { owner: node.home.owner, collection: node.home.collection };
  }

  // ---- ContentTree ----

  async readContent(_ctx: DavContext, node: DavNode): Promise<Readable> {
    if (!isHomeDavNode(node) || !node.home.resource) throw DavError.notFound();
    return Readable.from([Buffer.from(await this.kind.store.text(node.home.resource))]);
  }

  async writeContent(
    ctx: DavContext,
    path: string,
    body: AsyncIterable<Uint8Array> | Uint8Array,
    options: WriteContentOptions,
  ): Promise<{ node: DavNode; created: boolean }> {
    const loc = await this.#locate(ctx, path);
    if (loc === undefined || loc === 'top' || !loc.collection || !loc.resource) {
      throw DavError.forbidden('resources live inside a collection');
    }
    const col = await this.kind.store.getCollection(loc.owner.id, loc.collection);
    if (!col) throw DavError.conflict('the collection does not exist');
    const { owner } = loc;
    const text = await readLimited(body, this.kind.maxResourceSize);
    if (!text) {
      throw new DavError(403, 'the resource is too large', {
        condition: { ns: this.kind.ns, name: 'max-resource-size' },
      });
    }
    const { resource, created } = await this.#mapped(
      this.kind.put(owner.id, col.name, loc.resource, text, {
        contentType: options.contentType,
        check: (current) => options.check?.(current && this.resourceNode(owner, col, current)),
      }),
      owner,
      col.name,
    );
    return { node: this.resourceNode(owner, col, resource), created };
  }

  // ---- MutableTree ----

  async makeCollection(
    ctx: DavContext,
    path: string,
    options: MakeCollectionOptions,
  ): Promise<DavNode> {
    const loc = await this.#locate(ctx, path);
    if (loc === undefined || loc === 'top' || !loc.collection || loc.resource) {
      throw DavError.forbidden('collections are made in a home', {
        ns: DAV_NS,
        name: 'valid-resourcetype',
      });
    }
    if (!options.resourceTypes.includes(this.kind.collectionType)) {
      throw DavError.forbidden('only calendars and address books are made here', {
        ns: DAV_NS,
        name: 'valid-resourcetype',
      });
    }
    await this.#mapped(this.kind.create(loc.owner.id, loc.collection, options), loc.owner, '');
    const col = await this.kind.store.getCollection(loc.owner.id, loc.collection);
    if (!col) throw DavError.conflict('the collection vanished');
    return this.collectionNode(loc.owner, col);
  }

  async remove(_ctx: DavContext, node: DavNode): Promise<void> {
    const { owner, collection } = this.collectionOf(node);
    const res = (node as HomeDavNode).home.resource;
    if (res) {
      await this.#mapped(
        this.kind.store.removeResource(owner.id, collection.name, res.name, (current) => {
          if (!current || current.version !== res.version)
            throw DavError.preconditionFailed('the resource changed');
        }),
        owner,
        collection.name,
      );
    } else {
      await this.#mapped(this.kind.store.removeCollection(owner.id, collection.name), owner, '');
    }
  }

  copy(
    ctx: DavContext,
    node: DavNode,
    destination: string,
    options: CopyMoveOptions,
  ): Promise<{ created: boolean }> {
    return this.#relocate(ctx, node, destination, options, false);
  }

  move(
    ctx: DavContext,
    node: DavNode,
    destination: string,
    options: CopyMoveOptions,
  ): Promise<{ created: boolean }> {
    return this.#relocate(ctx, node, destination, options, true);
  }

  /** Copy or move a resource between collections of one home (Apple moves events so). */
  async #relocate(
    ctx: DavContext,
    node: DavNode,
    destination: string,
    options: CopyMoveOptions,
    move: boolean,
  ): Promise<{ created: boolean }> {
    const res = isHomeDavNode(node) ? node.home.resource : undefined;
    if (!res) throw DavError.forbidden('only resources can be copied or moved');
    const { owner, collection } = this.collectionOf(node);
    const existing = await this.lookup(ctx, destination);
    if (existing && !options.overwrite) throw DavError.preconditionFailed('the destination exists');
    options.check?.(existing);
    const loc = await this.#locate(ctx, destination);
    if (loc === undefined || loc === 'top' || !loc.collection || !loc.resource) {
      throw DavError.forbidden('resources live inside a collection');
    }
    const text = new TextEncoder().encode(await this.kind.store.text(res));
    if (move && loc.collection === collection.name) {
      // Renaming inside one collection: free the UID first.
      await this.kind.store.removeResource(owner.id, collection.name, res.name);
    }
    const { created } = await this.#mapped(
      this.kind.put(loc.owner.id, loc.collection, loc.resource, text, {
        contentType: res.record.contentType,
      }),
      loc.owner,
      loc.collection,
    );
    if (move && loc.collection !== collection.name) {
      await this.kind.store.removeResource(owner.id, collection.name, res.name);
    }
    return { created };
  }

  // ---- DeadPropertyTree ----

  async deadProperties(_ctx: DavContext, node: DavNode): Promise<ReadonlyMap<string, string>> {
    if (!isHomeDavNode(node) || !node.home.collection || node.home.resource) return new Map();
    return new Map(Object.entries(node.home.collection.record.props));
  }

  async patchProperties(_ctx: DavContext, node: DavNode, patch: PropertyPatch): Promise<void> {
    if (!isHomeDavNode(node) || !node.home.collection || node.home.resource) {
      throw DavError.forbidden('properties are kept on collections only');
    }
    const { owner, collection } = node.home;
    await this.#mapped(
      this.kind.store.patchCollection(owner.id, collection.name, patch),
      owner,
      collection.name,
    );
  }

  // ---- SyncTree ----

  async syncToken(_ctx: DavContext, node: DavNode): Promise<string | undefined> {
    if (!isHomeDavNode(node) || !node.home.collection || node.home.resource) return undefined;
    return `${SYNC_TOKEN_PREFIX}${await this.kind.store.currentVersion(node.home.owner.id)}`;
  }

  async changes(
    _ctx: DavContext,
    node: DavNode,
    token: string | undefined,
    _level: 1 | 'infinity',
    limit: number | undefined,
  ): Promise<SyncChanges> {
    const { owner, collection } = this.collectionOf(node);
    const current = await this.kind.store.currentVersion(owner.id);
    const invalid = (): DavError =>
      DavError.forbidden('unknown sync token', { ns: DAV_NS, name: 'valid-sync-token' });
    // 1. Initial: every member now
    if (token === undefined) {
      const members = await this.kind.store.listResources(owner.id, collection.name);
      if (limit !== undefined && members.length > limit) {
        throw new DavError(507, 'more members than the limit', {
          condition: { ns: DAV_NS, name: 'number-of-matches-within-limits' },
        });
      }
      return {
        token: `${SYNC_TOKEN_PREFIX}${current}`,
        changed: members.map((r) => this.resourceNode(owner, collection, r)),
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
    const changes = await this.kind.store.changesSince(owner.id, collection.name, since);
    // The collection was removed and made again since the token: start over.
    if (changes.some((c) => c.name === '' && c.changeId > since) && since < collection.version) {
      throw invalid();
    }
    const seen = new Set<string>();
    let newToken = current;
    let truncated = false;
    for (const c of changes) {
      if (c.name === '' || seen.has(c.name)) continue;
      if (limit !== undefined && seen.size >= limit) {
        newToken = c.changeId - 1n;
        truncated = true;
        break;
      }
      seen.add(c.name);
    }
    const names = [...seen];
    const now = await this.kind.store.getResources(owner.id, collection.name, names);
    const changed: DavNode[] = [];
    const removed: string[] = [];
    names.forEach((name, i) => {
      const r = now[i];
      if (r) changed.push(this.resourceNode(owner, collection, r));
      else removed.push(this.resourcePath(owner, collection.name, name));
    });
    return { token: `${SYNC_TOKEN_PREFIX}${newToken}`, changed, removed, truncated };
  }
}
