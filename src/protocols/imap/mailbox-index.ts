/**
 * The index of a mailbox (every message's UID, flags, modseq, size, dates, object ids) kept
 * in memory once per server for all the sessions that have the mailbox selected, and brought
 * up to date from the change log (change-log.ts readChanges): a change-bus nudge marks it
 * dirty, the next reader re-reads the log from the index's cursor and loads only the entries
 * that changed (RFC 7162: the account change id is the MODSEQ). Sessions then read what
 * changed since their own cursor from the index's recent-change log, so a nudge costs one
 * store read for the server, not one per session, and SELECT copies the index instead of
 * scanning the store.
 *
 * Entries are immutable MessageSummary objects, shared by reference. EmailRecords (ENVELOPE,
 * BODYSTRUCTURE, part offsets) never change for an email id and are cached here too (LRU,
 * with each ENVELOPE rendered once for FETCH), and so are the mailbox's SEARCH digests
 * (folded header fields, search/search-digest.ts), so a SEARCH on header keys after the
 * first reads nothing from the store.
 */

import type { AccessContext } from '../../core/principal.ts';
import { RESYNC_ALL_ACCOUNTS, type ChangeNudge } from '../../storage/change-bus.ts';
import { currentChangeId, readChanges } from '../../storage/change-log.ts';
import type { EmailRecord, MessageRecord, MessageSummary } from '../../storage/mail/mail-types.ts';
import type { MailService } from '../../storage/mail/mail-service.ts';
import type { SearchDigest, SearchDigestCache } from '../../storage/mail/search/search-digest.ts';
import type { Store } from '../../storage/store.ts';
import { BlobCache } from './blob-cache.ts';
import { renderEnvelope } from './compose/envelope.ts';
import type { Envelope } from './compose/envelope.ts';
import type { ComposeOptions } from './compose/response-writer.ts';

/** Changed entries above which a refresh re-reads the whole index instead. */
const RELOAD_THRESHOLD = 256;
/** Recent changes kept for sessions that are behind. */
const LOG_LIMIT = 20_000;
/** EmailRecords kept per server. */
const RECORD_CACHE = 10_000;
/** How long an index nobody has selected is kept (clients that cycle through folders). */
const LINGER_MS = 30_000;
/** SEARCH digests kept beyond the mailbox's message count (of expunged messages) at most. */
const DIGEST_SLACK = 1024;

/** Who loads and refreshes an index (the session that opened it). */
export interface IndexScope {
  readonly mail: MailService;
  readonly access: AccessContext;
  readonly account: number;
}

interface LogEntry {
  readonly modseq: bigint;
  readonly uid: number;
}

const collectionOf = (mailboxId: number): string => `mailbox:${String(mailboxId)}`;

export class MailboxIndex {
  readonly account: number;
  readonly mailboxId: number;
  readonly #store: Store;
  readonly #scope: IndexScope;
  /** Live messages by UID, in ascending UID order (Map insertion order). */
  #summaries = new Map<number, MessageSummary>();
  /** The account change id this index reflects. */
  #cursor: bigint;
  /** Changes after #logStart, oldest first. */
  #log: LogEntry[] = [];
  #logStart: bigint;
  #dirty = false;
  #refreshing: Promise<void> | undefined;
  #gone = false;
  /** Keywords ever used in the mailbox, lower case -> first spelling (FLAGS). */
  readonly #keywords = new Map<string, string>();
  /** UIDNEXT as of the cursor: the mailbox's at load, raised by the messages created since. */
  #uidNext = 1;
  /**
   * HIGHESTMODSEQ as of the cursor: the mailbox's at load, then the last change id that named
   * the mailbox (every change to it is logged under its collection, RFC 7162 §3.1.2.1).
   */
  #highestModseq = 0n;
  /** SEARCH digests by email id, filled by searches. */
  #digests = new Map<string, SearchDigest>();
  /** The digest cache searches of this mailbox use (bounded by the mailbox's size). */
  readonly searchDigests: SearchDigestCache = {
    get: (emailId) => this.#digests.get(emailId),
    set: (emailId, digest) => {
      // step: digests of expunged messages are dropped all at once when they pile up
      if (this.#digests.size >= this.#summaries.size + DIGEST_SLACK) this.#digests = new Map();
      this.#digests.set(emailId, digest);
    },
  };
  refs = 0;
  /** Drops the index once nobody has used it for LINGER_MS. */
  linger: NodeJS.Timeout | undefined;

  /** Resolves once the entries are loaded; nudges that arrive meanwhile are kept. */
  readonly ready: Promise<void>;

  constructor(store: Store, scope: IndexScope, mailboxId: number) {
    this.#store = store;
    this.#scope = scope;
    this.account = scope.account;
    this.mailboxId = mailboxId;
    this.#cursor = 0n;
    this.#logStart = 0n;
    this.ready = this.#load();
  }

  async #load(): Promise<void> {
    const { mail, access, account } = this.#scope;
    // step: the cursor is read before the entries, so a commit in between is read again,
    // and the status before the entries, so HIGHESTMODSEQ never claims more than they show
    const cursor = await currentChangeId(this.#store, account);
    const status = await mail.status(access, account, this.mailboxId);
    const [summaries, keywords] = await Promise.all([
      mail.listMessages(access, account, this.mailboxId),
      mail.mailboxKeywords(access, account, this.mailboxId),
    ]);
    for (const s of summaries) this.#summaries.set(s.uid, s);
    this.#addKeywords(keywords);
    this.#uidNext = status.uidNext;
    this.#highestModseq = status.highestModseq;
    this.#cursor = cursor;
    this.#logStart = cursor;
  }

  /** The account change id the index reflects (a session's cursor). */
  get cursor(): bigint {
    return this.#cursor;
  }

  /** UIDNEXT of the mailbox as the index shows it. */
  get uidNext(): number {
    return this.#uidNext;
  }

  /** HIGHESTMODSEQ of the mailbox as the index shows it (never beyond what it shows). */
  get highestModseq(): bigint {
    return this.#highestModseq;
  }

  /** The mailbox was deleted. */
  get gone(): boolean {
    return this.#gone;
  }

  get size(): number {
    return this.#summaries.size;
  }

  /** Live summaries, ascending UID. */
  summaries(): IterableIterator<MessageSummary> {
    return this.#summaries.values();
  }

  get(uid: number): MessageSummary | undefined {
    return this.#summaries.get(uid);
  }

  /** Keywords ever used in the mailbox, first spelling. */
  keywords(): string[] {
    return [...this.#keywords.values()];
  }

  #addKeywords(flags: readonly string[]): void {
    for (const flag of flags) {
      if (flag.startsWith('\\')) continue;
      const key = flag.toLowerCase();
      if (!this.#keywords.has(key)) this.#keywords.set(key, flag);
    }
  }

  /** Whether this nudge concerns the mailbox; marks the index dirty if so. */
  nudge(nudge: ChangeNudge): boolean {
    const collection = collectionOf(this.mailboxId);
    if (nudge.collections.length > 0 && !nudge.collections.includes(collection)) return false;
    this.#dirty = true;
    return true;
  }

  /**
   * UIDs changed (created, flags, expunged) after `cursor`, or undefined when the index no
   * longer remembers that far back (the caller then compares everything).
   */
  changedSince(cursor: bigint): number[] | undefined {
    if (cursor < this.#logStart) return undefined;
    const out: number[] = [];
    for (let i = this.#log.length - 1; i >= 0; i--) {
      const entry = this.#log[i] as LogEntry;
      if (entry.modseq <= cursor) break;
      out.push(entry.uid);
    }
    return out;
  }

  /** Bring the index up to date if a nudge said something changed (one refresh at a time). */
  async sync(): Promise<void> {
    while (this.#dirty || this.#refreshing !== undefined) {
      if (this.#refreshing !== undefined) {
        await this.#refreshing;
        continue;
      }
      this.#dirty = false;
      const refreshing = this.#refresh();
      this.#refreshing = refreshing;
      try {
        await refreshing;
      } catch (err) {
        this.#dirty = true;
        throw err;
      } finally {
        this.#refreshing = undefined;
      }
    }
  }

  async #refresh(): Promise<void> {
    const { changes, lastChangeId } = await readChanges(this.#store, this.account, this.#cursor);
    const collection = collectionOf(this.mailboxId);
    const changed = new Map<number, bigint>();
    const destroyed = new Map<number, bigint>();
    let reload = false;
    for (const change of changes) {
      for (const entry of change.entries) {
        if (entry.collection !== collection) continue;
        if (change.changeId > this.#highestModseq) this.#highestModseq = change.changeId;
        if (entry.id === 'mailbox') {
          if (entry.kind === 'destroyed') this.#gone = true;
          reload = true;
          continue;
        }
        const uid = Number(entry.id);
        if (entry.kind === 'destroyed') destroyed.set(uid, change.changeId);
        else changed.set(uid, change.changeId);
        if (entry.kind === 'created' && uid >= this.#uidNext) this.#uidNext = uid + 1;
      }
    }
    if (this.#gone) {
      this.#cursor = lastChangeId;
      return;
    }
    if (reload || changed.size > RELOAD_THRESHOLD) {
      await this.#reload(lastChangeId);
      return;
    }
    const { mail, access, account } = this.#scope;
    // step: the index entries only (the email records of changed messages are not needed)
    const fresh =
      changed.size === 0
        ? []
        : await mail.getSummaries(access, account, this.mailboxId, [...changed.keys()]);
    for (const summary of fresh) {
      this.#summaries.set(summary.uid, summary);
      this.#addKeywords(summary.flags);
      this.#append(summary.modseq, summary.uid);
    }
    for (const [uid, modseq] of destroyed) {
      if (this.#summaries.delete(uid)) this.#append(modseq, uid);
    }
    if (lastChangeId > this.#cursor) this.#cursor = lastChangeId;
  }

  /** Re-read every entry, logging the differences. */
  async #reload(lastChangeId: bigint): Promise<void> {
    const { mail, access, account } = this.#scope;
    const next = new Map<number, MessageSummary>();
    // step: read before the entries, so HIGHESTMODSEQ never claims more than they show
    const status = await mail.status(access, account, this.mailboxId);
    this.#uidNext = status.uidNext;
    this.#highestModseq = status.highestModseq;
    for (const s of await mail.listMessages(access, account, this.mailboxId)) {
      next.set(s.uid, s);
      this.#addKeywords(s.flags);
    }
    for (const [uid, s] of next) {
      if (this.#summaries.get(uid)?.modseq !== s.modseq) this.#append(s.modseq, uid);
    }
    for (const uid of this.#summaries.keys()) {
      if (!next.has(uid)) this.#append(lastChangeId, uid);
    }
    this.#summaries = next;
    if (lastChangeId > this.#cursor) this.#cursor = lastChangeId;
  }

  #append(modseq: bigint, uid: number): void {
    // step: keep the log ordered by modseq (a reload may log older modseqs last)
    const stamp =
      modseq > (this.#log.at(-1)?.modseq ?? 0n) ? modseq : (this.#log.at(-1)?.modseq ?? modseq);
    this.#log.push({ modseq: stamp, uid });
    if (this.#log.length > LOG_LIMIT) {
      const dropped = this.#log.splice(0, this.#log.length - LOG_LIMIT / 2);
      this.#logStart = dropped.at(-1)?.modseq ?? this.#logStart;
    }
  }
}

/**
 * The indexes of the mailboxes sessions have selected, shared per (account, mailbox), and a
 * cache of EmailRecords by email id. One per server.
 */
export class MailboxIndexes {
  /** Recently read small message blobs (FETCH of body sections). */
  readonly blobs = new BlobCache();
  readonly #store: Store;
  readonly #indexes = new Map<string, MailboxIndex>();
  readonly #records = new Map<string, EmailRecord>();
  /** Rendered ENVELOPEs (null: needs a literal), by options, as long as the envelope lives. */
  readonly #envelopes = [
    new WeakMap<Envelope, Uint8Array | null>(),
    new WeakMap<Envelope, Uint8Array | null>(),
  ];

  constructor(store: Store) {
    this.#store = store;
  }

  /** The index of a mailbox, loaded on first use; `release` it when done. */
  async acquire(scope: IndexScope, mailboxId: number): Promise<MailboxIndex> {
    const key = `${String(scope.account)}:${String(mailboxId)}`;
    let index = this.#indexes.get(key);
    if (index === undefined) {
      index = new MailboxIndex(this.#store, scope, mailboxId);
      this.#indexes.set(key, index);
    }
    index.refs++;
    clearTimeout(index.linger);
    try {
      await index.ready;
    } catch (err) {
      // step: a failed load is not kept for the next session
      index.refs--;
      if (this.#indexes.get(key) === index) this.#indexes.delete(key);
      throw err;
    }
    return index;
  }

  release(index: MailboxIndex): void {
    index.refs--;
    if (index.refs > 0) return;
    const key = `${String(index.account)}:${String(index.mailboxId)}`;
    clearTimeout(index.linger);
    index.linger = setTimeout(() => {
      if (index.refs <= 0 && this.#indexes.get(key) === index) this.#indexes.delete(key);
    }, LINGER_MS);
    index.linger.unref();
  }

  /** Route a change-bus nudge to the indexes of its account (at once, loading ones too). */
  nudge(nudge: ChangeNudge): void {
    const all = nudge.account === RESYNC_ALL_ACCOUNTS;
    for (const index of this.#indexes.values()) {
      if (all || index.account === nudge.account) index.nudge(nudge);
    }
  }

  /**
   * The EmailRecords of `uids` (live entries of `index`) by UID, from the cache where
   * possible; missing ones are read with getMessages.
   */
  async records(
    scope: IndexScope,
    index: MailboxIndex,
    uids: readonly number[],
  ): Promise<Map<number, EmailRecord>> {
    const out = new Map<number, EmailRecord>();
    const missing: number[] = [];
    for (const uid of uids) {
      const summary = index.get(uid);
      const email = summary === undefined ? undefined : this.#cachedEmail(scope, summary.emailId);
      if (email !== undefined) out.set(uid, email);
      else missing.push(uid);
    }
    if (missing.length > 0) {
      const fresh = await scope.mail.getMessages(
        scope.access,
        scope.account,
        index.mailboxId,
        missing,
      );
      for (const record of fresh) out.set(record.uid, this.#remember(scope, record));
    }
    return out;
  }

  /**
   * An ENVELOPE as encoded response text, rendered once per envelope object (the cached
   * EmailRecords share theirs) and compose options; undefined when it needs a literal.
   */
  envelopeWire(envelope: Envelope, options: ComposeOptions): Uint8Array | undefined {
    const cache = this.#envelopes[options.utf8 ? 1 : 0] as WeakMap<Envelope, Uint8Array | null>;
    let wire = cache.get(envelope);
    if (wire === undefined) {
      wire = renderEnvelope(envelope, options) ?? null;
      cache.set(envelope, wire);
    }
    return wire ?? undefined;
  }

  /** A cached EmailRecord, without counting as a use (SEARCH looks at many). */
  peekEmail(account: number, emailId: string): EmailRecord | undefined {
    return this.#records.get(`${String(account)}:${emailId}`);
  }

  #cachedEmail(scope: IndexScope, emailId: string): EmailRecord | undefined {
    const key = `${String(scope.account)}:${emailId}`;
    const email = this.#records.get(key);
    if (email !== undefined) {
      // step: most recently used last
      this.#records.delete(key);
      this.#records.set(key, email);
    }
    return email;
  }

  #remember(scope: IndexScope, record: MessageRecord): EmailRecord {
    const { emailId, threadId, blob, size, envelope, body, parts, digest } = record;
    const email = { emailId, threadId, blob, size, envelope, body, parts, digest };
    this.#records.set(`${String(scope.account)}:${emailId}`, email);
    if (this.#records.size > RECORD_CACHE) {
      const oldest = this.#records.keys().next().value;
      if (oldest !== undefined) this.#records.delete(oldest);
    }
    return email;
  }
}
