/**
 * The queue worker: finds due messages, claims each under a lease (so one worker of one node
 * delivers it), hands its pending recipients to the transport one route at a time (a remote
 * domain, the smarthost, local mailboxes), and records every outcome as soon as it is known,
 * so a crash re-sends nothing that was confirmed. Temporary failures are retried with
 * exponential backoff until `maxAge`; permanent failures, and messages that reach `maxAge`,
 * bounce: a delivery status notification (RFC 3464) to the sender is queued in the same commit
 * that records the failure. Recipients that asked for NOTIFY=SUCCESS get a success notice
 * (best effort: one lost to a crash is not sent again).
 */

import { randomBytes } from 'node:crypto';
import { isCommuneError } from '../../core/errors.ts';
import type { Logger } from '../../core/log.ts';
import { buildDsn } from './dsn-report.ts';
import type { DsnRecipient } from './dsn-report.ts';
import type { Claim, OutboundQueue } from './outbound-queue.ts';
import type { QueueSettings } from './queue-settings.ts';
import type { QueueEntry, QueueRecipient } from './queue-types.ts';
import type { Op } from '../store.ts';

/** One delivery attempt for recipients that share a route. */
export interface DeliveryRequest {
  readonly queueId: string;
  readonly from: string;
  readonly recipients: readonly QueueRecipient[];
  readonly message: Uint8Array;
  /** Aborted when the worker stops past its deadline. */
  readonly signal: AbortSignal;
}

export type RecipientOutcome = 'delivered' | 'deferred' | 'failed';

export interface RecipientResult {
  readonly address: string;
  readonly outcome: RecipientOutcome;
  /** Reply or error text, e.g. "550 5.1.1 no such user". */
  readonly result: string;
  /** Enhanced status code (RFC 3463). */
  readonly status: string;
  readonly remoteMta?: string;
  /** For delivered recipients: into a mailbox here, or handed to another host. */
  readonly action?: 'delivered' | 'relayed';
}

/** How queued mail leaves: routes group recipients, `deliver` makes one attempt per route. */
export interface QueueTransport {
  route(address: string): Promise<string>;
  deliver(route: string, request: DeliveryRequest): Promise<RecipientResult[]>;
}

export interface QueueWorkerOptions {
  readonly queue: OutboundQueue;
  readonly transport: QueueTransport;
  readonly settings: QueueSettings;
  /** Reporting MTA name for bounces. */
  readonly hostname: string;
  readonly log: Logger;
  readonly now?: () => number;
  /** [0, 1) source for backoff jitter. */
  readonly random?: () => number;
  /** Lease owner name; unique per worker instance by default. */
  readonly owner?: string;
}

/** Whether the sender asked to hear about a failed recipient (RFC 3461 §4.1). */
function wantsFailureNotice(r: QueueRecipient): boolean {
  return r.notify === undefined || r.notify.includes('FAILURE');
}

/** The ops that queue a notification about `recipients` of `entry` to its sender. */
function noticeOps(
  queue: OutboundQueue,
  entry: QueueEntry,
  recipients: readonly DsnRecipient[],
  message: Uint8Array,
  hostname: string,
  now: number,
): Op[] {
  if (recipients.length === 0 || entry.from === '' || entry.isBounce) return [];
  const dsn = buildDsn({
    hostname,
    to: entry.from,
    queueId: entry.id,
    envid: entry.envid,
    arrivalDate: new Date(entry.createdAt),
    recipients,
    original: message,
    headersOnly: entry.ret === 'HDRS',
    now: new Date(now),
  });
  return queue.entryOps({
    from: '',
    recipients: [{ address: entry.from }],
    message: dsn,
    isBounce: true,
  }).ops;
}

export class QueueWorker {
  readonly #queue: OutboundQueue;
  readonly #transport: QueueTransport;
  readonly #settings: QueueSettings;
  readonly #hostname: string;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly owner: string;
  readonly #inFlight = new Map<string, Promise<void>>();
  readonly #abort = new AbortController();
  #timer: NodeJS.Timeout | undefined;
  #scanning = false;
  #again = false;
  #running = false;
  #unsubscribe: (() => void) | undefined;
  #idleWaiters: (() => void)[] = [];

  constructor(options: QueueWorkerOptions) {
    this.#queue = options.queue;
    this.#transport = options.transport;
    this.#settings = options.settings;
    this.#hostname = options.hostname;
    this.#log = options.log;
    this.#now = options.now ?? Date.now;
    this.#random = options.random ?? Math.random;
    this.owner = options.owner ?? `worker-${process.pid}-${randomBytes(6).toString('hex')}`;
  }

  /** Deliveries in progress. */
  get active(): number {
    return this.#inFlight.size;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#unsubscribe = this.#queue.onEnqueue(() => this.wake());
    this.wake();
  }

  /** Look for due messages now (called on enqueue). */
  wake(): void {
    if (!this.#running) return;
    if (this.#scanning) {
      this.#again = true;
      return;
    }
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.#tick(), 0);
  }

  /**
   * Stop claiming, wait for deliveries in progress until `deadline` (epoch ms), then abort
   * the rest; their leases expire and another worker (or the next start) takes them over.
   */
  async stop(deadline: number): Promise<void> {
    this.#running = false;
    clearTimeout(this.#timer);
    this.#unsubscribe?.();
    const all = Promise.allSettled([...this.#inFlight.values()]);
    const wait = Math.max(0, deadline - Date.now());
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([all, new Promise((r) => (timer = setTimeout(r, wait)))]);
    clearTimeout(timer);
    this.#abort.abort();
    await Promise.race([all, new Promise((r) => setTimeout(r, 1000))]);
  }

  /** Resolves when nothing is in flight and no scan runs (tests). */
  idle(): Promise<void> {
    if (this.#inFlight.size === 0 && !this.#scanning) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #checkIdle(): void {
    if (this.#inFlight.size > 0 || this.#scanning) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of waiters) w();
  }

  async #tick(): Promise<void> {
    if (!this.#running) return;
    this.#scanning = true;
    this.#again = false;
    let sleep = this.#settings.pollInterval * 1000;
    try {
      const free = this.#settings.concurrency - this.#inFlight.size;
      if (free > 0) {
        const now = this.#now();
        const ids = await this.#queue.due(now, this.#settings.concurrency * 2 + 16);
        for (const id of ids) {
          if (!this.#running || this.#inFlight.size >= this.#settings.concurrency) break;
          if (this.#inFlight.has(id)) continue;
          const claim = await this.#queue.claim(id, this.owner, this.#settings.leaseTime * 1000);
          if (claim !== undefined) this.#launch(claim);
        }
      }
      // step: sleep until the next scheduled attempt, at most one poll interval
      const next = await this.#queue.nextDue();
      if (next !== undefined) sleep = Math.min(sleep, Math.max(10, next - this.#now()));
    } catch (err) {
      this.#log.error({ protocol: 'queue', err }, 'queue scan failed');
    } finally {
      this.#scanning = false;
    }
    if (this.#running) {
      clearTimeout(this.#timer);
      this.#timer = setTimeout(() => void this.#tick(), this.#again ? 0 : sleep);
    }
    this.#checkIdle();
  }

  #launch(claim: Claim): void {
    const id = claim.entry.id;
    const run = this.#process(claim)
      .catch((err: unknown) => {
        if (isCommuneError(err, 'conflict')) {
          this.#log.warn({ protocol: 'queue', id }, 'lease lost while delivering');
        } else {
          this.#log.error({ protocol: 'queue', id, err }, 'queue delivery failed');
        }
      })
      .finally(() => {
        this.#inFlight.delete(id);
        this.wake();
        this.#checkIdle();
      });
    this.#inFlight.set(id, run);
  }

  async #process(first: Claim): Promise<void> {
    let held = first;
    // step: every queue write of this claim goes through one chain (renewals included)
    let chain: Promise<unknown> = Promise.resolve();
    const serial = <T>(fn: () => Promise<T>): Promise<T> => {
      const run = chain.then(fn, fn);
      chain = run.catch(() => undefined);
      return run;
    };
    const ttl = this.#settings.leaseTime * 1000;
    const renewal = setInterval(() => {
      void serial(async () => {
        held = await this.#queue.renew(held, ttl);
      }).catch(() => undefined);
    }, ttl / 3);
    try {
      const entry = held.entry;
      const message = await this.#queue.message(entry);
      // 1. Group pending recipients by route and try each route once.
      const successes: DsnRecipient[] = [];
      const routes = new Map<string, QueueRecipient[]>();
      for (const r of entry.recipients) {
        if (r.state !== 'pending') continue;
        const route = await this.#transport.route(r.address);
        routes.set(route, [...(routes.get(route) ?? []), r]);
      }
      for (const [route, recipients] of routes) {
        if (this.#abort.signal.aborted) break;
        const results = await this.#attempt(route, entry, recipients, message);
        for (const result of results) {
          const r = recipients.find((x) => x.address === result.address);
          if (result.outcome === 'delivered' && r?.notify?.includes('SUCCESS')) {
            successes.push({
              ...r,
              action: result.action ?? 'relayed',
              status: result.status,
              ...(result.remoteMta === undefined ? {} : { remoteMta: result.remoteMta }),
            });
          }
        }
        // step: record outcomes at once, so a crash never re-sends what was confirmed
        await serial(async () => {
          held = await this.#queue.update(held, applyResults(held.entry, results));
        });
        this.#log.info(
          {
            protocol: 'queue',
            id: entry.id,
            route,
            outcomes: results.map((r) => `${r.address}:${r.outcome}`).join(' '),
          },
          'delivery attempt',
        );
      }
      // 2. Finish: bounce failures, then remove the entry or schedule the next attempt.
      await serial(() => this.#finish(held, message, successes));
    } finally {
      clearInterval(renewal);
    }
  }

  async #attempt(
    route: string,
    entry: QueueEntry,
    recipients: readonly QueueRecipient[],
    message: Uint8Array,
  ): Promise<RecipientResult[]> {
    try {
      return await this.#transport.deliver(route, {
        queueId: entry.id,
        from: entry.from,
        recipients,
        message,
        signal: this.#abort.signal,
      });
    } catch (err) {
      this.#log.error({ protocol: 'queue', id: entry.id, route, err }, 'transport failed');
      return recipients.map((r) => ({
        address: r.address,
        outcome: 'deferred',
        result: 'local error in processing',
        status: '4.3.0',
      }));
    }
  }

  async #finish(
    held: Claim,
    message: Uint8Array,
    successes: readonly DsnRecipient[],
  ): Promise<void> {
    const now = this.#now();
    let entry = held.entry;
    const expired = now - entry.createdAt >= this.#settings.maxAge * 1000;
    // step: past the maximum age every pending recipient fails (RFC 5321 §4.5.4.1)
    if (expired) {
      entry = {
        ...entry,
        recipients: entry.recipients.map((r) =>
          r.state === 'pending'
            ? {
                ...r,
                state: 'failed',
                status: '4.4.7',
                lastResult: `delivery time expired${r.lastResult === undefined ? '' : `: ${r.lastResult}`}`,
              }
            : r,
        ),
      };
    }
    const unreported = entry.recipients.filter((r) => r.state === 'failed' && r.bounced !== true);
    const notify = unreported.filter(wantsFailureNotice);
    const extra: Op[] = [
      ...noticeOps(this.#queue, entry, notify, message, this.#hostname, now),
      ...noticeOps(this.#queue, entry, successes, message, this.#hostname, now),
    ];
    if (notify.length > 0 && entry.from !== '' && !entry.isBounce) {
      this.#log.info(
        { protocol: 'queue', id: entry.id, to: entry.from, failed: notify.length },
        'bounce queued',
      );
    }
    if (unreported.length > 0) {
      entry = {
        ...entry,
        recipients: entry.recipients.map((r) =>
          r.state === 'failed' && r.bounced !== true ? { ...r, bounced: true } : r,
        ),
      };
    }
    const pending = entry.recipients.filter((r) => r.state === 'pending');
    if (pending.length === 0) {
      await this.#queue.remove(held, extra);
      return;
    }
    const attempts = entry.attempts + 1;
    const next: QueueEntry = {
      ...entry,
      attempts,
      nextAttemptAt: now + this.#backoff(attempts),
      ...(pending[0]?.lastResult === undefined ? {} : { lastError: pending[0].lastResult }),
    };
    const updated = await this.#queue.update(held, next, extra);
    await this.#queue.release(updated);
  }

  /** Milliseconds before attempt `attempts + 1`: base * 2^(n-1), capped, with ±10% jitter. */
  #backoff(attempts: number): number {
    const { retryBase, retryMaxInterval } = this.#settings;
    const plain = Math.min(retryBase * 2 ** Math.min(attempts - 1, 30), retryMaxInterval);
    return Math.round(plain * 1000 * (0.9 + 0.2 * this.#random()));
  }
}

/** The entry with one route's outcomes applied to its recipients. */
export function applyResults(entry: QueueEntry, results: readonly RecipientResult[]): QueueEntry {
  const byAddress = new Map(results.map((r) => [r.address, r]));
  return {
    ...entry,
    recipients: entry.recipients.map((r) => {
      const result = byAddress.get(r.address);
      if (result === undefined || r.state !== 'pending') return r;
      const state = result.outcome === 'deferred' ? 'pending' : result.outcome;
      return {
        ...r,
        state,
        attempts: r.attempts + 1,
        lastResult: result.result,
        status: result.status,
        ...(result.remoteMta === undefined ? {} : { remoteMta: result.remoteMta }),
      };
    }),
  };
}
