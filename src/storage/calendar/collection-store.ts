/**
 * Collections of small text resources (calendar objects, vCards), written once for calendars
 * and address books. Per account, under one subspace:
 *
 *   ('home', account)                  -> marker: default collections were made once
 *   ('col', account, collection)       -> 8-byte version + CollectionRecord JSON
 *   ('res', account, collection, name) -> 8-byte version + ResourceRecord JSON
 *   ('uid', account, collection, uid)  -> resource name (one UID per collection, RFC 4791 §4.1)
 *   ('idx', account, collection, name) -> index JSON of a resource (e.g. occurrences)
 *   ('grant', ...), ('sharee', ...)     -> sharing and delegation (collection-grants.ts)
 *
 * Content lives in the BlobStore. The version is the change id of the last write, stamped by
 * the commit (PutOp.stamp), so ETags need no read-then-write. Every write appends change-log
 * entries (collection `<family>:<name>`, id = resource name) for RFC 6578 sync.
 *
 * Reads of whole collections (members, index records) go through a MemberCache caught up from
 * that change log, and contents through a TextCache by content hash (written through on PUT).
 */

import { CommuneError } from '../../core/errors.ts';
import { currentChangeId, readChanges } from '../change-log.ts';
import { encodeJson, pack, prefixRange, unpack, type SubspaceId } from '../keys.ts';
import type { ChangeEntry, ChangeKind, Op } from '../store.ts';
import type { Storage } from '../storage.ts';
import { CollectionGrants } from './collection-grants.ts';
import { MemberCache, type MemberRecords, type MemberSnapshot } from './member-cache.ts';
import { TextCache } from './text-cache.ts';

export interface CollectionRecord {
  /** Dead properties: Clark name -> serialized XML element. */
  readonly props: Readonly<Record<string, string>>;
  /** Component types allowed (calendars: VEVENT, VTODO, ...). */
  readonly components?: readonly string[];
  readonly created: number;
  readonly modified: number;
}

export interface ResourceRecord {
  readonly uid: string;
  readonly blob: string;
  readonly size: number;
  readonly contentType: string;
  /** Main component type (VEVENT, VTODO, VCARD ...). */
  readonly component: string;
  readonly created: number;
  readonly modified: number;
}

export interface Versioned<T> {
  readonly name: string;
  readonly record: T;
  /** Change id of the last write. */
  readonly version: bigint;
  readonly raw: Uint8Array;
}

export interface ResourceChange {
  readonly changeId: bigint;
  readonly name: string;
  readonly kind: ChangeKind;
}

/** A PUT refused because another resource of the collection has the UID (RFC 4791 §5.3.2.1). */
export class UidConflictError extends CommuneError {
  /** Name of the resource holding the UID. */
  readonly existing: string;

  constructor(existing: string) {
    super('already-exists', 'another resource of this collection has this UID');
    this.name = 'UidConflictError';
    this.existing = existing;
  }
}

export interface PutResource {
  readonly text: Uint8Array;
  readonly uid: string;
  readonly component: string;
  readonly contentType: string;
  /** Index record kept beside the resource (undefined: none). */
  readonly index?: unknown;
  /** Re-checked inside the commit with the current resource. */
  readonly check?: (existing: Versioned<ResourceRecord> | undefined) => void;
}

const VERSION_BYTES = 8;
const MAX_ATTEMPTS = 16;
const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();

function encodeVersioned(record: unknown): Uint8Array {
  const json = utf8.encode(JSON.stringify(record));
  const out = new Uint8Array(VERSION_BYTES + json.length);
  out.set(json, VERSION_BYTES);
  return out;
}

function decodeVersioned<T>(name: string, raw: Uint8Array): Versioned<T> {
  const version = new DataView(raw.buffer, raw.byteOffset, VERSION_BYTES).getBigUint64(0);
  const record = JSON.parse(utf8Decoder.decode(raw.subarray(VERSION_BYTES))) as T;
  return { name, record, version, raw };
}

interface Plan<T> {
  readonly ops: Op[];
  readonly changes: ChangeEntry[];
  readonly result: (changeId: bigint) => T;
}

export class CollectionStore {
  /** Sharing of collections and delegation of homes (same subspace). */
  readonly grants: CollectionGrants;
  readonly #storage: Storage;
  readonly #subspace: SubspaceId;
  readonly #family: string;
  readonly #now: () => number;
  /** Members and index records per collection, caught up from the change log. */
  readonly #members: MemberCache;
  readonly #texts = new TextCache();

  constructor(options: {
    storage: Storage;
    subspace: SubspaceId;
    /** Change-log family: 'calendar' or 'addressbook'. */
    family: string;
    now?: () => number;
  }) {
    this.#storage = options.storage;
    this.#subspace = options.subspace;
    this.#family = options.family;
    this.#now = options.now ?? Date.now;
    this.grants = new CollectionGrants(options);
    this.#members = new MemberCache({
      version: (account) => this.currentVersion(account),
      changedSince: (account, collection, since, limit) =>
        this.#changedSince(account, collection, since, limit),
      loadAll: (account, collection) => this.#loadAll(account, collection),
      loadSome: (account, collection, names) => this.#loadSome(account, collection, names),
    });
  }

  #key(...elements: (string | number)[]): Uint8Array {
    return pack(this.#subspace, ...elements);
  }

  /** The change-log collection of a collection's members. */
  logCollection(collection: string): string {
    return `${this.#family}:${collection}`;
  }

  // ---- collections ----

  async getCollection(
    account: number,
    collection: string,
  ): Promise<Versioned<CollectionRecord> | undefined> {
    const raw = await this.#storage.store.get(this.#key('col', account, collection));
    return raw && decodeVersioned(collection, raw);
  }

  async listCollections(account: number): Promise<Versioned<CollectionRecord>[]> {
    const out: Versioned<CollectionRecord>[] = [];
    for await (const [k, raw] of this.#storage.store.scan(prefixRange(this.#key('col', account)))) {
      out.push(decodeVersioned(lastElement(k), raw));
    }
    return out;
  }

  /**
   * Create the default collections of an account once (first access); a collection the user
   * later deletes is not made again.
   */
  async ensureHome(
    account: number,
    defaults: ReadonlyMap<string, Omit<CollectionRecord, 'created' | 'modified'>>,
  ): Promise<void> {
    const homeKey = this.#key('home', account);
    if ((await this.#storage.store.get(homeKey)) !== undefined) return;
    const now = this.#now();
    const ops: Op[] = [
      { type: 'expect', key: homeKey, value: undefined },
      { type: 'put', key: homeKey, value: utf8.encode('1') },
    ];
    const changes: ChangeEntry[] = [];
    for (const [name, init] of defaults) {
      const key = this.#key('col', account, name);
      ops.push({ type: 'expect', key, value: undefined });
      ops.push({
        type: 'put',
        key,
        value: encodeVersioned({ ...init, created: now, modified: now }),
        stamp: { account, valueOffset: 0 },
      });
      changes.push({ account, collection: this.#family, id: name, kind: 'created' });
    }
    // A lost race means another request made the home: nothing to do.
    await this.#storage.commit({ ops, changes });
  }

  async createCollection(
    account: number,
    collection: string,
    init: Omit<CollectionRecord, 'created' | 'modified'>,
  ): Promise<Versioned<CollectionRecord>> {
    const now = this.#now();
    const record: CollectionRecord = { ...init, created: now, modified: now };
    const key = this.#key('col', account, collection);
    const result = await this.#storage.commit({
      ops: [
        { type: 'expect', key, value: undefined },
        { type: 'put', key, value: encodeVersioned(record), stamp: { account, valueOffset: 0 } },
      ],
      changes: [{ account, collection: this.#family, id: collection, kind: 'created' }],
    });
    if (!result.ok) throw new CommuneError('already-exists', 'the collection exists');
    const version = result.changeIds.get(account) ?? 0n;
    return { name: collection, record, version, raw: encodeVersioned(record) };
  }

  /** Set and remove dead properties of a collection, all or nothing. */
  async patchCollection(
    account: number,
    collection: string,
    patch: { set: ReadonlyMap<string, string>; remove: ReadonlySet<string> },
  ): Promise<void> {
    await this.#transact(async () => {
      const current = await this.getCollection(account, collection);
      if (!current) throw new CommuneError('not-found', 'no such collection');
      const props: Record<string, string> = { ...current.record.props };
      for (const name of patch.remove) delete props[name];
      for (const [name, value] of patch.set) props[name] = value;
      const record: CollectionRecord = { ...current.record, props, modified: this.#now() };
      const key = this.#key('col', account, collection);
      return {
        ops: [
          { type: 'expect', key, value: current.raw },
          { type: 'put', key, value: encodeVersioned(record), stamp: { account, valueOffset: 0 } },
        ],
        changes: [{ account, collection: this.#family, id: collection, kind: 'updated' }],
        result: () => undefined,
      };
    });
  }

  /** Remove a collection and every resource in it. */
  async removeCollection(account: number, collection: string): Promise<void> {
    await this.#transact(async () => {
      const current = await this.getCollection(account, collection);
      if (!current) throw new CommuneError('not-found', 'no such collection');
      const ops: Op[] = [
        { type: 'expect', key: this.#key('col', account, collection), value: current.raw },
        { type: 'del', key: this.#key('col', account, collection) },
      ];
      const changes: ChangeEntry[] = [
        { account, collection: this.#family, id: collection, kind: 'destroyed' },
      ];
      ops.push(...(await this.grants.removalOps(account, collection)));
      for (const kind of ['res', 'uid', 'idx']) {
        for await (const [k, v] of this.#storage.store.scan(
          prefixRange(this.#key(kind, account, collection)),
        )) {
          if (kind === 'res') {
            ops.push({ type: 'expect', key: k, value: v });
            changes.push({
              account,
              collection: this.logCollection(collection),
              id: lastElement(k),
              kind: 'destroyed',
            });
          }
          ops.push({ type: 'del', key: k });
        }
      }
      return { ops, changes, result: () => undefined };
    });
  }

  // ---- resources ----

  async getResource(
    account: number,
    collection: string,
    name: string,
  ): Promise<Versioned<ResourceRecord> | undefined> {
    const raw = await this.#storage.store.get(this.#key('res', account, collection, name));
    return raw && decodeVersioned(name, raw);
  }

  async getResources(
    account: number,
    collection: string,
    names: readonly string[],
  ): Promise<(Versioned<ResourceRecord> | undefined)[]> {
    const raws = await this.#storage.store.getMany(
      names.map((n) => this.#key('res', account, collection, n)),
    );
    return raws.map((raw, i) => raw && decodeVersioned(names[i] as string, raw));
  }

  /** The members of a collection in name order (from the member cache). */
  async listResources(account: number, collection: string): Promise<Versioned<ResourceRecord>[]> {
    return [...(await this.#members.snapshot(account, collection)).sorted()];
  }

  /** The members of a collection with their index records, as of now (cached). */
  members(account: number, collection: string): Promise<MemberSnapshot> {
    return this.#members.snapshot(account, collection);
  }

  async #loadAll(account: number, collection: string): Promise<MemberRecords> {
    const resources = new Map<string, Versioned<ResourceRecord>>();
    const indexes = new Map<string, unknown>();
    const store = this.#storage.store;
    for await (const [k, raw] of store.scan(prefixRange(this.#key('res', account, collection)))) {
      const name = lastElement(k);
      resources.set(name, decodeVersioned(name, raw));
    }
    for await (const [k, raw] of store.scan(prefixRange(this.#key('idx', account, collection)))) {
      indexes.set(lastElement(k), JSON.parse(utf8Decoder.decode(raw)) as unknown);
    }
    return { resources, indexes };
  }

  async #loadSome(
    account: number,
    collection: string,
    names: readonly string[],
  ): Promise<MemberRecords> {
    const resources = new Map<string, Versioned<ResourceRecord>>();
    const indexes = new Map<string, unknown>();
    const [res, idx] = await Promise.all(
      ['res', 'idx'].map((kind) =>
        this.#storage.store.getMany(names.map((n) => this.#key(kind, account, collection, n))),
      ),
    );
    names.forEach((name, i) => {
      const r = res?.[i];
      if (r) resources.set(name, decodeVersioned(name, r));
      const x = idx?.[i];
      if (x) indexes.set(name, JSON.parse(utf8Decoder.decode(x)) as unknown);
    });
    return { resources, indexes };
  }

  /** Members changed after `since`; undefined when the collection was removed or made. */
  async #changedSince(
    account: number,
    collection: string,
    since: bigint,
    limit: number,
  ): Promise<string[] | undefined> {
    const { changes } = await readChanges(this.#storage.store, account, since, limit);
    if (changes.length >= limit) return undefined;
    const wanted = this.logCollection(collection);
    const names = new Set<string>();
    for (const c of changes) {
      for (const e of c.entries) {
        if (e.collection === wanted) names.add(e.id);
        else if (e.collection === this.#family && e.id === collection && e.kind !== 'updated') {
          return undefined;
        }
      }
    }
    return [...names];
  }

  /** The content of a resource (kept in a cache by content hash). */
  async text(resource: Versioned<ResourceRecord>): Promise<string> {
    const hash = resource.record.blob;
    const cached = this.#texts.get(hash);
    if (cached !== undefined) return cached;
    const bytes = await this.#storage.blobs.getBytes(hash);
    if (!bytes) throw new CommuneError('unavailable', 'resource content is missing');
    const text = utf8Decoder.decode(bytes);
    this.#texts.set(hash, text);
    return text;
  }

  /**
   * Create or replace a resource. The UID must not be held by another resource of the
   * collection (UidConflictError). Returns the new record and whether it was created.
   */
  async putResource(
    account: number,
    collection: string,
    name: string,
    input: PutResource,
  ): Promise<{ resource: Versioned<ResourceRecord>; created: boolean }> {
    // The content goes into the resource's commit where the blob store allows (one fsync)
    const blobs = this.#storage.blobs;
    const staged = blobs.stage
      ? await blobs.stage(input.text)
      : { ref: await blobs.put(input.text), ops: [] };
    const blob = staged.ref;
    const now = this.#now();
    const stored = await this.#transact(async () => {
      const colKey = this.#key('col', account, collection);
      const col = await this.#storage.store.get(colKey);
      if (!col) throw new CommuneError('conflict', 'the collection does not exist');
      const resKey = this.#key('res', account, collection, name);
      const rawCurrent = await this.#storage.store.get(resKey);
      const current = rawCurrent && decodeVersioned<ResourceRecord>(name, rawCurrent);
      input.check?.(current);
      const uidKey = this.#key('uid', account, collection, input.uid);
      const holderRaw = await this.#storage.store.get(uidKey);
      const holder = holderRaw && utf8Decoder.decode(holderRaw);
      if (holder !== undefined && holder !== name) throw new UidConflictError(holder);
      const record: ResourceRecord = {
        uid: input.uid,
        blob: blob.hash,
        size: blob.size,
        contentType: input.contentType,
        component: input.component,
        created: current?.record.created ?? now,
        modified: now,
      };
      const ops: Op[] = [
        ...staged.ops,
        { type: 'expect', key: colKey, value: col },
        { type: 'expect', key: resKey, value: current?.raw },
        { type: 'expect', key: uidKey, value: holderRaw },
        {
          type: 'put',
          key: resKey,
          value: encodeVersioned(record),
          stamp: { account, valueOffset: 0 },
        },
        { type: 'put', key: uidKey, value: utf8.encode(name) },
      ];
      if (current && current.record.uid !== input.uid) {
        ops.push({ type: 'del', key: this.#key('uid', account, collection, current.record.uid) });
      }
      const idxKey = this.#key('idx', account, collection, name);
      if (input.index === undefined) ops.push({ type: 'del', key: idxKey });
      else ops.push({ type: 'put', key: idxKey, value: encodeJson(input.index) });
      return {
        ops,
        changes: [
          {
            account,
            collection: this.logCollection(collection),
            id: name,
            kind: current ? 'updated' : 'created',
          },
        ],
        result: (version) => ({
          resource: { name, record, version, raw: encodeVersioned(record) },
          created: current === undefined,
        }),
      };
    });
    // Written through: what was just stored is what clients read next (sync, multiget)
    this.#texts.set(blob.hash, utf8Decoder.decode(input.text));
    return stored;
  }

  async removeResource(
    account: number,
    collection: string,
    name: string,
    check?: (existing: Versioned<ResourceRecord> | undefined) => void,
  ): Promise<void> {
    await this.#transact(async () => {
      const current = await this.getResource(account, collection, name);
      check?.(current);
      if (!current) throw new CommuneError('not-found', 'no such resource');
      const resKey = this.#key('res', account, collection, name);
      return {
        ops: [
          { type: 'expect', key: resKey, value: current.raw },
          { type: 'del', key: resKey },
          { type: 'del', key: this.#key('uid', account, collection, current.record.uid) },
          { type: 'del', key: this.#key('idx', account, collection, name) },
        ],
        changes: [
          { account, collection: this.logCollection(collection), id: name, kind: 'destroyed' },
        ],
        result: () => undefined,
      };
    });
  }

  // ---- sync ----

  /** The account's current change id (sync token and getctag of every collection). */
  currentVersion(account: number): Promise<bigint> {
    return currentChangeId(this.#storage.store, account);
  }

  /** Changes of a collection's members after `since`, oldest first. */
  async changesSince(
    account: number,
    collection: string,
    since: bigint,
  ): Promise<ResourceChange[]> {
    const { changes } = await readChanges(this.#storage.store, account, since);
    const wanted = this.logCollection(collection);
    const out: ResourceChange[] = [];
    for (const c of changes) {
      for (const e of c.entries) {
        if (e.collection === wanted) out.push({ changeId: c.changeId, name: e.id, kind: e.kind });
        // A collection removed and made again: its members before are gone too.
        if (e.collection === this.#family && e.id === collection && e.kind === 'destroyed') {
          out.push({ changeId: c.changeId, name: '', kind: 'destroyed' });
        }
      }
    }
    return out;
  }

  async #transact<T>(build: () => Promise<Plan<T>>): Promise<T> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      if (attempt > 0) await sleep(Math.random() * Math.min(50, 2 ** attempt));
      const plan = await build();
      const result = await this.#storage.commit({ ops: plan.ops, changes: plan.changes });
      if (result.ok) {
        const account = plan.changes[0]?.account;
        return plan.result(account === undefined ? 0n : (result.changeIds.get(account) ?? 0n));
      }
    }
    throw new CommuneError('conflict', 'too much concurrent activity, try again');
  }
}

function lastElement(k: Uint8Array): string {
  return unpack(k).elements.at(-1) as string;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
