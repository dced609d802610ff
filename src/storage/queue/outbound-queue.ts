/**
 * The durable outbound queue. Keys under Subspace.queue (values JSON unless noted):
 *
 *   ('entry', id)         -> QueueEntry (envelope and per-recipient state)
 *   ('body', id, n)       -> raw bytes, chunk n of the message
 *   ('due', at, id)       -> '' (schedule index: next attempt at epoch ms `at`)
 *   ('lease', id)         -> QueueLease (a worker's reservation)
 *
 * `enqueue` stores the message bytes, the entry and its schedule in one commit: once it
 * resolves the message is durable, and a crash before leaves nothing. Delivery is guarded by
 * leases: a worker claims an entry by writing a lease with an expiry under `expect` (compare
 * and set on the lease and the entry), and every later change of the entry expects the lease
 * it holds, so one message is worked on by exactly one worker of any node; a lease that
 * expires (its worker died) can be taken over. Admin operations (retry, delete) claim too.
 */

import { randomBytes } from 'node:crypto';
import { CommuneError } from '../../core/errors.ts';
import { Subspace, decodeJson, encodeJson, pack, prefixRange, unpack } from '../keys.ts';
import type { Op } from '../store.ts';
import type { Storage } from '../storage.ts';
import type { EnqueueInput, QueueEntry, QueueLease } from './queue-types.ts';

/** Bytes per body chunk (values stay small for every backend). */
const CHUNK = 256 * 1024;
const EMPTY = new Uint8Array(0);
const Q = Subspace.queue;

export const queueKeys = {
  entry: (id: string) => pack(Q, 'entry', id),
  entries: () => pack(Q, 'entry'),
  body: (id: string, n: number) => pack(Q, 'body', id, n),
  due: (at: number, id: string) => pack(Q, 'due', Math.max(0, Math.floor(at)), id),
  dues: () => pack(Q, 'due'),
  lease: (id: string) => pack(Q, 'lease', id),
};

/** A held lease: the entry as claimed, and the exact stored values the next commit expects. */
export interface Claim {
  readonly entry: QueueEntry;
  readonly entryRaw: Uint8Array;
  readonly lease: QueueLease;
  readonly leaseRaw: Uint8Array;
}

/** Sortable, unique queue id: time (base32, 10 chars) + 64 random bits. */
export function newQueueId(now: number): string {
  return now.toString(32).padStart(10, '0') + randomBytes(8).toString('hex');
}

export class OutboundQueue {
  readonly #storage: Storage;
  readonly #now: () => number;
  readonly #listeners = new Set<() => void>();

  constructor(storage: Storage, options: { now?: () => number } = {}) {
    this.#storage = storage;
    this.#now = options.now ?? Date.now;
  }

  /** Called after every enqueue on this node (the worker wakes up). */
  onEnqueue(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The ops that store a new entry: body chunks, the entry, its schedule. */
  entryOps(input: EnqueueInput): { entry: QueueEntry; ops: Op[] } {
    if (input.recipients.length === 0) {
      throw new CommuneError('invalid-argument', 'a queued message needs recipients');
    }
    const now = this.#now();
    const id = newQueueId(now);
    const chunks = Math.max(1, Math.ceil(input.message.length / CHUNK));
    const entry: QueueEntry = {
      id,
      from: input.from,
      recipients: input.recipients.map((r) => ({
        address: r.address,
        state: 'pending',
        attempts: 0,
        ...(r.notify === undefined ? {} : { notify: r.notify }),
        ...(r.orcpt === undefined ? {} : { orcpt: r.orcpt }),
      })),
      size: input.message.length,
      chunks,
      createdAt: now,
      nextAttemptAt: now,
      attempts: 0,
      ret: input.ret ?? null,
      envid: input.envid ?? null,
      isBounce: input.isBounce ?? false,
      ...(input.submitter === undefined ? {} : { submitter: input.submitter }),
    };
    const ops: Op[] = [{ type: 'expect', key: queueKeys.entry(id), value: undefined }];
    for (let n = 0; n < chunks; n++) {
      ops.push({
        type: 'put',
        key: queueKeys.body(id, n),
        value: input.message.subarray(n * CHUNK, (n + 1) * CHUNK),
      });
    }
    ops.push(
      { type: 'put', key: queueKeys.entry(id), value: encodeJson(entry) },
      { type: 'put', key: queueKeys.due(now, id), value: EMPTY },
    );
    return { entry, ops };
  }

  /** Queue a message; durable when the promise resolves. */
  async enqueue(input: EnqueueInput): Promise<QueueEntry> {
    const { entry, ops } = this.entryOps(input);
    const result = await this.#storage.commit({ ops });
    if (!result.ok) throw new CommuneError('conflict', 'queue id collision, try again');
    this.#notify();
    return entry;
  }

  #notify(): void {
    for (const listener of this.#listeners) listener();
  }

  async get(id: string): Promise<QueueEntry | undefined> {
    const raw = await this.#storage.store.get(queueKeys.entry(id));
    return raw && decodeJson<QueueEntry>(raw);
  }

  /** Every queued entry, oldest first. */
  async list(options: { limit?: number } = {}): Promise<QueueEntry[]> {
    const out: QueueEntry[] = [];
    const range = prefixRange(queueKeys.entries(), { limit: options.limit ?? 10_000 });
    for await (const [, raw] of this.#storage.store.scan(range)) {
      out.push(decodeJson<QueueEntry>(raw));
    }
    return out;
  }

  /** The current lease of an entry, if any (expired ones included). */
  async lease(id: string): Promise<QueueLease | undefined> {
    const raw = await this.#storage.store.get(queueKeys.lease(id));
    return raw && decodeJson<QueueLease>(raw);
  }

  /** The message bytes of an entry. */
  async message(entry: QueueEntry): Promise<Uint8Array> {
    const keys = Array.from({ length: entry.chunks }, (_, n) => queueKeys.body(entry.id, n));
    const parts = await this.#storage.store.getMany(keys);
    const out = new Uint8Array(entry.size);
    let at = 0;
    for (const part of parts) {
      if (part === undefined)
        throw new CommuneError('unavailable', `queue body of ${entry.id} is missing`);
      out.set(part, at);
      at += part.length;
    }
    return out;
  }

  /** Ids whose next attempt is due at or before `now`, earliest first. */
  async due(now: number, limit: number): Promise<string[]> {
    const ids: string[] = [];
    const range = { gte: queueKeys.dues(), lt: queueKeys.due(now + 1, ''), limit };
    for await (const [key] of this.#storage.store.scan(range)) {
      ids.push(unpack(key).elements[2] as string);
    }
    return ids;
  }

  /** Epoch ms of the earliest scheduled attempt, or undefined when the queue is empty. */
  async nextDue(): Promise<number | undefined> {
    for await (const [key] of this.#storage.store.scan(
      prefixRange(queueKeys.dues(), { limit: 1 }),
    )) {
      return unpack(key).elements[1] as number;
    }
    return undefined;
  }

  /**
   * Take the lease of entry `id` for `ttlMs`. Undefined when the entry is gone, not due
   * (unless `force`), or leased by someone else whose lease has not expired.
   */
  async claim(
    id: string,
    owner: string,
    ttlMs: number,
    options: { force?: boolean } = {},
  ): Promise<Claim | undefined> {
    const now = this.#now();
    const [entryRaw, leaseRaw] = await this.#storage.store.getMany([
      queueKeys.entry(id),
      queueKeys.lease(id),
    ]);
    if (entryRaw === undefined) {
      // step: a schedule key whose entry is gone (removed while we looked): nothing to do
      return undefined;
    }
    const entry = decodeJson<QueueEntry>(entryRaw);
    if (!options.force && entry.nextAttemptAt > now) return undefined;
    if (leaseRaw !== undefined) {
      const held = decodeJson<QueueLease>(leaseRaw);
      if (held.owner !== owner && held.expires > now) return undefined;
    }
    const lease: QueueLease = { owner, expires: now + ttlMs };
    const newLeaseRaw = encodeJson(lease);
    // step: while leased, the entry is scheduled at the lease's expiry (a dead worker's
    // entry becomes due exactly when its lease runs out; live ones stay out of the scans)
    const scheduled: QueueEntry = { ...entry, nextAttemptAt: lease.expires };
    const scheduledRaw = encodeJson(scheduled);
    const result = await this.#storage.commit({
      ops: [
        { type: 'expect', key: queueKeys.entry(id), value: entryRaw },
        { type: 'expect', key: queueKeys.lease(id), value: leaseRaw },
        { type: 'put', key: queueKeys.lease(id), value: newLeaseRaw },
        { type: 'put', key: queueKeys.entry(id), value: scheduledRaw },
        { type: 'del', key: queueKeys.due(entry.nextAttemptAt, id) },
        { type: 'put', key: queueKeys.due(lease.expires, id), value: EMPTY },
      ],
    });
    return result.ok
      ? { entry: scheduled, entryRaw: scheduledRaw, lease, leaseRaw: newLeaseRaw }
      : undefined;
  }

  /** Extend a held lease (the entry's schedule follows); throws 'conflict' when it was lost. */
  async renew(claim: Claim, ttlMs: number): Promise<Claim> {
    const id = claim.entry.id;
    const lease: QueueLease = { owner: claim.lease.owner, expires: this.#now() + ttlMs };
    const leaseRaw = encodeJson(lease);
    const entry: QueueEntry = { ...claim.entry, nextAttemptAt: lease.expires };
    const entryRaw = encodeJson(entry);
    const result = await this.#storage.commit({
      ops: [
        { type: 'expect', key: queueKeys.lease(id), value: claim.leaseRaw },
        { type: 'expect', key: queueKeys.entry(id), value: claim.entryRaw },
        { type: 'put', key: queueKeys.lease(id), value: leaseRaw },
        { type: 'put', key: queueKeys.entry(id), value: entryRaw },
        { type: 'del', key: queueKeys.due(claim.entry.nextAttemptAt, id) },
        { type: 'put', key: queueKeys.due(lease.expires, id), value: EMPTY },
      ],
    });
    if (!result.ok) throw new CommuneError('conflict', `lease of ${id} was lost`);
    return { entry, entryRaw, lease, leaseRaw };
  }

  /**
   * Replace the entry under a held lease (and reschedule it), keeping the lease; `extra` ops
   * (e.g. a bounce's entry) go into the same commit. Throws 'conflict' when the lease was lost.
   */
  async update(claim: Claim, next: QueueEntry, extra: readonly Op[] = []): Promise<Claim> {
    const id = claim.entry.id;
    const entryRaw = encodeJson(next);
    const ops: Op[] = [
      { type: 'expect', key: queueKeys.lease(id), value: claim.leaseRaw },
      { type: 'expect', key: queueKeys.entry(id), value: claim.entryRaw },
      { type: 'put', key: queueKeys.entry(id), value: entryRaw },
      ...extra,
    ];
    if (next.nextAttemptAt !== claim.entry.nextAttemptAt) {
      ops.push(
        { type: 'del', key: queueKeys.due(claim.entry.nextAttemptAt, id) },
        { type: 'put', key: queueKeys.due(next.nextAttemptAt, id), value: EMPTY },
      );
    }
    await this.#commitHeld(id, ops, extra.length > 0);
    return { ...claim, entry: next, entryRaw };
  }

  /** Give the lease back (the entry stays as it is). */
  async release(claim: Claim): Promise<void> {
    const id = claim.entry.id;
    await this.#commitHeld(id, [
      { type: 'expect', key: queueKeys.lease(id), value: claim.leaseRaw },
      { type: 'del', key: queueKeys.lease(id) },
    ]);
  }

  /** Remove the entry with its body, schedule and lease; `extra` ops join the commit. */
  async remove(claim: Claim, extra: readonly Op[] = []): Promise<void> {
    const { id, chunks, nextAttemptAt } = claim.entry;
    const ops: Op[] = [
      { type: 'expect', key: queueKeys.lease(id), value: claim.leaseRaw },
      { type: 'expect', key: queueKeys.entry(id), value: claim.entryRaw },
      { type: 'del', key: queueKeys.entry(id) },
      { type: 'del', key: queueKeys.due(nextAttemptAt, id) },
      { type: 'del', key: queueKeys.lease(id) },
      ...extra,
    ];
    for (let n = 0; n < chunks; n++) ops.push({ type: 'del', key: queueKeys.body(id, n) });
    await this.#commitHeld(id, ops, extra.length > 0);
  }

  async #commitHeld(id: string, ops: Op[], enqueued = false): Promise<void> {
    const result = await this.#storage.commit({ ops });
    if (!result.ok) throw new CommuneError('conflict', `lease of ${id} was lost`);
    if (enqueued) this.#notify();
  }

  /** Admin: make every pending recipient of `id` due now. 'conflict' while it is being delivered. */
  async retryNow(id: string, owner = 'admin'): Promise<QueueEntry> {
    const claim = await this.#adminClaim(id, owner);
    const next: QueueEntry = { ...claim.entry, nextAttemptAt: this.#now() };
    const held = await this.update(claim, next);
    await this.release(held);
    this.#notify();
    return next;
  }

  /** Admin: drop a queued message without a bounce. 'conflict' while it is being delivered. */
  async delete(id: string, owner = 'admin'): Promise<QueueEntry> {
    const claim = await this.#adminClaim(id, owner);
    await this.remove(claim);
    return claim.entry;
  }

  async #adminClaim(id: string, owner: string): Promise<Claim> {
    const claim = await this.claim(id, owner, 30_000, { force: true });
    if (claim !== undefined) return claim;
    if ((await this.get(id)) === undefined)
      throw new CommuneError('not-found', `no queued message ${id}`);
    throw new CommuneError('conflict', `message ${id} is being delivered, try again shortly`);
  }
}
