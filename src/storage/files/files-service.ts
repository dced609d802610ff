/**
 * The files domain service: one tree of collections and files per account, written once for
 * every protocol (WebDAV today; the co-editing bridge later). Content lives in the BlobStore
 * (streamed, content-addressed); records live under Subspace.files:
 *
 *   ('node', account, parentPath, name) -> 8-byte version + FileRecord JSON
 *   ('members', account, path)          -> int64, bumped when a member of the collection is
 *                                          added (guards removal of the collection)
 *   ('used', account)                   -> int64, bytes of file content (quota accounting)
 *
 * The version is the change id of the last content write, stamped by the commit (PutOp.stamp),
 * so a strong ETag never needs a read-then-write. Every mutation is one atomic commit guarded by
 * `expect` on the records it read (optimistic concurrency, retried on a lost race). Adding a
 * member expects the parent record and bumps the parent's member counter (an `incr`, so
 * concurrent creations in one collection do not conflict with each other), while removing or
 * moving a collection expects the member counters it read, so a delete of a collection and a
 * create inside it cannot both win. Each commit appends change entries for
 * the owning account with collection `files` and the member path as id (RFC 6578 sync).
 */

import type { Readable } from 'node:stream';
import { CommuneError } from '../../core/errors.ts';
import type { ByteRange } from '../blob-store.ts';
import type { Grant } from '../grants.ts';
import { readChanges, currentChangeId } from '../change-log.ts';
import { Subspace, decodeCounter, pack, prefixRange, unpack } from '../keys.ts';
import type { ChangeEntry, ChangeKind, Op } from '../store.ts';
import type { Storage } from '../storage.ts';
import { isWithin, joinPath, splitPath } from './file-path.ts';

/** The change-log collection of file changes. */
export const FILES_COLLECTION = 'files';

/** A grant on a node reaches its whole subtree. */
export type FileGrant = Grant;

export interface FileRecord {
  readonly kind: 'collection' | 'file';
  /** SHA-256 of the content (files). */
  readonly blob?: string;
  /** Content bytes (0 for collections). */
  readonly size: number;
  readonly contentType?: string;
  /** Epoch ms. */
  readonly created: number;
  readonly modified: number;
  /** Dead properties: Clark name -> serialized XML element. */
  readonly props?: Readonly<Record<string, string>>;
  /** Access granted to other principals on this node and below. */
  readonly grants?: readonly FileGrant[];
}

export interface FileNode {
  readonly account: number;
  readonly path: string;
  readonly record: FileRecord;
  /** Change id of the last content write (strong ETag source); 0 for a virtual root. */
  readonly version: bigint;
  /** The stored bytes (undefined for the virtual root of an empty tree). */
  readonly raw: Uint8Array | undefined;
}

export interface FileChange {
  readonly changeId: bigint;
  readonly path: string;
  readonly kind: ChangeKind;
}

export interface FilesServiceOptions {
  readonly storage: Storage;
  /** Quota of an account in bytes; 0 = unlimited. */
  readonly quotaOf: (account: number) => Promise<number>;
  /** Largest single file, in bytes. */
  readonly maxFileSize?: number;
  readonly now?: () => number;
}

export interface PutOptions {
  readonly contentType: string;
  /** Declared length, for an early quota refusal before any byte is stored. */
  readonly expectedSize?: number;
  /** Called with the current node (or undefined) before streaming and again inside the commit. */
  readonly check?: (existing: FileNode | undefined) => void;
}

export interface CopyOptions {
  /** 0: the node alone (a collection without members); 'infinity': the whole subtree. */
  readonly depth: 0 | 'infinity';
  readonly overwrite: boolean;
  /** Called with the destination node (or undefined) inside the commit. */
  readonly check?: (existing: FileNode | undefined) => void;
}

export interface PropertyPatch {
  readonly set: ReadonlyMap<string, string>;
  readonly remove: ReadonlySet<string>;
}

export interface TreeRef {
  readonly account: number;
  readonly path: string;
}

const MAX_ATTEMPTS = 32;
const DEFAULT_MAX_FILE = 16 * 1024 ** 3;
const VERSION_BYTES = 8;

const key = {
  node: (account: number, parent: string, name: string) =>
    pack(Subspace.files, 'node', account, parent, name),
  members: (account: number, parent: string) => pack(Subspace.files, 'node', account, parent),
  memberCount: (account: number, path: string) => pack(Subspace.files, 'members', account, path),
  used: (account: number) => pack(Subspace.files, 'used', account),
};

function nodeKey(account: number, path: string): Uint8Array {
  const { parent, name } = splitPath(path);
  return key.node(account, parent, name);
}

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();

function encodeRecord(version: bigint, record: FileRecord): Uint8Array {
  const json = utf8.encode(JSON.stringify(record));
  const out = new Uint8Array(VERSION_BYTES + json.length);
  new DataView(out.buffer).setBigUint64(0, version);
  out.set(json, VERSION_BYTES);
  return out;
}

function decodeNode(account: number, path: string, raw: Uint8Array): FileNode {
  const version = new DataView(raw.buffer, raw.byteOffset, VERSION_BYTES).getBigUint64(0);
  const record = JSON.parse(utf8Decoder.decode(raw.subarray(VERSION_BYTES))) as FileRecord;
  return { account, path, record, version, raw };
}

interface Plan<T> {
  readonly ops: Op[];
  readonly changes: ChangeEntry[];
  readonly result: (changeId: bigint | undefined) => T;
}

export class FilesService {
  readonly #storage: Storage;
  readonly #quotaOf: (account: number) => Promise<number>;
  readonly #maxFileSize: number;
  readonly #now: () => number;

  constructor(options: FilesServiceOptions) {
    this.#storage = options.storage;
    this.#quotaOf = options.quotaOf;
    this.#maxFileSize = options.maxFileSize ?? DEFAULT_MAX_FILE;
    this.#now = options.now ?? Date.now;
  }

  // ---- reading ----

  /** The node at `path`; the root always exists (virtual until something is stored). */
  async stat(account: number, path: string): Promise<FileNode | undefined> {
    const found = await this.#read(account, path);
    if (found && (found.record.kind === 'collection') !== path.endsWith('/')) return undefined;
    return found;
  }

  /** The node at `path` whatever the trailing slash (a collection asked for as `/x`). */
  async find(account: number, path: string): Promise<FileNode | undefined> {
    const bare = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
    if (bare === '/') return this.#read(account, '/');
    const asFile = await this.#read(account, bare);
    if (!asFile) return undefined;
    const canonical = asFile.record.kind === 'collection' ? `${bare}/` : bare;
    return { ...asFile, path: canonical };
  }

  /** Members of a collection, in name order. */
  async list(account: number, path: string): Promise<FileNode[]> {
    const out: FileNode[] = [];
    for await (const [k, raw] of this.#storage.store.scan(
      prefixRange(key.members(account, path)),
    )) {
      const name = nameOfKey(k);
      const probe = decodeNode(account, joinPath(path, name, false), raw);
      out.push(
        probe.record.kind === 'collection' ? { ...probe, path: joinPath(path, name, true) } : probe,
      );
    }
    return out;
  }

  /** Nodes of every ancestor of `path`, root first (virtual root included), then the node. */
  async lineage(account: number, path: string): Promise<(FileNode | undefined)[]> {
    const paths: string[] = [];
    let { parent } = splitPath(path);
    while (parent !== '') {
      paths.unshift(parent);
      parent = splitPath(parent).parent;
    }
    paths.push(path);
    const raws = await this.#storage.store.getMany(paths.map((p) => nodeKey(account, p)));
    return raws.map((raw, i) => {
      const p = paths[i] as string;
      if (raw !== undefined) return decodeNode(account, p, raw);
      return p === '/' ? this.#virtualRoot(account) : undefined;
    });
  }

  /** Stream the content of a file (or a byte range of it). */
  async open(node: FileNode, range?: ByteRange): Promise<Readable> {
    const hash = node.record.blob;
    if (node.record.kind !== 'file' || hash === undefined) {
      throw new CommuneError('invalid-argument', 'not a file');
    }
    const stream = await this.#storage.blobs.get(hash, range);
    if (!stream) throw new CommuneError('unavailable', 'file content is missing');
    return stream;
  }

  /** Bytes of file content stored by the account. */
  async used(account: number): Promise<number> {
    return Number(decodeCounter(await this.#storage.store.get(key.used(account))));
  }

  /** Quota in bytes (0 = unlimited). */
  quota(account: number): Promise<number> {
    return this.#quotaOf(account);
  }

  /** The account's current change id (the sync token of every collection). */
  currentVersion(account: number): Promise<bigint> {
    return currentChangeId(this.#storage.store, account);
  }

  /** File changes of the account after `since`, oldest first. */
  async changesSince(
    account: number,
    since: bigint,
  ): Promise<{ changes: FileChange[]; last: bigint }> {
    const { changes, lastChangeId } = await readChanges(this.#storage.store, account, since);
    const out: FileChange[] = [];
    for (const c of changes) {
      for (const e of c.entries) {
        if (e.collection === FILES_COLLECTION)
          out.push({ changeId: c.changeId, path: e.id, kind: e.kind });
      }
    }
    return { changes: out, last: lastChangeId };
  }

  // ---- writing ----

  /**
   * Create or replace a file with streamed content. The content goes to the blob store first
   * (bounded by the file size limit and the remaining quota), then the record is committed.
   */
  async put(
    account: number,
    path: string,
    source: Readable | AsyncIterable<Uint8Array> | Uint8Array,
    options: PutOptions,
  ): Promise<{ node: FileNode; created: boolean }> {
    const { parent, collection } = splitPath(path);
    if (collection) throw new CommuneError('invalid-argument', 'a file path has no trailing slash');
    // 1. Refuse early what the commit would refuse anyway
    const existing = await this.#read(account, path);
    options.check?.(existing);
    await this.#requireCollection(account, parent);
    if (existing?.record.kind === 'collection')
      throw new CommuneError('conflict', 'a collection exists there');
    const quota = await this.#quotaOf(account);
    let room = this.#maxFileSize;
    if (quota > 0) {
      room = Math.min(room, quota - (await this.used(account)) + (existing?.record.size ?? 0));
      if (options.expectedSize !== undefined && options.expectedSize > room) {
        throw new CommuneError('over-quota', 'not enough storage left');
      }
    }
    // 2. Stream the content
    let blob;
    try {
      blob = await this.#storage.blobs.put(source, { maxSize: Math.max(0, room) });
    } catch (err) {
      if (
        quota > 0 &&
        err instanceof CommuneError &&
        err.code === 'too-large' &&
        room < this.#maxFileSize
      ) {
        throw new CommuneError('over-quota', 'not enough storage left');
      }
      throw err;
    }
    // 3. Commit the record
    const now = this.#now();
    return this.#transact(async () => {
      const current = await this.#read(account, path);
      options.check?.(current);
      const parentNode = await this.#requireCollection(account, parent);
      if (current?.record.kind === 'collection')
        throw new CommuneError('conflict', 'a collection exists there');
      const delta = blob.size - (current?.record.size ?? 0);
      const ops: Op[] = [{ type: 'expect', key: nodeKey(account, path), value: current?.raw }];
      await this.#quotaOps(account, delta, ops);
      const record: FileRecord = {
        kind: 'file',
        blob: blob.hash,
        size: blob.size,
        contentType: options.contentType,
        created: current?.record.created ?? now,
        modified: now,
        ...(current?.record.props ? { props: current.record.props } : {}),
        ...(current?.record.grants ? { grants: current.record.grants } : {}),
      };
      ops.push({
        type: 'put',
        key: nodeKey(account, path),
        value: encodeRecord(0n, record),
        stamp: { account, valueOffset: 0 },
      });
      if (!current) ops.push(...this.#memberOps(parentNode));
      return {
        ops,
        changes: [change(account, path, current ? 'updated' : 'created')],
        result: (id) => ({
          node: { account, path, record, version: id ?? 0n, raw: undefined },
          created: current === undefined,
        }),
      };
    });
  }

  /** Create a collection (MKCOL), optionally with dead properties. */
  async mkcol(
    account: number,
    path: string,
    props?: ReadonlyMap<string, string>,
  ): Promise<FileNode> {
    const { parent, collection } = splitPath(path);
    if (!collection || path === '/')
      throw new CommuneError('invalid-argument', 'not a collection path');
    const now = this.#now();
    return this.#transact(async () => {
      const current = await this.find(account, path);
      if (current) throw new CommuneError('already-exists', 'something exists there');
      const parentNode = await this.#requireCollection(account, parent);
      const record: FileRecord = {
        kind: 'collection',
        size: 0,
        created: now,
        modified: now,
        ...(props && props.size > 0 ? { props: Object.fromEntries(props) } : {}),
      };
      const ops: Op[] = [
        { type: 'expect', key: nodeKey(account, path), value: undefined },
        {
          type: 'put',
          key: nodeKey(account, path),
          value: encodeRecord(0n, record),
          stamp: { account, valueOffset: 0 },
        },
        ...this.#memberOps(parentNode),
      ];
      return {
        ops,
        changes: [change(account, path, 'created')],
        result: (id) => ({ account, path, record, version: id ?? 0n, raw: undefined }),
      };
    });
  }

  /** Remove a node and everything below it. */
  async remove(account: number, path: string): Promise<void> {
    if (path === '/') throw new CommuneError('forbidden', 'the root collection cannot be removed');
    await this.#transact(async () => {
      const node = await this.#read(account, path);
      if (!node) throw new CommuneError('not-found', 'no such file or collection');
      const parentNode = await this.#requireCollection(account, splitPath(path).parent);
      const subtree = await this.#subtree(node, 'infinity');
      const ops: Op[] = [];
      let freed = 0;
      for (const n of subtree) {
        ops.push({ type: 'expect', key: nodeKey(account, n.path), value: n.raw });
        ops.push({ type: 'del', key: nodeKey(account, n.path) });
        freed += n.record.kind === 'file' ? n.record.size : 0;
      }
      if (freed > 0) ops.push({ type: 'incr', key: key.used(account), delta: BigInt(-freed) });
      ops.push(...(await this.#stableOps(subtree)));
      ops.push({ type: 'expect', key: nodeKey(account, parentNode.path), value: parentNode.raw });
      return {
        ops,
        changes: subtree.map((n) => change(account, n.path, 'destroyed')),
        result: () => undefined,
      };
    });
  }

  /** Copy a node (and with depth infinity its subtree) to another place, maybe another account. */
  async copy(from: TreeRef, to: TreeRef, options: CopyOptions): Promise<{ created: boolean }> {
    return this.#relocate(from, to, options, false);
  }

  /** Move a node and its subtree; the source is gone afterwards. */
  async move(
    from: TreeRef,
    to: TreeRef,
    options: Omit<CopyOptions, 'depth'>,
  ): Promise<{ created: boolean }> {
    return this.#relocate(from, to, { ...options, depth: 'infinity' }, true);
  }

  /** Set and remove dead properties atomically (PROPPATCH). */
  async patchProperties(account: number, path: string, patch: PropertyPatch): Promise<void> {
    await this.#rewrite(account, path, (record) => {
      const props: Record<string, string> = { ...record.props };
      for (const name of patch.remove) delete props[name];
      for (const [name, value] of patch.set) props[name] = value;
      const { props: _old, ...rest } = record;
      return Object.keys(props).length > 0 ? { ...rest, props } : rest;
    });
  }

  /** Replace the grants on a node (sharing); an empty list removes them. */
  async setGrants(account: number, path: string, grants: readonly FileGrant[]): Promise<void> {
    await this.#rewrite(account, path, (record) => {
      const { grants: _old, ...rest } = record;
      const kept = grants.filter((g) => g.rights.length > 0);
      return kept.length > 0 ? { ...rest, grants: kept } : rest;
    });
  }

  // ---- internals ----

  async #read(account: number, path: string): Promise<FileNode | undefined> {
    const raw = await this.#storage.store.get(nodeKey(account, path));
    if (raw !== undefined) return decodeNode(account, path, raw);
    return path === '/' ? this.#virtualRoot(account) : undefined;
  }

  #virtualRoot(account: number): FileNode {
    return {
      account,
      path: '/',
      record: { kind: 'collection', size: 0, created: 0, modified: 0 },
      version: 0n,
      raw: undefined,
    };
  }

  async #requireCollection(account: number, path: string): Promise<FileNode> {
    const node = await this.#read(account, path);
    if (node?.record.kind !== 'collection') {
      throw new CommuneError('conflict', 'the parent collection does not exist');
    }
    return node;
  }

  /** A new member of `parent`: the parent must stay as read; its member counter moves. */
  #memberOps(parent: FileNode): Op[] {
    return [
      { type: 'expect', key: nodeKey(parent.account, parent.path), value: parent.raw },
      { type: 'incr', key: key.memberCount(parent.account, parent.path), delta: 1n },
    ];
  }

  /** Removing these nodes: no member may have been added to a collection among them. */
  async #stableOps(nodes: readonly FileNode[]): Promise<Op[]> {
    const collections = nodes.filter((n) => n.record.kind === 'collection');
    const keys = collections.map((n) => key.memberCount(n.account, n.path));
    const values = await this.#storage.store.getMany(keys);
    const ops: Op[] = [];
    keys.forEach((k, i) => {
      ops.push({ type: 'expect', key: k, value: values[i] }, { type: 'del', key: k });
    });
    return ops;
  }

  async #quotaOps(account: number, delta: number, ops: Op[]): Promise<void> {
    if (delta === 0) return;
    const quota = delta > 0 ? await this.#quotaOf(account) : 0;
    if (quota > 0) {
      const raw = await this.#storage.store.get(key.used(account));
      if (Number(decodeCounter(raw)) + delta > quota) {
        throw new CommuneError('over-quota', 'not enough storage left');
      }
      ops.push({ type: 'expect', key: key.used(account), value: raw });
    }
    ops.push({ type: 'incr', key: key.used(account), delta: BigInt(delta) });
  }

  /** The node, then (depth infinity) its descendants in pre-order. */
  async #subtree(node: FileNode, depth: 0 | 'infinity'): Promise<FileNode[]> {
    const out = [node];
    if (depth === 0 || node.record.kind !== 'collection') return out;
    for (const child of await this.list(node.account, node.path)) {
      out.push(...(await this.#subtree(child, 'infinity')));
    }
    return out;
  }

  async #rewrite(
    account: number,
    path: string,
    edit: (r: FileRecord) => FileRecord,
  ): Promise<void> {
    await this.#transact(async () => {
      const node = await this.#read(account, path);
      if (!node) throw new CommuneError('not-found', 'no such file or collection');
      const next = edit(node.record);
      return {
        ops: [
          { type: 'expect', key: nodeKey(account, path), value: node.raw },
          { type: 'put', key: nodeKey(account, path), value: encodeRecord(node.version, next) },
        ],
        changes: [change(account, path, 'updated')],
        result: () => undefined,
      };
    });
  }

  async #relocate(
    from: TreeRef,
    to: TreeRef,
    options: CopyOptions,
    move: boolean,
  ): Promise<{ created: boolean }> {
    const sameTree = from.account === to.account;
    if (sameTree && (isWithin(to.path, from.path) || isWithin(from.path, to.path))) {
      throw new CommuneError('forbidden', 'source and destination overlap');
    }
    const now = this.#now();
    return this.#transact(async () => {
      // 1. Read the source subtree, the destination and both parents
      const source = await this.find(from.account, from.path);
      if (!source) throw new CommuneError('not-found', 'no such file or collection');
      const isCollection = source.record.kind === 'collection';
      const target = isCollection
        ? to.path.endsWith('/')
          ? to.path
          : `${to.path}/`
        : to.path.replace(/\/$/, '');
      const existing = await this.find(to.account, target.replace(/\/$/, '') || '/');
      options.check?.(existing);
      if (existing && !options.overwrite)
        throw new CommuneError('already-exists', 'the destination exists');
      if (existing?.path === '/') throw new CommuneError('forbidden', 'cannot overwrite the root');
      const subtree = await this.#subtree(source, options.depth);
      const ops: Op[] = [];
      const changes: ChangeEntry[] = [];
      const sizes = (nodes: FileNode[]): number =>
        nodes.reduce((n, x) => n + (x.record.kind === 'file' ? x.record.size : 0), 0);

      // 2. Clear the destination
      const replaced = existing ? await this.#subtree(existing, 'infinity') : [];
      for (const n of replaced) {
        ops.push({ type: 'expect', key: nodeKey(to.account, n.path), value: n.raw });
        ops.push({ type: 'del', key: nodeKey(to.account, n.path) });
      }
      const created = new Set<string>();

      // 3. Write the copies
      for (const n of subtree) {
        const rel = n.path.slice(source.path.length);
        const dest = target + rel;
        created.add(dest);
        const { grants: _g, ...rest } = n.record;
        const record: FileRecord = move
          ? { ...rest, ...(n.record.grants && sameTree ? { grants: n.record.grants } : {}) }
          : { ...rest, created: now, modified: now };
        const keepVersion = move && sameTree;
        ops.push({
          type: 'put',
          key: nodeKey(to.account, dest),
          value: encodeRecord(keepVersion ? n.version : 0n, record),
          ...(keepVersion ? {} : { stamp: { account: to.account, valueOffset: 0 } }),
        });
        const existed = replaced.some((r) => r.path === dest);
        changes.push(change(to.account, dest, existed ? 'updated' : 'created'));
      }
      for (const r of replaced) {
        if (!created.has(r.path)) changes.push(change(to.account, r.path, 'destroyed'));
      }

      // 4. Remove the source (move)
      if (move) {
        for (const n of subtree) {
          ops.push({ type: 'expect', key: nodeKey(from.account, n.path), value: n.raw });
          if (!(sameTree && created.has(n.path))) {
            ops.push({ type: 'del', key: nodeKey(from.account, n.path) });
            changes.push(change(from.account, n.path, 'destroyed'));
          }
        }
      }

      // 5. Parents and quota
      const destParent = await this.#requireCollection(to.account, splitPath(target).parent);
      ops.push(...(await this.#stableOps(replaced)));
      if (move) ops.push(...(await this.#stableOps(subtree)));
      ops.push(...this.#memberOps(destParent));
      const added = sizes(subtree);
      const removed = sizes(replaced);
      if (move && !sameTree) {
        await this.#quotaOps(to.account, added - removed, ops);
        await this.#quotaOps(from.account, -added, ops);
      } else if (move) {
        await this.#quotaOps(to.account, -removed, ops);
      } else {
        await this.#quotaOps(to.account, added - removed, ops);
      }
      return { ops, changes, result: () => ({ created: existing === undefined }) };
    });
  }

  /** Build and commit a plan, rebuilding it from fresh reads when it lost a race. */
  async #transact<T>(build: () => Promise<Plan<T>>): Promise<T> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      // Back off a little (randomized) after a lost race
      if (attempt > 0) await sleep(Math.random() * Math.min(50, 2 ** attempt));
      const plan = await build();
      const accounts = new Set(plan.changes.map((c) => c.account));
      const result = await this.#storage.commit({ ops: plan.ops, changes: plan.changes });
      if (result.ok) {
        const [first] = accounts;
        return plan.result(first === undefined ? undefined : result.changeIds.get(first));
      }
      // Lost a race: the rebuilt plan re-reads and re-checks everything (quota included).
    }
    throw new CommuneError('conflict', 'too much concurrent activity on these files, try again');
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function change(account: number, path: string, kind: ChangeKind): ChangeEntry {
  return { account, collection: FILES_COLLECTION, id: path, kind };
}

/** The name element (last) of a node key. */
function nameOfKey(k: Uint8Array): string {
  return unpack(k).elements.at(-1) as string;
}
