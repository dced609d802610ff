/**
 * The store side of the mail service: reads of mailbox and message records, the operation
 * builders that keep indexes, counters, references and quota usage consistent, and the
 * optimistic transaction loop. MailService (the API, with access checks) composes these;
 * nothing here checks access. Key layout: mail-keys.ts.
 */

import { randomBytes } from 'node:crypto';
import { CommuneError } from '../../core/errors.ts';
import type { Directory } from '../directory/directory.ts';
import type { ChangeEntry, Op } from '../store.ts';
import type { Storage } from '../storage.ts';
import {
  decodeCounter,
  decodeJson,
  encodeCounter,
  encodeJson,
  prefixRange,
  unpack,
} from '../keys.ts';
import { KeyedMutex } from './keyed-mutex.ts';
import {
  countMessage,
  counterOps,
  emptyDelta,
  keywordOps,
  mailboxChange,
  messageChange,
  putEntry,
  putHighestModseq,
  putMailbox,
  putTombstone,
} from './mail-ops.ts';
import type { Plan } from './mail-ops.ts';
import { MAILBOX_COUNTERS, mailKeys } from './mail-keys.ts';
import type {
  EmailRecord,
  MailboxRecord,
  MailboxRole,
  MailboxStatus,
  MessageSummary,
} from './mail-types.ts';
import { decodeEntry, decodeModseq } from './message-entry.ts';
import { TxnReader } from './txn-reader.ts';

const MAX_ATTEMPTS = 32;

/** A new object id: `prefix` and 16 base64url characters (RFC 8474 objectid). */
export function objectIdOf(prefix: string): string {
  return prefix + randomBytes(12).toString('base64url');
}

export class MailRepository {
  readonly #storage: Storage;
  readonly #directory: Directory;
  readonly #now: () => Date;
  readonly #locks = new KeyedMutex<number>();

  constructor(parts: { storage: Storage; directory: Directory; now: () => Date }) {
    this.#storage = parts.storage;
    this.#directory = parts.directory;
    this.#now = parts.now;
  }

  /**
   * The thread of a message: that of the first known message it refers to, else new.
   * `pending` holds the threads given earlier in the same commit (message id -> thread id),
   * so a batch sees its own not yet committed messages; it is updated.
   */
  async thread(
    account: number,
    links: { messageId: string | null; references: readonly string[] },
    pending: Map<string, string> = new Map(),
  ): Promise<{ threadId: string; threadOps: Op[] }> {
    const ids = [...links.references, ...(links.messageId === null ? [] : [links.messageId])];
    const raws = await this.#storage.store.getMany(ids.map((id) => mailKeys.thread(account, id)));
    const knownAt = ids.findIndex((id, i) => pending.has(id) || raws[i] !== undefined);
    const threadId =
      knownAt < 0
        ? objectIdOf('T')
        : (pending.get(ids[knownAt] as string) ?? decodeJson<string>(raws[knownAt] as Uint8Array));
    const threadOps: Op[] = [];
    ids.forEach((id, i) => {
      if (raws[i] === undefined && !pending.has(id)) {
        pending.set(id, threadId);
        threadOps.push({
          type: 'put',
          key: mailKeys.thread(account, id),
          value: encodeJson(threadId),
        });
      }
    });
    return { threadId, threadOps };
  }

  /**
   * Build and commit a plan under the account lock, rebuilding it when it lost a race.
   * `shared`: without the lock, for plans whose reads other mutations rarely change (STOREs
   * of disjoint messages): they may then commit side by side, and `expect` still catches any
   * race, at the price of a rebuild.
   */
  async transact<T>(
    account: number,
    build: (r: TxnReader) => Promise<Plan<T>>,
    options: { shared?: boolean } = {},
  ): Promise<T> {
    const attempt = async (): Promise<T> => {
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        const reader = new TxnReader(this.#storage.store);
        const plan = await build(reader);
        if (plan.ops.length === 0 && plan.changes.length === 0) return plan.result(null, []);
        const result = await this.#storage.commit({
          ops: [...reader.expects(), ...plan.ops],
          changes: plan.changes,
        });
        if (result.ok) return plan.result(result.changeIds.get(account) ?? null, result.counters);
      }
      throw new CommuneError('conflict', 'too much concurrent mailbox activity, try again');
    };
    return options.shared === true ? attempt() : this.#locks.run(account, attempt);
  }

  /**
   * `count` consecutive values of the global mailbox counter, at least the current time in
   * seconds: they serve as mailbox ids and UIDVALIDITY, unique per incarnation and growing.
   */
  async allocate(count: number): Promise<number> {
    const key = mailKeys.allocator();
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const raw = await this.#storage.store.get(key);
      const first = Math.max(
        Number(decodeCounter(raw)) + 1,
        Math.floor(this.#now().getTime() / 1000),
      );
      const result = await this.#storage.commit({
        ops: [
          { type: 'expect', key, value: raw },
          { type: 'put', key, value: encodeCounter(BigInt(first + count - 1)) },
        ],
      });
      if (result.ok) return first;
    }
    throw new CommuneError('conflict', 'could not allocate a mailbox id');
  }

  newRecord(id: number, name: string, role: MailboxRole | null): MailboxRecord {
    return {
      id,
      name,
      role,
      uidValidity: id,
      noselect: false,
      createdAt: this.#now().toISOString(),
    };
  }

  createOps(account: number, record: MailboxRecord, ops: Op[], changes: ChangeEntry[]): void {
    ops.push(
      putMailbox(account, record),
      { type: 'put', key: mailKeys.name(account, record.name), value: encodeJson(record.id) },
      putHighestModseq(account, record.id),
    );
    if (record.role !== null) {
      ops.push({
        type: 'put',
        key: mailKeys.role(account, record.role),
        value: encodeJson(record.id),
      });
    }
    changes.push(mailboxChange(account, record.id, 'created'));
  }

  /** Put copies of `entries` into `target` from UID last+1; returns the UID mapping. */
  insertOps(
    account: number,
    target: MailboxRecord,
    last: number,
    entries: readonly MessageSummary[],
    ops: Op[],
    changes: ChangeEntry[],
  ): [number, number][] {
    const delta = emptyDelta();
    const mapping: [number, number][] = [];
    for (const [i, e] of entries.entries()) {
      const uid = last + 1 + i;
      mapping.push([e.uid, uid]);
      countMessage(delta, e.flags, e.size, 1);
      ops.push(putEntry(account, target.id, uid, e), ...keywordOps(account, target.id, e.flags));
      changes.push(messageChange(account, target.id, uid, 'created'));
    }
    ops.push(
      {
        type: 'put',
        key: mailKeys.lastUid(account, target.id),
        value: encodeCounter(BigInt(last + entries.length)),
      },
      putHighestModseq(account, target.id),
      ...counterOps(account, target.id, delta),
    );
    return mapping;
  }

  /** Remove `entries` from the mailbox index, leaving a tombstone (emails untouched). */
  detachOps(
    account: number,
    mailboxId: number,
    entries: readonly MessageSummary[],
    ops: Op[],
    changes: ChangeEntry[],
  ): void {
    if (entries.length === 0) return;
    const delta = emptyDelta();
    for (const e of entries) {
      countMessage(delta, e.flags, e.size, -1);
      ops.push({ type: 'del', key: mailKeys.message(account, mailboxId, e.uid) });
      changes.push(messageChange(account, mailboxId, e.uid, 'destroyed'));
    }
    ops.push(
      putTombstone(
        account,
        mailboxId,
        entries.map((e) => e.uid),
      ),
      putHighestModseq(account, mailboxId),
      ...counterOps(account, mailboxId, delta),
    );
  }

  /**
   * Ops dropping one reference per entry to its email (and, with the last one, the email
   * record and one blob reference), and the entries' quota usage.
   */
  async releaseEmails(
    r: TxnReader,
    account: number,
    entries: readonly MessageSummary[],
  ): Promise<Op[]> {
    if (entries.length === 0) return [];
    const counts = new Map<string, number>();
    for (const e of entries) counts.set(e.emailId, (counts.get(e.emailId) ?? 0) + 1);
    const ids = [...counts.keys()];
    const refs = await r.getMany(ids.map((id) => mailKeys.emailRefs(account, id)));
    const ops: Op[] = [
      {
        type: 'incr',
        key: mailKeys.usage(account, 'bytes'),
        delta: -BigInt(entries.reduce((s, e) => s + e.size, 0)),
      },
      { type: 'incr', key: mailKeys.usage(account, 'messages'), delta: -BigInt(entries.length) },
    ];
    const gone: string[] = [];
    ids.forEach((id, i) => {
      const count = counts.get(id) as number;
      if (decodeCounter(refs[i]) > BigInt(count)) {
        ops.push({ type: 'incr', key: mailKeys.emailRefs(account, id), delta: -BigInt(count) });
      } else {
        gone.push(id);
        ops.push(
          { type: 'del', key: mailKeys.emailRefs(account, id) },
          { type: 'del', key: mailKeys.email(account, id) },
        );
      }
    });
    // Blob references of the emails that are gone (several emails may share one blob).
    const emailRaws = await r.getMany(gone.map((id) => mailKeys.email(account, id)));
    const blobCounts = new Map<string, number>();
    for (const raw of emailRaws) {
      if (raw === undefined) continue;
      const hash = decodeJson<EmailRecord>(raw).blob;
      blobCounts.set(hash, (blobCounts.get(hash) ?? 0) + 1);
    }
    const hashes = [...blobCounts.keys()];
    const blobRefs = await r.getMany(hashes.map((h) => mailKeys.blobRefs(h)));
    hashes.forEach((hash, i) => {
      const count = blobCounts.get(hash) as number;
      // At zero the key goes; the blob itself stays for a later garbage collection.
      if (decodeCounter(blobRefs[i]) > BigInt(count)) {
        ops.push({ type: 'incr', key: mailKeys.blobRefs(hash), delta: -BigInt(count) });
      } else {
        ops.push({ type: 'del', key: mailKeys.blobRefs(hash) });
      }
    });
    return ops;
  }

  /** Usage increments, refused with 'over-quota' when they would pass `limit` (0 = none). */
  async quotaOps(
    r: TxnReader,
    account: number,
    limit: number,
    bytes: number,
    messages: number,
  ): Promise<Op[]> {
    if (limit > 0) {
      const used = Number(decodeCounter(await r.get(mailKeys.usage(account, 'bytes'))));
      if (used + bytes > limit) throw new CommuneError('over-quota', 'mailbox quota exceeded');
    }
    return [
      { type: 'incr', key: mailKeys.usage(account, 'bytes'), delta: BigInt(bytes) },
      { type: 'incr', key: mailKeys.usage(account, 'messages'), delta: BigInt(messages) },
    ];
  }

  async quotaLimit(account: number): Promise<number> {
    const principal = await this.#directory.getPrincipal(account);
    if (principal === undefined) throw new CommuneError('not-found', 'no such account');
    return principal.quota;
  }

  async record(
    account: number,
    mailboxId: number,
    r?: TxnReader,
  ): Promise<MailboxRecord | undefined> {
    const key = mailKeys.mailbox(account, mailboxId);
    const raw = r === undefined ? await this.#storage.store.get(key) : await r.get(key);
    return raw === undefined ? undefined : decodeJson<MailboxRecord>(raw);
  }

  async requireRecord(account: number, mailboxId: number, r?: TxnReader): Promise<MailboxRecord> {
    const record = Number.isSafeInteger(mailboxId)
      ? await this.record(account, mailboxId, r)
      : undefined;
    if (record === undefined) throw new CommuneError('not-found', 'no such mailbox');
    return record;
  }

  async mailboxRecords(account: number): Promise<MailboxRecord[]> {
    const out: MailboxRecord[] = [];
    for await (const [, raw] of this.#storage.store.scan(
      prefixRange(mailKeys.mailboxes(account)),
    )) {
      out.push(decodeJson<MailboxRecord>(raw));
    }
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async subscriptions(account: number): Promise<string[]> {
    const out: string[] = [];
    for await (const [key] of this.#storage.store.scan(
      prefixRange(mailKeys.subscriptions(account)),
    )) {
      out.push(unpack(key).elements.at(-1) as string);
    }
    return out;
  }

  async statuses(account: number, records: readonly MailboxRecord[]): Promise<MailboxStatus[]> {
    const per = MAILBOX_COUNTERS.length + 2;
    const keys = records.flatMap((m) => [
      ...MAILBOX_COUNTERS.map((c) => mailKeys.counter(account, m.id, c)),
      mailKeys.lastUid(account, m.id),
      mailKeys.highestModseq(account, m.id),
    ]);
    const values = keys.length === 0 ? [] : await this.#storage.store.getMany(keys);
    return records.map((m, i) => {
      const at = (k: number) => values[i * per + k];
      const n = (k: number) => Number(decodeCounter(at(k)));
      return {
        messages: n(0),
        unseen: n(1),
        deleted: n(2),
        size: n(3),
        recent: 0,
        uidNext: n(4) + 1,
        uidValidity: m.uidValidity,
        highestModseq: decodeModseq(at(5)),
      };
    });
  }

  async summaries(account: number, mailboxId: number): Promise<MessageSummary[]> {
    const out: MessageSummary[] = [];
    for await (const [key, value] of this.#storage.store.scan(
      prefixRange(mailKeys.messages(account, mailboxId)),
    )) {
      out.push(decodeEntry(unpack(key).elements.at(-1) as number, value));
    }
    return out;
  }

  /** The existing entries among sorted `uids`. */
  async entries(
    reader: Pick<TxnReader, 'getMany'>,
    account: number,
    mailboxId: number,
    uids: readonly number[],
  ): Promise<MessageSummary[]> {
    const raws = await reader.getMany(uids.map((uid) => mailKeys.message(account, mailboxId, uid)));
    const out: MessageSummary[] = [];
    uids.forEach((uid, i) => {
      const raw = raws[i];
      if (raw !== undefined) out.push(decodeEntry(uid, raw));
    });
    return out;
  }

  async emails(account: number, emailIds: readonly string[]): Promise<Map<string, EmailRecord>> {
    const ids = [...new Set(emailIds)];
    const out = new Map<string, EmailRecord>();
    if (ids.length === 0) return out;
    const raws = await this.#storage.store.getMany(ids.map((id) => mailKeys.email(account, id)));
    ids.forEach((id, i) => {
      const raw = raws[i];
      if (raw !== undefined) out.set(id, decodeJson<EmailRecord>(raw));
    });
    return out;
  }
}
