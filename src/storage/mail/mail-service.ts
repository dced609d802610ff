/**
 * MailService: mailboxes and messages of every account, written once for IMAP, SMTP delivery
 * and (later) JMAP. Every method takes the caller's AccessContext and the account (principal
 * id) it acts on; access is decided in one place (#authorize: owners only for now).
 *
 * Model
 * - The account's change id (change-log.ts) IS the MODSEQ (RFC 7162): every mutation of a
 *   mailbox is one atomic commit with change entries `{collection: 'mailbox:<id>', id: uid |
 *   'mailbox', kind}`; message entries and HIGHESTMODSEQ carry the commit's id by stamp. The
 *   bus nudge names those collections: a session re-reads with `changesSince`.
 * - Mailbox: stable numeric `id` (MAILBOXID `M<id>`), '/'-separated `name` (INBOX is
 *   case-insensitive), `role` (special use), `uidValidity` (new per incarnation of a name),
 *   `noselect` placeholders (RFC 9051 §6.3.5). UIDs are given in commit order, never reused.
 * - Message: an index entry per (mailbox, uid) (flags, size, internal date, emailId,
 *   threadId, modseq) and one EmailRecord per stored message (ENVELOPE, BODYSTRUCTURE, part
 *   offsets, blob hash, search digest), shared by its copies; the bytes are a blob, stored
 *   byte-exact and deduplicated.
 * - Store access, op builders and the transaction loop live in mail-repository.ts, the key
 *   layout in mail-keys.ts, the MIME indexer in mime/, SEARCH evaluation in search/.
 *
 * API overview (all async; errors are CommuneError)
 *   ensureDefaults(ctx, account)                      INBOX Drafts Sent Junk Trash Archive
 *   listMailboxes(ctx, account) -> MailboxInfo[]      with status, subscribed, hasChildren
 *   getMailbox / findMailbox(name) / findByRole / status / mailboxKeywords
 *   createMailbox(ctx, account, name, {role?})        parents created (RFC 9051 §6.3.4)
 *   deleteMailbox(ctx, account, id)                   §6.3.5: \Noselect when it has children
 *   renameMailbox(ctx, account, id, newName)          §6.3.6: children move; INBOX special
 *   subscribe / unsubscribe / listSubscriptions       by name
 *   append(ctx, account, mailboxId, source, options) -> AppendResult {uid, modseq, ...}
 *   deliver(account, source, {mailbox?, flags?})      SMTP delivery (trusted, no ctx)
 *   listMessages(ctx, account, mailboxId) -> MessageSummary[]   the session's index
 *   getMessage(s)(ctx, account, mailboxId, uid(s)) -> MessageRecord (summary + EmailRecord)
 *   openMessage / readMessage(ctx, account, mailboxId, uid, range?)   blob bytes; sections
 *     come from mime/mime-part.ts sectionRange(record.parts, path, kind) and, for
 *     HEADER.FIELDS, mime/header-fields.ts selectHeaderFields
 *   store(ctx, account, mailboxId, uids, {op, flags, unchangedSince?}) -> StoreResult
 *   copy / move(ctx, account, fromId, uids, toId) -> CopyResult (COPYUID mapping)
 *   expunge(ctx, account, mailboxId, uids?) -> ExpungeResult (only \Deleted messages)
 *   changesSince(ctx, account, mailboxId, modseq) -> {changed, vanished, highestModseq}
 *   search(ctx, account, mailboxId, criteria, {view?, now?}) -> {uids, highestModseq}
 *     criteria are the IMAP parser's SearchKey[]; `$` must be substituted by the caller
 *   quota(ctx, account) -> {storage, messages, limit}
 *
 * Error codes: not-found (no such mailbox/message), already-exists (name or role taken),
 * invalid-argument (bad name or flag, INBOX delete, rename into itself, \Noselect target),
 * conflict (delete of a \Noselect mailbox with children; too much contention), forbidden
 * (another account), over-quota, too-large (beyond maxMessageSize).
 */

import type { Readable } from 'node:stream';
import type { AccessContext, Right } from '../../core/principal.ts';
import { CommuneError, isCommuneError } from '../../core/errors.ts';
import type { SearchKey } from '../../protocols/imap/parser/commands/search.ts';
import type { BlobSource, ByteRange } from '../blob-store.ts';
import type { Directory } from '../directory/directory.ts';
import type { ChangeEntry, Op } from '../store.ts';
import type { Storage } from '../storage.ts';
import { decodeCounter, decodeJson, encodeJson, prefixRange, unpack } from '../keys.ts';
import { appendBatchPlan } from './append-batch.ts';
import type { PendingAppend } from './append-batch.ts';
import { Coalescer } from './coalescer.ts';
import { disjointRuns, storeBatchPlan, storesOverlap } from './store-batch.ts';
import type { PendingStore } from './store-batch.ts';
import { headerDigest, threadLinks } from './header-digest.ts';
import { MailRepository, objectIdOf } from './mail-repository.ts';
import { mailboxChange, noChange, putHighestModseq, putMailbox, putTombstone } from './mail-ops.ts';
import { MAILBOX_COUNTERS, MAX_UID, mailKeys } from './mail-keys.ts';
import type {
  AppendOptions,
  AppendResult,
  ChangesSinceResult,
  CopyResult,
  ExpungeResult,
  MailboxInfo,
  MailboxRecord,
  MailboxRole,
  MailboxStatus,
  MessageRecord,
  MessageSummary,
  QuotaUsage,
  SearchOptions,
  SearchResult,
  StoreOperation,
  StoreResult,
} from './mail-types.ts';
import { INBOX, isDescendant, normalizeMailboxName, parentNames } from './mailbox-name.ts';
import { decodeModseq } from './message-entry.ts';
import { DELETED, hasFlag, normalizeFlags } from './message-flags.ts';
import { storeAndIndex } from './message-source.ts';
import type { MimeLimits } from './mime/mime-indexer.ts';
import { runSearch } from './search/mail-search.ts';
import type { SearchSources } from './search/mail-search.ts';

export interface MailServiceOptions {
  readonly storage: Storage;
  readonly directory: Directory;
  readonly now?: () => Date;
  /** Largest message accepted, bytes (APPENDLIMIT, RFC 7889). Default 64 MiB. */
  readonly maxMessageSize?: number;
  readonly mimeLimits?: Partial<MimeLimits>;
}

/** Default mailboxes of a new account (RFC 6154 special use). */
export const DEFAULT_MAILBOXES: readonly { name: string; role: MailboxRole }[] = [
  { name: INBOX, role: 'inbox' },
  { name: 'Drafts', role: 'drafts' },
  { name: 'Sent', role: 'sent' },
  { name: 'Junk', role: 'junk' },
  { name: 'Trash', role: 'trash' },
  { name: 'Archive', role: 'archive' },
];

const DEFAULT_MAX_MESSAGE = 64 * 1024 * 1024;
const EMPTY = new Uint8Array(0);

function uniqueSorted(uids: readonly number[]): number[] {
  return [...new Set(uids)].filter((u) => Number.isSafeInteger(u) && u > 0).sort((a, b) => a - b);
}

export class MailService {
  readonly maxMessageSize: number;
  readonly #storage: Storage;
  readonly #directory: Directory;
  readonly #now: () => Date;
  readonly #mimeLimits: Partial<MimeLimits>;
  readonly #repo: MailRepository;
  readonly #appends: Coalescer<number, PendingAppend, AppendResult>;
  readonly #stores: Coalescer<number, PendingStore, StoreResult>;

  constructor(options: MailServiceOptions) {
    this.#storage = options.storage;
    this.#directory = options.directory;
    this.#now = options.now ?? (() => new Date());
    this.maxMessageSize = options.maxMessageSize ?? DEFAULT_MAX_MESSAGE;
    this.#mimeLimits = options.mimeLimits ?? {};
    this.#repo = new MailRepository({
      storage: this.#storage,
      directory: this.#directory,
      now: this.#now,
    });
    // Two STORE batches may commit side by side (the second joins the store's next group
    // commit); a STORE waits for an earlier one in flight that touches its messages.
    this.#stores = new Coalescer((account, items) => this.#commitStores(account, items), {
      pipeline: 2,
      conflicts: storesOverlap,
    });
    this.#appends = new Coalescer((account, items) =>
      this.#repo.transact(account, (r) =>
        appendBatchPlan(this.#repo, r, this.#storage.store, account, items),
      ),
    );
  }

  // ---- access ----

  /**
   * The one access decision of the mail service: may `ctx` use `right` on `account`'s
   * mailboxes? Only the owner for now; shared mailboxes will consult grants here.
   */
  #authorize(ctx: AccessContext, account: number, right: Right): void {
    if (ctx.principalId !== account) {
      throw new CommuneError('forbidden', `no ${right} access to this mailbox`);
    }
  }

  // ---- mailboxes ----

  /** Create the default mailboxes that are missing (idempotent, safe under races). */
  async ensureDefaults(ctx: AccessContext, account: number): Promise<void> {
    this.#authorize(ctx, account, 'write');
    await this.#ensureDefaults(account);
  }

  async #ensureDefaults(account: number): Promise<void> {
    await this.#repo.transact(account, async (r) => {
      const names = await r.getMany(DEFAULT_MAILBOXES.map((d) => mailKeys.name(account, d.name)));
      const roles = await r.getMany(DEFAULT_MAILBOXES.map((d) => mailKeys.role(account, d.role)));
      const missing = DEFAULT_MAILBOXES.filter((_, i) => names[i] === undefined);
      if (missing.length === 0) return noChange(undefined);
      const first = await this.#repo.allocate(missing.length);
      const ops: Op[] = [];
      const changes: ChangeEntry[] = [];
      missing.forEach((d, i) => {
        const roleFree = roles[DEFAULT_MAILBOXES.indexOf(d)] === undefined;
        this.#repo.createOps(
          account,
          this.#repo.newRecord(first + i, d.name, roleFree ? d.role : null),
          ops,
          changes,
        );
      });
      return { ops, changes, result: () => undefined };
    });
  }

  async listMailboxes(ctx: AccessContext, account: number): Promise<MailboxInfo[]> {
    this.#authorize(ctx, account, 'read');
    const records = await this.#repo.mailboxRecords(account);
    const subscribed = new Set(await this.#repo.subscriptions(account));
    const statuses = await this.#repo.statuses(account, records);
    const names = records.map((m) => m.name);
    return records.map((m, i) => ({
      ...m,
      objectId: `M${m.id}`,
      subscribed: subscribed.has(m.name),
      hasChildren: names.some((n) => isDescendant(n, m.name)),
      status: statuses[i] as MailboxStatus,
    }));
  }

  async getMailbox(ctx: AccessContext, account: number, mailboxId: number): Promise<MailboxInfo> {
    this.#authorize(ctx, account, 'read');
    const found = (await this.listMailboxes(ctx, account)).find((m) => m.id === mailboxId);
    if (found === undefined) throw new CommuneError('not-found', 'no such mailbox');
    return found;
  }

  /** The mailbox named `name` (INBOX in any case), or undefined. */
  async findMailbox(
    ctx: AccessContext,
    account: number,
    name: string,
  ): Promise<MailboxRecord | undefined> {
    this.#authorize(ctx, account, 'read');
    let normalized: string;
    try {
      normalized = normalizeMailboxName(name);
    } catch {
      return undefined;
    }
    const raw = await this.#storage.store.get(mailKeys.name(account, normalized));
    return raw === undefined ? undefined : this.#repo.record(account, decodeJson<number>(raw));
  }

  async findByRole(
    ctx: AccessContext,
    account: number,
    role: MailboxRole,
  ): Promise<MailboxRecord | undefined> {
    this.#authorize(ctx, account, 'read');
    const raw = await this.#storage.store.get(mailKeys.role(account, role));
    return raw === undefined ? undefined : this.#repo.record(account, decodeJson<number>(raw));
  }

  async status(ctx: AccessContext, account: number, mailboxId: number): Promise<MailboxStatus> {
    this.#authorize(ctx, account, 'read');
    const record = await this.#repo.requireRecord(account, mailboxId);
    return (await this.#repo.statuses(account, [record]))[0] as MailboxStatus;
  }

  /** Keywords ever used in the mailbox (FLAGS / PERMANENTFLAGS), first spelling. */
  async mailboxKeywords(ctx: AccessContext, account: number, mailboxId: number): Promise<string[]> {
    this.#authorize(ctx, account, 'read');
    const out = new Map<string, string>();
    for await (const [key] of this.#storage.store.scan(
      prefixRange(mailKeys.keywords(account, mailboxId)),
    )) {
      const kw = unpack(key).elements.at(-1) as string;
      if (!out.has(kw.toLowerCase())) out.set(kw.toLowerCase(), kw);
    }
    return [...out.values()];
  }

  /** RFC 9051 §6.3.4: create `name` and any missing superior names. */
  async createMailbox(
    ctx: AccessContext,
    account: number,
    name: string,
    options: { role?: MailboxRole } = {},
  ): Promise<MailboxRecord> {
    this.#authorize(ctx, account, 'write');
    const target = normalizeMailboxName(name);
    const role = target === INBOX ? 'inbox' : (options.role ?? null);
    if (role === 'inbox' && target !== INBOX) {
      throw new CommuneError('invalid-argument', 'only INBOX has the inbox role');
    }
    return this.#repo.transact(account, async (r) => {
      const names = [...parentNames(target), target];
      const raws = await r.getMany(names.map((n) => mailKeys.name(account, n)));
      const existing = raws[raws.length - 1];
      let placeholder: MailboxRecord | undefined;
      if (existing !== undefined) {
        placeholder = await this.#repo.requireRecord(account, decodeJson<number>(existing), r);
        if (!placeholder.noselect)
          throw new CommuneError('already-exists', 'mailbox already exists');
      }
      if (role !== null && (await r.get(mailKeys.role(account, role))) !== undefined) {
        throw new CommuneError('already-exists', `a mailbox already has the ${role} role`);
      }
      const parents = names.slice(0, -1).filter((_, i) => raws[i] === undefined);
      const first = await this.#repo.allocate(parents.length + 1);
      const ops: Op[] = [];
      const changes: ChangeEntry[] = [];
      parents.forEach((p, i) =>
        this.#repo.createOps(account, this.#repo.newRecord(first + i, p, null), ops, changes),
      );
      const uidValidity = first + parents.length;
      let record: MailboxRecord;
      if (placeholder === undefined) {
        record = this.#repo.newRecord(uidValidity, target, role);
        this.#repo.createOps(account, record, ops, changes);
      } else {
        // A \Noselect placeholder becomes a mailbox again: a new incarnation.
        record = { ...placeholder, noselect: false, role, uidValidity };
        ops.push(putMailbox(account, record), putHighestModseq(account, record.id));
        if (role !== null)
          ops.push({
            type: 'put',
            key: mailKeys.role(account, role),
            value: encodeJson(record.id),
          });
        changes.push(mailboxChange(account, record.id, 'updated'));
      }
      return { ops, changes, result: () => record };
    });
  }

  /**
   * RFC 9051 §6.3.5: a mailbox without children is removed with its messages; one with
   * children loses its messages and becomes \Noselect; a \Noselect one with children cannot
   * be deleted ('conflict'); INBOX cannot be deleted ('invalid-argument').
   */
  async deleteMailbox(ctx: AccessContext, account: number, mailboxId: number): Promise<void> {
    this.#authorize(ctx, account, 'delete');
    await this.#repo.transact(account, async (r) => {
      const record = await this.#repo.requireRecord(account, mailboxId, r);
      if (record.name === INBOX)
        throw new CommuneError('invalid-argument', 'INBOX cannot be deleted');
      const all = await this.#repo.mailboxRecords(account);
      const hasChildren = all.some((m) => isDescendant(m.name, record.name));
      if (hasChildren && record.noselect) {
        throw new CommuneError('conflict', 'mailbox has children and is not selectable');
      }
      await r.get(mailKeys.lastUid(account, mailboxId));
      const entries = await this.#repo.summaries(account, mailboxId);
      const ops: Op[] = await this.#repo.releaseEmails(r, account, entries);
      ops.push(
        ...entries.map((e) => ({
          type: 'del' as const,
          key: mailKeys.message(account, mailboxId, e.uid),
        })),
      );
      ops.push(
        ...MAILBOX_COUNTERS.map((c) => ({
          type: 'del' as const,
          key: mailKeys.counter(account, mailboxId, c),
        })),
      );
      if (record.role !== null) ops.push({ type: 'del', key: mailKeys.role(account, record.role) });
      for await (const [key] of this.#storage.store.scan(
        prefixRange(mailKeys.keywords(account, mailboxId)),
      )) {
        ops.push({ type: 'del', key });
      }
      if (hasChildren) {
        ops.push(
          putMailbox(account, { ...record, noselect: true, role: null }),
          putHighestModseq(account, mailboxId),
        );
        if (entries.length > 0)
          ops.push(
            putTombstone(
              account,
              mailboxId,
              entries.map((e) => e.uid),
            ),
          );
        return {
          ops,
          changes: [mailboxChange(account, mailboxId, 'updated')],
          result: () => undefined,
        };
      }
      for await (const [key] of this.#storage.store.scan(
        prefixRange(mailKeys.tombstones(account, mailboxId)),
      )) {
        ops.push({ type: 'del', key });
      }
      ops.push(
        { type: 'del', key: mailKeys.mailbox(account, mailboxId) },
        { type: 'del', key: mailKeys.name(account, record.name) },
        { type: 'del', key: mailKeys.lastUid(account, mailboxId) },
        { type: 'del', key: mailKeys.highestModseq(account, mailboxId) },
      );
      return {
        ops,
        changes: [mailboxChange(account, mailboxId, 'destroyed')],
        result: () => undefined,
      };
    });
  }

  /**
   * RFC 9051 §6.3.6: rename a mailbox and every mailbox below it (subscriptions follow);
   * missing superior names of the new name are created. Renaming INBOX moves its messages to
   * a new mailbox of that name and leaves INBOX empty (its children stay).
   */
  async renameMailbox(
    ctx: AccessContext,
    account: number,
    mailboxId: number,
    newName: string,
  ): Promise<MailboxRecord> {
    this.#authorize(ctx, account, 'write');
    const target = normalizeMailboxName(newName);
    return this.#repo.transact(account, async (r) => {
      const record = await this.#repo.requireRecord(account, mailboxId, r);
      if (isDescendant(target, record.name)) {
        throw new CommuneError('invalid-argument', 'cannot rename a mailbox into itself');
      }
      const names = [...parentNames(target), target];
      const raws = await r.getMany(names.map((n) => mailKeys.name(account, n)));
      if (raws[raws.length - 1] !== undefined)
        throw new CommuneError('already-exists', 'mailbox already exists');
      const parents = names.slice(0, -1).filter((_, i) => raws[i] === undefined);
      const inbox = record.name === INBOX;
      const count = parents.length + (inbox ? 1 : 0);
      const first = count > 0 ? await this.#repo.allocate(count) : 0;
      const ops: Op[] = [];
      const changes: ChangeEntry[] = [];
      parents.forEach((p, i) =>
        this.#repo.createOps(account, this.#repo.newRecord(first + i, p, null), ops, changes),
      );
      if (inbox) {
        const moved = this.#repo.newRecord(first + parents.length, target, null);
        this.#repo.createOps(account, moved, ops, changes);
        const entries = await this.#repo.summaries(account, mailboxId);
        await r.get(mailKeys.lastUid(account, mailboxId));
        this.#repo.insertOps(account, moved, 0, entries, ops, changes);
        this.#repo.detachOps(account, mailboxId, entries, ops, changes);
        return { ops, changes, result: () => moved };
      }
      const subscribed = new Set(await this.#repo.subscriptions(account));
      const family = (await this.#repo.mailboxRecords(account)).filter(
        (m) => m.id === record.id || isDescendant(m.name, record.name),
      );
      const renamed = family.map((m) => ({
        ...m,
        name: target + m.name.slice(record.name.length),
      }));
      const taken = await r.getMany(renamed.map((m) => mailKeys.name(account, m.name)));
      if (taken.some((raw) => raw !== undefined)) {
        throw new CommuneError('already-exists', 'a mailbox below the new name already exists');
      }
      for (const [i, m] of renamed.entries()) {
        const old = family[i] as MailboxRecord;
        ops.push(
          { type: 'del', key: mailKeys.name(account, old.name) },
          { type: 'put', key: mailKeys.name(account, m.name), value: encodeJson(m.id) },
          putMailbox(account, m),
        );
        if (subscribed.has(old.name)) {
          ops.push(
            { type: 'del', key: mailKeys.subscription(account, old.name) },
            { type: 'put', key: mailKeys.subscription(account, m.name), value: EMPTY },
          );
        }
        changes.push(mailboxChange(account, m.id, 'updated'));
      }
      const self = renamed.find((m) => m.id === record.id) as MailboxRecord;
      return { ops, changes, result: () => self };
    });
  }

  async subscribe(ctx: AccessContext, account: number, name: string): Promise<void> {
    await this.#setSubscription(ctx, account, name, true);
  }

  async unsubscribe(ctx: AccessContext, account: number, name: string): Promise<void> {
    await this.#setSubscription(ctx, account, name, false);
  }

  async listSubscriptions(ctx: AccessContext, account: number): Promise<string[]> {
    this.#authorize(ctx, account, 'read');
    return this.#repo.subscriptions(account);
  }

  async #setSubscription(
    ctx: AccessContext,
    account: number,
    name: string,
    on: boolean,
  ): Promise<void> {
    this.#authorize(ctx, account, 'write');
    const normalized = normalizeMailboxName(name);
    const key = mailKeys.subscription(account, normalized);
    await this.#repo.transact(account, async () => ({
      ops: [on ? { type: 'put', key, value: EMPTY } : { type: 'del', key }],
      changes: [{ account, collection: 'subscriptions', id: normalized, kind: 'updated' }],
      result: () => undefined,
    }));
  }

  // ---- appending ----

  /** Store a message in a mailbox (IMAP APPEND). The source is streamed and indexed once. */
  async append(
    ctx: AccessContext,
    account: number,
    mailboxId: number,
    source: BlobSource,
    options: AppendOptions = {},
  ): Promise<AppendResult> {
    this.#authorize(ctx, account, 'write');
    return this.#append(account, mailboxId, source, options);
  }

  /**
   * SMTP delivery: store into the mailbox of `mailbox` (a role, default inbox, or an id),
   * INBOX when it does not exist. Trusted caller (the SMTP layer resolved the recipient); the
   * promise resolves once the commit is durable.
   */
  async deliver(
    account: number,
    source: BlobSource,
    options: {
      mailbox?: MailboxRole | number;
      flags?: readonly string[];
      internalDate?: Date;
    } = {},
  ): Promise<AppendResult> {
    const target = await this.#deliveryTarget(account, options.mailbox ?? 'inbox');
    return this.#append(account, target, source, {
      ...(options.flags === undefined ? {} : { flags: options.flags }),
      ...(options.internalDate === undefined ? {} : { internalDate: options.internalDate }),
    });
  }

  async #deliveryTarget(account: number, wanted: MailboxRole | number): Promise<number> {
    if ((await this.#directory.getPrincipal(account)) === undefined) {
      throw new CommuneError('not-found', 'no such account');
    }
    const store = this.#storage.store;
    if (typeof wanted === 'number') {
      const record = await this.#repo.record(account, wanted);
      if (record !== undefined && !record.noselect) return record.id;
    } else {
      const raw = await store.get(mailKeys.role(account, wanted));
      const record =
        raw === undefined ? undefined : await this.#repo.record(account, decodeJson<number>(raw));
      if (record !== undefined && !record.noselect) return record.id;
    }
    let inbox = await store.get(mailKeys.name(account, INBOX));
    if (inbox === undefined) {
      await this.#ensureDefaults(account);
      inbox = await store.get(mailKeys.name(account, INBOX));
    }
    if (inbox === undefined) throw new CommuneError('unavailable', 'no INBOX');
    return decodeJson<number>(inbox);
  }

  async #append(
    account: number,
    mailboxId: number,
    source: BlobSource,
    options: AppendOptions,
  ): Promise<AppendResult> {
    const flags = normalizeFlags([...(options.flags ?? []), ...(options.keywords ?? [])]);
    const internalDate = (options.internalDate ?? this.#now()).getTime();
    const zone = options.zone ?? 0;
    if (!Number.isFinite(internalDate) || !Number.isInteger(zone) || Math.abs(zone) > 24 * 60) {
      throw new CommuneError('invalid-argument', 'invalid internal date');
    }
    const selectable = await this.#repo.requireRecord(account, mailboxId);
    if (selectable.noselect)
      throw new CommuneError('invalid-argument', 'mailbox is not selectable');
    // 1. Stream into the blob store, indexing on the way; the quota bounds the size.
    const limit = await this.#repo.quotaLimit(account);
    const used = Number(
      decodeCounter(await this.#storage.store.get(mailKeys.usage(account, 'bytes'))),
    );
    const room = limit > 0 ? Math.max(0, limit - used) : Infinity;
    const maxSize = Math.min(this.maxMessageSize, room);
    let stored: Awaited<ReturnType<typeof storeAndIndex>>;
    try {
      stored = await storeAndIndex(this.#storage.blobs, source, maxSize, this.#mimeLimits);
    } catch (err) {
      if (isCommuneError(err, 'too-large') && room < this.maxMessageSize) {
        throw new CommuneError('over-quota', 'mailbox quota exceeded');
      }
      throw err;
    }
    const { ref, index, blobOps } = stored;
    // 2. One commit for this message and those delivered to the account meanwhile: email
    // record, index entry (uid = last + 1), counters, usage, thread (append-batch.ts).
    return this.#appends.submit(account, {
      mailboxId,
      email: {
        emailId: objectIdOf('M'),
        blob: ref.hash,
        size: ref.size,
        envelope: index.envelope,
        body: index.body,
        parts: index.parts,
        digest: headerDigest(index.headers),
      },
      links: threadLinks(index.headers),
      blobOps,
      flags,
      internalDate,
      zone,
    });
  }

  // ---- reading ----

  /** The mailbox's index, uid order (one prefix scan). */
  async listMessages(
    ctx: AccessContext,
    account: number,
    mailboxId: number,
  ): Promise<MessageSummary[]> {
    this.#authorize(ctx, account, 'read');
    await this.#repo.requireRecord(account, mailboxId);
    return this.#repo.summaries(account, mailboxId);
  }

  async getMessage(
    ctx: AccessContext,
    account: number,
    mailboxId: number,
    uid: number,
  ): Promise<MessageRecord | undefined> {
    return (await this.getMessages(ctx, account, mailboxId, [uid]))[0];
  }

  /** Full records of the existing messages among `uids`, uid order. */
  /** The index entries (flags, size, dates, ids, modseq) of `uids` that exist, uid order. */
  async getSummaries(
    ctx: AccessContext,
    account: number,
    mailboxId: number,
    uids: readonly number[],
  ): Promise<MessageSummary[]> {
    this.#authorize(ctx, account, 'read');
    return this.#repo.entries(this.#storage.store, account, mailboxId, uniqueSorted(uids));
  }

  async getMessages(
    ctx: AccessContext,
    account: number,
    mailboxId: number,
    uids: readonly number[],
  ): Promise<MessageRecord[]> {
    this.#authorize(ctx, account, 'read');
    const summaries = await this.#repo.entries(
      this.#storage.store,
      account,
      mailboxId,
      uniqueSorted(uids),
    );
    const emails = await this.#repo.emails(
      account,
      summaries.map((s) => s.emailId),
    );
    const out: MessageRecord[] = [];
    for (const s of summaries) {
      const email = emails.get(s.emailId);
      if (email !== undefined) out.push({ ...email, ...s });
    }
    return out;
  }

  /**
   * Stream the message bytes (or a range: a section from sectionRange). `message` is the UID,
   * or the record this service returned for it (getMessages, same account and mailbox): the
   * blob is then opened at the range directly, without reading the record again.
   */
  async openMessage(
    ctx: AccessContext,
    account: number,
    mailboxId: number,
    message: number | Pick<MessageRecord, 'blob'>,
    range?: ByteRange,
  ): Promise<Readable> {
    this.#authorize(ctx, account, 'read');
    const record =
      typeof message === 'number'
        ? await this.getMessage(ctx, account, mailboxId, message)
        : message;
    if (record === undefined) throw new CommuneError('not-found', 'no such message');
    const stream = await this.#storage.blobs.get(record.blob, range);
    if (stream === undefined) throw new CommuneError('unavailable', 'message content is missing');
    return stream;
  }

  /**
   * The message bytes (or a range) in memory: for headers and small sections. `message` as
   * for openMessage; a small message given by its record is read in one piece, no stream.
   */
  async readMessage(
    ctx: AccessContext,
    account: number,
    mailboxId: number,
    message: number | Pick<MessageRecord, 'blob' | 'size'>,
    range?: ByteRange,
  ): Promise<Uint8Array> {
    // step: up to the inline blob size, one read of the whole is cheaper than a stream
    if (typeof message !== 'number' && message.size <= 64 * 1024) {
      this.#authorize(ctx, account, 'read');
      const bytes = await this.#storage.blobs.getBytes(message.blob);
      if (bytes === undefined) throw new CommuneError('unavailable', 'message content is missing');
      return range === undefined ? bytes : bytes.subarray(range.start, range.end);
    }
    const chunks: Buffer[] = [];
    for await (const chunk of await this.openMessage(ctx, account, mailboxId, message, range)) {
      chunks.push(chunk as Buffer);
    }
    return new Uint8Array(Buffer.concat(chunks));
  }

  // ---- flags, copy, move, expunge ----

  /**
   * STORE (RFC 9051 §6.4.6) with UNCHANGEDSINCE (RFC 7162 §3.1.3): messages whose modseq is
   * above it are refused (`modified`); changed messages get the commit's modseq.
   */
  async store(
    ctx: AccessContext,
    account: number,
    mailboxId: number,
    uids: readonly number[],
    change: { op: StoreOperation; flags: readonly string[]; unchangedSince?: bigint },
  ): Promise<StoreResult> {
    this.#authorize(ctx, account, 'write');
    if (!Number.isSafeInteger(mailboxId)) throw new CommuneError('not-found', 'no such mailbox');
    // One commit for this STORE and those arriving meanwhile, each its own MODSEQ
    // (store-batch.ts).
    return this.#stores.submit(account, {
      mailboxId,
      uids: uniqueSorted(uids),
      op: change.op,
      flags: normalizeFlags(change.flags),
      ...(change.unchangedSince === undefined ? {} : { unchangedSince: change.unchangedSince }),
    });
  }

  async #commitStores(
    account: number,
    items: readonly PendingStore[],
  ): Promise<(StoreResult | Error)[]> {
    const out: (StoreResult | Error)[] = [];
    for (const run of disjointRuns(items)) {
      out.push(
        ...(await this.#repo.transact(account, (r) => storeBatchPlan(this.#repo, r, account, run), {
          shared: true,
        })),
      );
    }
    return out;
  }

  /** COPY (RFC 9051 §6.4.7) with the COPYUID mapping (RFC 4315); quota applies. */
  async copy(
    ctx: AccessContext,
    account: number,
    fromMailboxId: number,
    uids: readonly number[],
    toMailboxId: number,
  ): Promise<CopyResult> {
    this.#authorize(ctx, account, 'read');
    this.#authorize(ctx, account, 'write');
    return this.#transfer(account, fromMailboxId, uids, toMailboxId, false);
  }

  /** MOVE (RFC 6851): copy and expunge in one commit; the emails are moved, not copied. */
  async move(
    ctx: AccessContext,
    account: number,
    fromMailboxId: number,
    uids: readonly number[],
    toMailboxId: number,
  ): Promise<CopyResult> {
    this.#authorize(ctx, account, 'delete');
    this.#authorize(ctx, account, 'write');
    return this.#transfer(account, fromMailboxId, uids, toMailboxId, true);
  }

  async #transfer(
    account: number,
    fromId: number,
    uids: readonly number[],
    toId: number,
    move: boolean,
  ): Promise<CopyResult> {
    const limit = move ? 0 : await this.#repo.quotaLimit(account);
    return this.#repo.transact(account, async (r) => {
      await this.#repo.requireRecord(account, fromId, r);
      const target = await this.#repo.requireRecord(account, toId, r);
      if (target.noselect) throw new CommuneError('invalid-argument', 'mailbox is not selectable');
      const entries = await this.#repo.entries(r, account, fromId, uniqueSorted(uids));
      if (entries.length === 0)
        return noChange({ uidValidity: target.uidValidity, mapping: [], modseq: null });
      const last = Number(decodeCounter(await r.get(mailKeys.lastUid(account, toId))));
      if (last + entries.length > MAX_UID)
        throw new CommuneError('conflict', 'mailbox has run out of UIDs');
      const size = entries.reduce((sum, e) => sum + e.size, 0);
      const ops: Op[] = [];
      const changes: ChangeEntry[] = [];
      if (move) {
        this.#repo.detachOps(account, fromId, entries, ops, changes);
      } else {
        ops.push(...(await this.#repo.quotaOps(r, account, limit, size, entries.length)));
        for (const e of entries)
          ops.push({ type: 'incr', key: mailKeys.emailRefs(account, e.emailId), delta: 1n });
      }
      const mapping = this.#repo.insertOps(account, target, last, entries, ops, changes);
      return {
        ops,
        changes,
        result: (modseq) => ({ uidValidity: target.uidValidity, mapping, modseq }),
      };
    });
  }

  /** EXPUNGE / UID EXPUNGE (RFC 9051 §6.4.3, RFC 4315 §2.1): \Deleted messages (of `uids`). */
  async expunge(
    ctx: AccessContext,
    account: number,
    mailboxId: number,
    uids?: readonly number[],
  ): Promise<ExpungeResult> {
    this.#authorize(ctx, account, 'delete');
    return this.#repo.transact(account, async (r) => {
      await this.#repo.requireRecord(account, mailboxId, r);
      const candidates =
        uids === undefined
          ? await this.#repo.summaries(account, mailboxId)
          : await this.#repo.entries(r, account, mailboxId, uniqueSorted(uids));
      const doomed = candidates.filter((e) => hasFlag(e.flags, DELETED));
      if (doomed.length === 0) return noChange({ expunged: [], modseq: null });
      if (uids === undefined)
        await r.getMany(doomed.map((e) => mailKeys.message(account, mailboxId, e.uid)));
      const ops: Op[] = await this.#repo.releaseEmails(r, account, doomed);
      const changes: ChangeEntry[] = [];
      this.#repo.detachOps(account, mailboxId, doomed, ops, changes);
      const expunged = doomed.map((e) => e.uid);
      return { ops, changes, result: (modseq) => ({ expunged, modseq }) };
    });
  }

  /**
   * What changed in a mailbox after `modseq` (CONDSTORE CHANGEDSINCE, QRESYNC): entries with a
   * higher modseq and the UIDs expunged since (from the tombstones).
   */
  async changesSince(
    ctx: AccessContext,
    account: number,
    mailboxId: number,
    modseq: bigint,
  ): Promise<ChangesSinceResult> {
    this.#authorize(ctx, account, 'read');
    await this.#repo.requireRecord(account, mailboxId);
    const store = this.#storage.store;
    const changed = (await this.#repo.summaries(account, mailboxId)).filter(
      (s) => s.modseq > modseq,
    );
    const vanished = new Set<number>();
    const range = {
      gt: mailKeys.tombstone(account, mailboxId, modseq),
      lt: prefixRange(mailKeys.tombstones(account, mailboxId)).lt as Uint8Array,
    };
    for await (const [, value] of store.scan(range)) {
      for (const uid of decodeJson<number[]>(value)) vanished.add(uid);
    }
    const highestModseq = decodeModseq(await store.get(mailKeys.highestModseq(account, mailboxId)));
    return { highestModseq, changed, vanished: [...vanished].sort((a, b) => a - b) };
  }

  /**
   * SEARCH over the session's view (see SearchOptions); returns matching UIDs. A caller that
   * keeps the mailbox in memory lends its index, digest cache and email records (SearchSources,
   * search/mail-search.ts): the summaries are then not read from the store.
   */
  async search(
    ctx: AccessContext,
    account: number,
    mailboxId: number,
    criteria: readonly SearchKey[],
    options: SearchOptions & SearchSources = {},
  ): Promise<SearchResult> {
    this.#authorize(ctx, account, 'read');
    await this.#repo.requireRecord(account, mailboxId);
    let view = options.view;
    let summaryOf = options.summaryOf;
    if (view === undefined || summaryOf === undefined) {
      const summaries = await this.#repo.summaries(account, mailboxId);
      const byUid = new Map(summaries.map((s) => [s.uid, s]));
      view ??= summaries.map((s) => s.uid);
      summaryOf = (uid) => byUid.get(uid);
    }
    return runSearch({
      criteria,
      view,
      summaryOf,
      now: (options.now ?? this.#now()).getTime(),
      loadEmails: (ids) => this.#repo.emails(account, ids),
      blobs: this.#storage.blobs,
      digests: options.digests,
      cachedEmail: options.cachedEmail,
    });
  }

  /** Quota usage (RFC 9208 STORAGE and MESSAGE resources). */
  async quota(ctx: AccessContext, account: number): Promise<QuotaUsage> {
    this.#authorize(ctx, account, 'read');
    const [bytes, messages] = await this.#storage.store.getMany([
      mailKeys.usage(account, 'bytes'),
      mailKeys.usage(account, 'messages'),
    ]);
    return {
      storage: Number(decodeCounter(bytes)),
      messages: Number(decodeCounter(messages)),
      limit: await this.#repo.quotaLimit(account),
    };
  }
}
