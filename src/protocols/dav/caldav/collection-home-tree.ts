/**
 * The shape CalDAV and CardDAV share: `<root><address>/` is a principal's home, its members are
 * collections (calendars or address books) of a CollectionStore, and their members are text
 * resources (calendar objects, vCards). The owner holds every privilege; anyone else only what
 * the owner granted (home-access.ts: delegation of the home, grants on a collection; no grant
 * at all is 403), changed with the ACL method. A collection shared with the caller also shows
 * in the caller's own home (share-mounts.ts) and acts there on the owner's data. Collections
 * sync with the owner's change id (RFC 6578), shared by getctag.
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
import { acesOfGrants, grantsOfAcl } from '../acl-grants.ts';
import type {
  AccessControlEntry,
  AclRequestEntry,
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
  WritableAclTree,
  WriteContentOptions,
} from '../dav-node.ts';
import { samePath } from '../dav-path.ts';
import { PrivilegeSet } from '../privileges.ts';
import { CALENDARSERVER_NS, DAV_NS, clark } from '../xml.ts';
import { virtualCollection } from '../trees/virtual-collection.ts';
import { SYNC_TOKEN_PREFIX } from '../trees/files-tree.ts';
import { HomeAccess } from './home-access.ts';
import { sharesOf, type ShareMount } from './share-mounts.ts';

/** Resource type of a collection seen through a share (CalendarServer sharing). */
export const SHARED_TYPE = clark(CALENDARSERVER_NS, 'shared');

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

/** A collection as served: the owner's record, and the share it is seen through, if any. */
export interface HomeCollection extends Versioned<CollectionRecord> {
  readonly mount?: ShareMount;
}

export interface HomeRef {
  /** Whose data it is (the account every store call acts on). */
  readonly owner: Principal;
  readonly collection?: HomeCollection;
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
  /** The owner's name of the collection. */
  readonly collection: string | undefined;
  readonly resource: string | undefined;
  /** Set when the path goes through a share in the caller's home. */
  readonly mount?: ShareMount;
}

function withMount(
  col: Versioned<CollectionRecord>,
  mount: ShareMount | undefined,
): HomeCollection {
  return mount ? { ...col, mount } : col;
}

export class CollectionHomeTree
  implements ContentTree, MutableTree, DeadPropertyTree, SyncTree, WritableAclTree
{
  readonly name: string;
  readonly prefix: string;
  readonly kind: HomeKind;
  readonly access: HomeAccess;
  readonly #directory: Directory;

  constructor(kind: HomeKind, directory: Directory) {
    this.name = kind.name;
    this.prefix = kind.root;
    this.kind = kind;
    this.access = new HomeAccess(kind.store, kind.name);
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
    const col = collection === undefined || collection === '' ? undefined : collection;
    const res = resource === undefined || resource === '' ? undefined : resource;
    if (owner.id === ctx.access.principalId) {
      const mount = col === undefined ? undefined : await this.#mountAt(ctx, owner, col);
      if (mount) return { owner: mount.owner, collection: mount.collection, resource: res, mount };
      return { owner, collection: col, resource: res };
    }
    // Someone else's home: only through a grant, and 403 whether the path exists or not.
    const rights =
      col === undefined
        ? await this.access.homeRights(ctx, owner.id)
        : await this.access.collectionRights(ctx, owner.id, col);
    if (rights.size === 0) {
      throw new DavError(403, 'no access to this home', {
        condition: { ns: DAV_NS, name: 'need-privileges' },
      });
    }
    return { owner, collection: col, resource: res };
  }

  /** The share shown at `name` in the caller's home; the caller's own collections win. */
  async #mountAt(ctx: DavContext, me: Principal, name: string): Promise<ShareMount | undefined> {
    if (this.kind.mounts?.some((m) => m.name === name)) return undefined;
    const mount = (await this.#shares(ctx, me)).find((m) => m.name === name);
    if (!mount || (await this.kind.store.getCollection(me.id, name))) return undefined;
    return mount;
  }

  #shares(ctx: DavContext, me: Principal): Promise<readonly ShareMount[]> {
    return sharesOf(ctx, this.name, this.kind.store, this.#directory, me);
  }

  homeNode(owner: Principal): HomeDavNode {
    return {
      ...virtualCollection(this, this.homeOf(owner), davPrincipalPath(owner)),
      home: { owner },
    };
  }

  /** Where a collection is served: the owner's home, or the sharee's for a share. */
  #pathOf(owner: Principal, col: HomeCollection): string {
    const m = col.mount;
    return m ? this.collectionPath(m.home, m.name) : this.collectionPath(owner, col.name);
  }

  collectionNode(owner: Principal, col: HomeCollection): HomeDavNode {
    return {
      path: this.#pathOf(owner, col),
      collection: true,
      resourceTypes: col.mount
        ? [this.kind.collectionType, SHARED_TYPE]
        : [this.kind.collectionType],
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

  resourceNode(owner: Principal, col: HomeCollection, res: Versioned<ResourceRecord>): HomeDavNode {
    return {
      path: `${this.#pathOf(owner, col)}${res.name}`,
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
    const mine = loc.owner.id === ctx.access.principalId && !loc.mount;
    const mount = mine ? this.kind.mounts?.find((m) => m.name === loc.collection) : undefined;
    if (mount) {
      if (loc.resource !== undefined && path.endsWith('/')) return undefined;
      return mount.node(ctx, loc.owner, loc.resource);
    }
    const stored = await this.kind.store.getCollection(loc.owner.id, loc.collection);
    if (!stored) return undefined;
    const col = withMount(stored, loc.mount);
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
      const mine = owner.id === ctx.access.principalId;
      const mounted: DavNode[] = [];
      for (const m of mine ? (this.kind.mounts ?? []) : []) {
        const n = await m.node(ctx, owner, undefined);
        if (n) mounted.push(n);
      }
      const stored = (await this.kind.store.listCollections(owner.id)).filter(
        (c) => !mounted.some((n) => n.path === this.collectionPath(owner, c.name)),
      );
      const taken = new Set([
        ...stored.map((c) => c.name),
        ...(this.kind.mounts ?? []).map((m) => m.name),
      ]);
      const shared: DavNode[] = [];
      for (const m of mine ? await this.#shares(ctx, owner) : []) {
        if (taken.has(m.name)) continue;
        const col = await this.kind.store.getCollection(m.owner.id, m.collection);
        if (col) shared.push(this.collectionNode(m.owner, withMount(col, m)));
      }
      return [...stored.map((c) => this.collectionNode(owner, c)), ...mounted, ...shared];
    }
    return (await this.kind.store.listResources(owner.id, collection.name)).map((r) =>
      this.resourceNode(owner, collection, r),
    );
  }

  async privileges(ctx: DavContext, node: DavNode): Promise<PrivilegeSet> {
    if (!isHomeDavNode(node)) return new PrivilegeSet(['read', 'read-current-user-privilege-set']);
    const { owner, collection } = node.home;
    const rights = collection
      ? await this.access.collectionRights(ctx, owner.id, collection.name)
      : await this.access.homeRights(ctx, owner.id);
    return this.access.privileges(ctx, owner.id, rights);
  }

  /** The collection a node is or is in. */
  collectionOf(node: DavNode): { owner: Principal; collection: HomeCollection } {
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
    const stored = await this.kind.store.getCollection(loc.owner.id, loc.collection);
    if (!stored) throw DavError.conflict('the collection does not exist');
    const col = withMount(stored, loc.mount);
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
    if (loc === undefined || loc === 'top' || !loc.collection || loc.resource || loc.mount) {
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

  async remove(ctx: DavContext, node: DavNode): Promise<void> {
    const { owner, collection } = this.collectionOf(node);
    const res = (node as HomeDavNode).home.resource;
    if (!res && collection.mount) {
      await this.#decline(ctx, owner, collection.name);
      return;
    }
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
    const sameCollection = loc.owner.id === owner.id && loc.collection === collection.name;
    if (move && sameCollection) {
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
    if (move && !sameCollection) {
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
      else removed.push(`${this.#pathOf(owner, collection)}${name}`);
    });
    return { token: `${SYNC_TOKEN_PREFIX}${newToken}`, changed, removed, truncated };
  }

  // ---- sharing ----

  /** A sharee deleting a share from its home declines it (its own grant is removed). */
  async #decline(ctx: DavContext, owner: Principal, collection: string): Promise<void> {
    const me = ctx.access.principalId;
    const grants = await this.kind.store.grants.grantsOf(owner.id, collection);
    if (!grants.some((g) => g.principal === me)) {
      throw DavError.forbidden('shared with a group: only the owner can remove it');
    }
    await this.#mapped(
      this.kind.store.grants.setGrant(owner.id, collection, me, undefined),
      owner,
      collection,
    );
  }

  // ---- AclTree ----

  async acl(_ctx: DavContext, node: DavNode): Promise<AccessControlEntry[]> {
    if (!isHomeDavNode(node)) return [];
    const { owner, collection, resource } = node.home;
    const out: AccessControlEntry[] = [
      { principal: davPrincipalPath(owner), grant: ['all'], protected: true, inherited: undefined },
    ];
    const grants = this.kind.store.grants;
    const home = await grants.homeGrants(owner.id);
    out.push(...(await acesOfGrants(home, this.#directory, collection && this.homeOf(owner))));
    if (collection) {
      const own = await grants.grantsOf(owner.id, collection.name);
      const from = resource ? this.collectionPath(owner, collection.name) : undefined;
      out.push(...(await acesOfGrants(own, this.#directory, from)));
    }
    return out;
  }

  /** ACL on a collection shares it; ACL on a home delegates the whole home. */
  async setAcl(ctx: DavContext, node: DavNode, entries: readonly AclRequestEntry[]): Promise<void> {
    if (!isHomeDavNode(node) || node.home.resource || node.home.collection?.mount) {
      throw DavError.forbidden('ACLs are set on a home or on one of its own collections');
    }
    const { owner, collection } = node.home;
    const grants = await grantsOfAcl(entries, owner, this.#directory);
    if (collection) {
      await this.#mapped(
        this.kind.store.grants.setGrants(owner.id, collection.name, grants),
        owner,
        collection.name,
      );
    } else {
      await this.kind.store.grants.setHomeGrants(owner.id, grants);
    }
    ctx.memo.clear();
  }
}
