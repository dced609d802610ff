/**
 * The change bus across nodes, over PostgreSQL LISTEN/NOTIFY
 * (https://www.postgresql.org/docs/current/sql-notify.html). Every node LISTENs on one channel
 * on a dedicated connection; `publish` delivers to this node's listeners at once and sends the
 * nudge to the others with pg_notify, as a small JSON payload:
 *
 *   {"a": account, "c": "changeId as decimal string", "k": [collections], "n": "node id"}
 *
 * (`n` lets a node skip the echo of its own nudges; `k` is left out when the payload would pass
 * PostgreSQL's 8000-byte limit, and then arrives as an empty list.)
 *
 * Contract for readers (IMAP IDLE/NOTIFY, DAV sync, push, social streams): a nudge only says
 * "look again". Keep your own cursor and re-read the change log from it (change-log.ts) on
 * every nudge; never trust a nudge's changeId or collections as complete. In particular a
 * nudge may be
 *   - duplicated, late or coalesced (NOTIFY is at-most-once per connection);
 *   - synthetic: after the listening connection was lost and re-established, the bus cannot
 *     know what it missed, so it emits, for every account it has seen a nudge for, a resync
 *     nudge {account, changeId: the last id it saw, collections: []}, and then one nudge for
 *     RESYNC_ALL_ACCOUNTS (account -1): "any account may have moved, re-read every cursor".
 * An empty `collections` list means "any collection". Nudges published while the connection is
 * down are kept (coalesced per account) and sent after reconnecting.
 */

import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { ChangeBus, ChangeListener, ChangeNudge } from './change-bus.ts';
import { RESYNC_ALL_ACCOUNTS } from './change-bus.ts';
import { LocalChangeBus } from './local-change-bus.ts';
import { oneLine, quoteIdent } from './backends/postgres-store.ts';
import { CommuneError } from '../core/errors.ts';

/** The account of the "re-read every cursor" nudge emitted after a reconnect. */
export { RESYNC_ALL_ACCOUNTS };

/** PostgreSQL rejects NOTIFY payloads of 8000 bytes or more. */
const MAX_PAYLOAD = 7900;
/** Nudges sent in one statement at most. */
const NOTIFY_BATCH = 256;

export interface PgChangeBusOptions {
  readonly url: string;
  /** NOTIFY channel shared by every node (default `commune_changes`). */
  readonly channel?: string;
  /** Called when a listener throws, and with connection errors. */
  readonly onError?: (err: unknown) => void;
  /** Reconnect backoff: first delay and cap, in ms (default 100 and 5000). */
  readonly reconnectMinMs?: number;
  readonly reconnectMaxMs?: number;
  /** A liveness query on the listening connection every this many ms (default 15000). */
  readonly heartbeatMs?: number;
}

interface Payload {
  readonly a: number;
  readonly c: string;
  readonly k?: readonly string[];
  readonly n: string;
}

export class PgChangeBus implements ChangeBus {
  readonly channel: string;
  readonly #url: string;
  readonly #node = randomUUID();
  readonly #local: LocalChangeBus;
  readonly #onError: (err: unknown) => void;
  readonly #minDelay: number;
  readonly #maxDelay: number;
  readonly #heartbeatMs: number;
  /** The last change id seen per account (published here or received). */
  readonly #seen = new Map<number, bigint>();
  /** Nudges not yet sent because the connection is down, coalesced per account. */
  readonly #pending = new Map<number, ChangeNudge>();
  readonly #outbox: ChangeNudge[] = [];
  #sending = false;
  #turn: Promise<void> = Promise.resolve();
  #client: pg.Client | undefined;
  #timer: NodeJS.Timeout | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  #failures = 0;
  #closed = false;

  private constructor(options: PgChangeBusOptions) {
    this.#url = options.url;
    this.channel = options.channel ?? 'commune_changes';
    this.#onError = options.onError ?? (() => {});
    this.#local = new LocalChangeBus(this.#onError);
    this.#minDelay = options.reconnectMinMs ?? 100;
    this.#maxDelay = options.reconnectMaxMs ?? 5000;
    this.#heartbeatMs = options.heartbeatMs ?? 15000;
  }

  /** Connect and LISTEN; CommuneError 'unavailable' when the database cannot be reached. */
  static async open(options: PgChangeBusOptions): Promise<PgChangeBus> {
    const bus = new PgChangeBus(options);
    try {
      await bus.#connect();
    } catch (err) {
      await bus.close();
      throw new CommuneError('unavailable', `cannot listen for changes: ${oneLine(err)}`, {
        cause: err,
      });
    }
    return bus;
  }

  /** Backend process id of the listening connection (undefined while disconnected). */
  get backendPid(): number | undefined {
    return (this.#client as { processID?: number } | undefined)?.processID;
  }

  publish(nudge: ChangeNudge): void {
    this.#remember(nudge);
    this.#local.publish(nudge);
    this.#send(nudge);
  }

  subscribe(listener: ChangeListener): () => void {
    return this.#local.subscribe(listener);
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    clearInterval(this.#heartbeat);
    const client = this.#client;
    this.#client = undefined;
    await client?.end().catch(() => undefined);
    await this.#local.close();
  }

  #remember(nudge: ChangeNudge): void {
    const seen = this.#seen.get(nudge.account);
    if (seen === undefined || nudge.changeId > seen) this.#seen.set(nudge.account, nudge.changeId);
  }

  /**
   * Nudges go out in order, one statement at a time on the listening connection (a pg client
   * must not run queries concurrently): those published while one is in flight leave
   * together in the next, one transaction for many commits.
   */
  #send(nudge: ChangeNudge): void {
    if (this.#client === undefined) {
      this.#queue(nudge);
      return;
    }
    this.#outbox.push(nudge);
    if (!this.#sending) void this.#drainOutbox();
  }

  async #drainOutbox(): Promise<void> {
    this.#sending = true;
    try {
      while (this.#outbox.length > 0) {
        const batch = this.#outbox.splice(0, NOTIFY_BATCH);
        const client = this.#client;
        if (client === undefined) {
          for (const nudge of batch) this.#queue(nudge);
          continue;
        }
        try {
          await this.#inTurn(() =>
            client.query('SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p', [
              this.channel,
              batch.map((nudge) => this.#encode(nudge)),
            ]),
          );
        } catch {
          for (const nudge of batch) this.#queue(nudge);
        }
      }
    } finally {
      this.#sending = false;
    }
  }

  /** Queries on the listening connection run one after another (nudges, heartbeat). */
  #inTurn<T>(query: () => Promise<T>): Promise<T> {
    const run = this.#turn.then(query);
    this.#turn = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  #queue(nudge: ChangeNudge): void {
    if (this.#closed) return;
    const earlier = this.#pending.get(nudge.account);
    if (earlier === undefined) {
      this.#pending.set(nudge.account, nudge);
      return;
    }
    const collections =
      earlier.collections.length === 0 || nudge.collections.length === 0
        ? []
        : [...new Set([...earlier.collections, ...nudge.collections])];
    this.#pending.set(nudge.account, {
      account: nudge.account,
      changeId: nudge.changeId > earlier.changeId ? nudge.changeId : earlier.changeId,
      collections,
    });
  }

  #encode(nudge: ChangeNudge): string {
    const base = { a: nudge.account, c: nudge.changeId.toString(), n: this.#node };
    const full = JSON.stringify({ ...base, k: nudge.collections });
    return Buffer.byteLength(full) <= MAX_PAYLOAD ? full : JSON.stringify(base);
  }

  #receive(payload: string | undefined): void {
    let msg: Payload;
    try {
      msg = JSON.parse(payload ?? '') as Payload;
      if (!Number.isSafeInteger(msg.a) || typeof msg.c !== 'string') throw new Error('bad shape');
    } catch {
      this.#onError(new CommuneError('invalid-argument', 'malformed change nudge ignored'));
      return;
    }
    if (msg.n === this.#node) return;
    const nudge: ChangeNudge = {
      account: msg.a,
      changeId: BigInt(msg.c),
      collections: Array.isArray(msg.k) ? msg.k.filter((k) => typeof k === 'string') : [],
    };
    this.#remember(nudge);
    this.#local.publish(nudge);
  }

  async #connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.#url, keepAlive: true });
    client.on('notification', (msg) => {
      if (msg.channel === this.channel) this.#receive(msg.payload);
    });
    const lost = (err?: unknown): void => this.#lost(client, err);
    client.on('error', lost);
    client.on('end', () => lost());
    try {
      await client.connect();
      await client.query(`LISTEN ${quoteIdent(this.channel)}`);
      // Nudges are best effort (readers re-read the log): no need to wait for a WAL flush.
      await client.query('SET synchronous_commit = off');
    } catch (err) {
      client.removeAllListeners('end');
      client.on('error', () => {});
      await client.end().catch(() => undefined);
      throw err;
    }
    if (this.#closed) {
      await client.end().catch(() => undefined);
      return;
    }
    this.#client = client;
    clearInterval(this.#heartbeat);
    this.#heartbeat = setInterval(() => {
      this.#inTurn(() => client.query('SELECT 1')).catch((err: unknown) => lost(err));
    }, this.#heartbeatMs);
    this.#heartbeat.unref();
  }

  #lost(client: pg.Client, err: unknown): void {
    if (this.#closed || this.#client !== client) return;
    this.#client = undefined;
    clearInterval(this.#heartbeat);
    if (err !== undefined) this.#onError(err);
    client.end().catch(() => undefined);
    this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    if (this.#closed) return;
    const delay = Math.min(this.#maxDelay, this.#minDelay * 2 ** this.#failures);
    this.#timer = setTimeout(() => void this.#reconnect(), delay * (0.5 + Math.random() / 2));
  }

  async #reconnect(): Promise<void> {
    try {
      await this.#connect();
    } catch (err) {
      this.#failures++;
      this.#onError(err);
      this.#scheduleReconnect();
      return;
    }
    if (this.#closed) return;
    this.#failures = 0;
    // 1. Send what was published while down.
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const nudge of pending) this.#send(nudge);
    // 2. Tell local readers to re-read from their cursors: what we missed is unknown.
    for (const [account, changeId] of this.#seen) {
      this.#local.publish({ account, changeId, collections: [] });
    }
    this.#local.publish({ account: RESYNC_ALL_ACCOUNTS, changeId: 0n, collections: [] });
  }
}
