/**
 * The selected state of one session (RFC 9051 §3.3, §7.5.1): the client's view of the
 * mailbox (UIDs in sequence-number order), the flags and modseq it was last told, and the
 * changes made elsewhere that it has not been told yet.
 *
 * Changes come from the change bus: a nudge naming this mailbox marks it dirty; `sync`
 * re-reads with `changesSince` from the session's modseq cursor (RFC 7162: the account change
 * id is the MODSEQ) and records new messages, expunges and flag changes as pending. `updates`
 * turns them into untagged EXISTS / EXPUNGE (or VANISHED with QRESYNC, RFC 7162 §3.2.10) /
 * FETCH FLAGS at the points the session allows: expunges are held back while responding to
 * FETCH, STORE and SEARCH, so sequence numbers never shift under a client's feet; messages
 * expunged but not yet announced keep their sequence numbers and are skipped by commands.
 */

import type { AccessContext } from '../../core/principal.ts';
import { CommuneError } from '../../core/errors.ts';
import type { MailService } from '../../storage/mail/mail-service.ts';
import type { EmailRecord, MailboxRecord, MessageSummary } from '../../storage/mail/mail-types.ts';
import type { SearchSources } from '../../storage/mail/search/mail-search.ts';
import { fetchResponse } from './compose/fetch-response.ts';
import type { FetchResponseItem } from './compose/fetch-response.ts';
import { untaggedResponse } from './compose/response-line.ts';
import type { ComposeOptions, WirePart } from './compose/response-writer.ts';
import { existsResponse, expungeResponse, flagsResponse } from './compose/untagged-data.ts';
import { vanishedResponse } from './compose/vanished-response.ts';
import { ImapError } from './imap-error.ts';
import type { MailboxIndex, MailboxIndexes } from './mailbox-index.ts';
import {
  normalizeSequenceSet,
  sequenceSetFromNumbers,
  sequenceSetHasStar,
  sequenceSetMaxNumber,
} from './parser/sequence-set.ts';
import type { SequenceSet } from './parser/sequence-set.ts';

/** The system flags of RFC 9051 §2.3.2 that can be stored (\Recent is gone in IMAP4rev2). */
export const SYSTEM_FLAGS: readonly string[] = [
  '\\Answered',
  '\\Flagged',
  '\\Deleted',
  '\\Seen',
  '\\Draft',
];

/** Who reads the mailbox and through which service. */
export interface MailboxScope {
  readonly mail: MailService;
  readonly access: AccessContext;
  readonly account: number;
}

/** How untagged updates are written for this session. */
export interface UpdateOptions {
  /** EXPUNGE / VANISHED may be sent now (RFC 9051 §7.5.1). */
  readonly allowExpunge: boolean;
  /** QRESYNC enabled: VANISHED instead of EXPUNGE, UID in every FETCH (RFC 7162 §3.2.10). */
  readonly qresync: boolean;
  /** CONDSTORE enabled: MODSEQ in FETCH of flag changes (RFC 7162 §3.1.4). */
  readonly condstore: boolean;
  readonly compose: ComposeOptions;
}

/** Expunges made by this session, as the responses need them. */
export interface Removed {
  /** EXPUNGE sequence numbers, in the order they are to be sent. */
  readonly seqs: readonly number[];
  /** UIDs removed from the view, ascending (for VANISHED). */
  readonly uids: readonly number[];
}

export class SelectedMailbox {
  readonly id: number;
  readonly uidValidity: number;
  readonly readOnly: boolean;
  /** HIGHESTMODSEQ when the mailbox was selected. */
  readonly selectedModseq: bigint;
  name: string;
  /** The SEARCHRES saved result (RFC 5182), as UIDs; empty until a SEARCH saves one. */
  savedSearch: readonly number[] = [];
  readonly #scope: MailboxScope;
  readonly #indexes: MailboxIndexes;
  readonly #index: MailboxIndex;
  #closed = false;
  /** UIDs in sequence order, as the client knows them (expunged-but-unannounced included). */
  #view: number[];
  /** Current summaries of the live messages of the view and of the pending new ones. */
  readonly #live = new Map<number, MessageSummary>();
  /** New messages not yet announced by EXISTS, ascending. */
  #pendingNew: number[] = [];
  /** Messages of the view expunged elsewhere, not yet announced. */
  readonly #expunged = new Set<number>();
  /** Messages of the view whose flags changed elsewhere, not yet announced. */
  readonly #flagsChanged = new Set<number>();
  /** Keywords in use, lower case -> first spelling (FLAGS / PERMANENTFLAGS). */
  readonly #keywords = new Map<string, string>();
  #keywordsChanged = false;
  #maxUid = 0;
  #cursor: bigint;
  #dirty = false;
  #syncing: Promise<void> | undefined;

  private constructor(
    scope: MailboxScope,
    indexes: MailboxIndexes,
    index: MailboxIndex,
    record: MailboxRecord,
    readOnly: boolean,
    modseq: bigint,
    keywords: readonly string[],
  ) {
    this.#scope = scope;
    this.#indexes = indexes;
    this.#index = index;
    const summaries = [...index.summaries()];
    this.id = record.id;
    this.name = record.name;
    this.uidValidity = record.uidValidity;
    this.readOnly = readOnly;
    this.selectedModseq = modseq;
    this.#cursor = index.cursor;
    this.#view = summaries.map((s) => s.uid);
    for (const s of summaries) {
      this.#live.set(s.uid, s);
      this.#maxUid = Math.max(this.#maxUid, s.uid);
    }
    for (const k of keywords) this.#addKeyword(k);
    this.#keywordsChanged = false;
  }

  /**
   * Select: the shared index of the mailbox, brought up to date; UIDNEXT and HIGHESTMODSEQ as
   * the index shows them (kept from the change log, so it never claims more than the view
   * shows, and a SELECT reads nothing when the index is current).
   */
  static async open(
    scope: MailboxScope,
    indexes: MailboxIndexes,
    record: MailboxRecord,
    readOnly: boolean,
  ): Promise<{ mailbox: SelectedMailbox; uidNext: number }> {
    const index = await indexes.acquire(scope, record.id);
    try {
      await index.sync();
      const keywords = index.keywords();
      const mailbox = new SelectedMailbox(
        scope,
        indexes,
        index,
        record,
        readOnly,
        index.highestModseq,
        keywords,
      );
      return { mailbox, uidNext: Math.max(index.uidNext, mailbox.#maxUid + 1) };
    } catch (err) {
      indexes.release(index);
      throw err;
    }
  }

  /** Leave the mailbox (unselect, another SELECT, logout): the index may be dropped. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#indexes.release(this.#index);
  }

  /**
   * What SEARCH may take from memory instead of the store: the view's summaries, the
   * mailbox's digest cache and the server's cached EmailRecords.
   */
  searchSources(): SearchSources {
    const account = this.#scope.account;
    return {
      summaryOf: (uid) => this.summary(uid),
      digests: this.#index.searchDigests,
      cachedEmail: (emailId) => this.#indexes.peekEmail(account, emailId),
    };
  }

  /** The EmailRecords of live messages by UID, from the server's cache if there. */
  records(uids: readonly number[]): Promise<Map<number, EmailRecord>> {
    return this.#indexes.records(this.#scope, this.#index, uids);
  }

  // ---- the client's view ----

  /** Messages the client knows of (EXISTS). */
  get exists(): number {
    return this.#view.length;
  }

  /** UIDs in sequence-number order (SEARCH's view). */
  get view(): readonly number[] {
    return this.#view;
  }

  get #lastViewUid(): number {
    return this.#view[this.#view.length - 1] ?? 0;
  }

  /** The sequence number of `uid` in the view, 0 when absent. */
  seqOf(uid: number): number {
    const view = this.#view;
    let lo = 0;
    let hi = view.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const at = view[mid] as number;
      if (at === uid) return mid + 1;
      if (at < uid) lo = mid + 1;
      else hi = mid - 1;
    }
    return 0;
  }

  /** The summary of a live message of the view (not expunged, not pending). */
  summary(uid: number): MessageSummary | undefined {
    return uid <= this.#lastViewUid ? this.#live.get(uid) : undefined;
  }

  /** Unseen count and the first unseen sequence number (RFC 3501 UNSEEN). */
  firstUnseen(): number {
    for (let i = 0; i < this.#view.length; i++) {
      const s = this.#live.get(this.#view[i] as number);
      if (s !== undefined && !s.flags.includes('\\Seen')) return i + 1;
    }
    return 0;
  }

  /** FLAGS: system flags and the keywords in use. */
  flagList(): string[] {
    return [...SYSTEM_FLAGS, ...this.#keywords.values()];
  }

  /** PERMANENTFLAGS: what STORE may set; nothing when read-only. */
  permanentFlags(): string[] {
    return this.readOnly ? [] : [...this.flagList(), '\\*'];
  }

  /**
   * The live UIDs of a sequence set, ascending (`$` is the saved search result, RFC 5182).
   * A message number beyond the view is a client error (BAD), unless `*` is in the set.
   */
  resolve(set: SequenceSet, byUid: boolean): number[] {
    const view = this.#view;
    const out: number[] = [];
    if (byUid) {
      if (view.length > 0) {
        let i = 0;
        for (const [lo, hi] of normalizeSequenceSet(set, this.#lastViewUid)) {
          while (i < view.length && (view[i] as number) < lo) i++;
          while (i < view.length && (view[i] as number) <= hi) {
            const uid = view[i] as number;
            if (this.#live.has(uid)) out.push(uid);
            i++;
          }
        }
      }
    } else {
      if (!sequenceSetHasStar(set) && sequenceSetMaxNumber(set) > view.length) {
        throw new ImapError('BAD', 'Invalid message sequence number');
      }
      for (const [lo, hi] of normalizeSequenceSet(set, view.length)) {
        for (let seq = lo; seq <= hi; seq++) {
          const uid = view[seq - 1] as number;
          if (this.#live.has(uid)) out.push(uid);
        }
      }
    }
    if (!set.saved) return out;
    // step: `$` adds the saved UIDs still in the view
    const merged = new Set(out);
    for (const uid of this.savedSearch) if (this.summary(uid) !== undefined) merged.add(uid);
    return [...merged].sort((a, b) => a - b);
  }

  // ---- changes made elsewhere ----

  /** A nudge named this mailbox: re-read before the next command or update. */
  markDirty(): void {
    this.#dirty = true;
  }

  get dirty(): boolean {
    return this.#dirty;
  }

  /** Re-read what changed since the cursor, if a nudge said something did. */
  async sync(): Promise<void> {
    while (this.#dirty || this.#syncing !== undefined) {
      if (this.#syncing !== undefined) {
        await this.#syncing;
        continue;
      }
      this.#dirty = false;
      const pulling = this.#pull();
      this.#syncing = pulling;
      try {
        await pulling;
      } finally {
        this.#syncing = undefined;
      }
    }
  }

  async #pull(): Promise<void> {
    const index = this.#index;
    await index.sync();
    if (index.gone) throw new CommuneError('not-found', 'mailbox was deleted');
    const changed = index.changedSince(this.#cursor);
    if (changed === undefined) {
      // step: too far behind the index's log: compare everything
      for (const s of index.summaries()) this.#absorb(s);
      for (const uid of [...this.#live.keys()]) if (index.get(uid) === undefined) this.#vanish(uid);
    } else {
      for (const uid of changed.sort((a, b) => a - b)) {
        const s = index.get(uid);
        if (s === undefined) this.#vanish(uid);
        else this.#absorb(s);
      }
    }
    this.#cursor = index.cursor;
  }

  #absorb(s: MessageSummary): void {
    const known = this.#live.get(s.uid);
    if (known !== undefined) {
      if (s.modseq <= known.modseq) return;
      this.#live.set(s.uid, s);
      for (const f of s.flags) this.#addKeyword(f);
      if (s.uid <= this.#lastViewUid && !sameFlags(known.flags, s.flags)) {
        this.#flagsChanged.add(s.uid);
      }
      return;
    }
    // step: an unknown UID above everything known is a new message; others are gone for us
    if (s.uid <= this.#maxUid) return;
    this.#live.set(s.uid, s);
    this.#pendingNew.push(s.uid);
    this.#maxUid = s.uid;
    for (const f of s.flags) this.#addKeyword(f);
  }

  #vanish(uid: number): void {
    if (!this.#live.delete(uid)) return;
    this.#flagsChanged.delete(uid);
    if (uid > this.#lastViewUid) this.#pendingNew = this.#pendingNew.filter((u) => u !== uid);
    else this.#expunged.add(uid);
  }

  #addKeyword(flag: string): void {
    if (flag.startsWith('\\')) return;
    const key = flag.toLowerCase();
    if (this.#keywords.has(key)) return;
    this.#keywords.set(key, flag);
    this.#keywordsChanged = true;
  }

  // ---- changes made by this session ----

  /** Flags this session stored (its STORE response announces them). */
  applyStored(changed: readonly MessageSummary[]): void {
    for (const s of changed) {
      const known = this.#live.get(s.uid);
      if (known !== undefined && s.modseq >= known.modseq) this.#live.set(s.uid, s);
      this.#flagsChanged.delete(s.uid);
      for (const f of s.flags) this.#addKeyword(f);
    }
  }

  /** FLAGS of `uid` were just sent in a FETCH response. */
  flagsAnnounced(uid: number): void {
    this.#flagsChanged.delete(uid);
  }

  /**
   * Messages this session expunged or moved away: removed from the view now, with the
   * EXPUNGE sequence numbers to send (ascending, each after the previous ones took effect).
   */
  remove(uids: readonly number[]): Removed {
    const doomed = new Set(uids);
    const seqs: number[] = [];
    const removed: number[] = [];
    const kept: number[] = [];
    for (const uid of this.#view) {
      if (doomed.has(uid)) {
        seqs.push(kept.length + 1);
        removed.push(uid);
      } else kept.push(uid);
    }
    this.#view = kept;
    for (const uid of doomed) {
      this.#live.delete(uid);
      this.#expunged.delete(uid);
      this.#flagsChanged.delete(uid);
    }
    if (this.#pendingNew.some((u) => doomed.has(u))) {
      this.#pendingNew = this.#pendingNew.filter((u) => !doomed.has(u));
    }
    return { seqs, uids: removed };
  }

  /** EXPUNGE responses, or one VANISHED with QRESYNC, for messages this session removed. */
  static expungeResponses(removed: Removed, qresync: boolean): WirePart[] {
    if (qresync) return vanishedResponse(sequenceSetFromNumbers(removed.uids), false);
    return removed.seqs.flatMap((seq) => expungeResponse(seq));
  }

  // ---- announcing ----

  /** Whether `updates` has something to say (with expunges allowed). */
  get hasUpdates(): boolean {
    return (
      this.#expunged.size > 0 ||
      this.#pendingNew.length > 0 ||
      this.#flagsChanged.size > 0 ||
      this.#keywordsChanged
    );
  }

  /** FLAGS and PERMANENTFLAGS again when a new keyword came into use (RFC 9051 §7.3.5). */
  keywordUpdates(): WirePart[] {
    if (!this.#keywordsChanged) return [];
    this.#keywordsChanged = false;
    return [
      ...flagsResponse(this.flagList()),
      untaggedResponse('OK', 'Flags permitted', {
        code: 'PERMANENTFLAGS',
        flags: this.permanentFlags(),
      }),
    ];
  }

  /** The untagged responses for pending changes; what they announce is no longer pending. */
  updates(options: UpdateOptions): WirePart[] {
    const out: WirePart[] = [];
    if (options.allowExpunge && this.#expunged.size > 0) {
      const removed = this.remove([...this.#expunged]);
      out.push(...SelectedMailbox.expungeResponses(removed, options.qresync));
    }
    out.push(...this.keywordUpdates());
    if (this.#pendingNew.length > 0) {
      this.#view.push(...this.#pendingNew);
      this.#pendingNew = [];
      out.push(...existsResponse(this.#view.length));
    }
    if (this.#flagsChanged.size > 0) {
      for (const uid of [...this.#flagsChanged].sort((a, b) => a - b)) {
        const seq = this.seqOf(uid);
        const s = this.#live.get(uid);
        if (seq === 0 || s === undefined) continue;
        out.push(...fetchResponse(seq, flagItems(s, options.condstore), options.compose));
      }
      this.#flagsChanged.clear();
    }
    return out;
  }
}

/** UID, FLAGS and (with CONDSTORE) MODSEQ of a message: a flag-change FETCH. */
export function flagItems(s: MessageSummary, condstore: boolean): FetchResponseItem[] {
  const items: FetchResponseItem[] = [
    { item: 'UID', uid: s.uid },
    { item: 'FLAGS', flags: s.flags },
  ];
  if (condstore) items.push({ item: 'MODSEQ', modSeq: s.modseq });
  return items;
}

function sameFlags(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const lower = new Set(a.map((f) => f.toLowerCase()));
  return b.every((f) => lower.has(f.toLowerCase()));
}
