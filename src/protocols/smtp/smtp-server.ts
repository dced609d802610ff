/**
 * The SMTP servers: the inbound MX (config.smtp, STARTTLS), and authenticated submission on
 * config.submission (STARTTLS, RFC 6409) and config.submissions (implicit TLS, RFC 8314), each
 * only when enabled, all on smtp-server with our TLS key pair. ESMTP extensions: PIPELINING,
 * 8BITMIME, SMTPUTF8, SIZE, ENHANCEDSTATUSCODES, DSN, STARTTLS, CHUNKING (chunking.ts), AUTH
 * PLAIN/LOGIN (submission, once encrypted).
 *
 * Each stage runs the profile's hook chain (hooks/hook-chains.ts). DATA is answered 250 only
 * once the message is durable: delivered into every local mailbox and, for remote recipients,
 * committed to the outbound queue. Limits: message size, recipients, connections (total and
 * per client address), connection and message rates, idle timeout; failed logins count in the
 * directory's shared limiter. Graceful stop: no new connections, 421 to idle sessions at once,
 * sessions in DATA finish until the deadline, then 421 and close.
 */

import type { Socket } from 'node:net';
import { domainToASCII } from 'node:url';
import { SMTPServer } from 'smtp-server';
import type {
  SMTPServerAddress,
  SMTPServerAuthentication,
  SMTPServerDataStream,
  SMTPServerOptions,
  SMTPServerSession,
} from 'smtp-server';
import type { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';
import { randomBytes } from 'node:crypto';
import { isCommuneError } from '../../core/errors.ts';
import type { Endpoint, ProtocolServer } from '../../core/lifecycle.ts';
import type { Core } from '../../main.ts';
import { isLoopback } from '../http/admin-api.ts';
import { DkimKeys } from '../../storage/dkim/dkim-keys.ts';
import type { MailService } from '../../storage/mail/mail-service.ts';
import type { OutboundQueue } from '../../storage/queue/outbound-queue.ts';
import { buildDsn } from '../../storage/queue/dsn-report.ts';
import type { DsnRecipient } from '../../storage/queue/dsn-report.ts';
import type { EnqueueInput, NotifyOn } from '../../storage/queue/queue-types.ts';
import { assemble } from './headroom.ts';
import { installFastUnstuffing } from './data-unstuff.ts';
import { installChunking, withChunking } from './chunking.ts';
import { DkimSigner } from './dkim-signer.ts';
import { HOOK_CHAINS } from './hooks/hook-chains.ts';
import { runHooks } from './hooks/smtp-hook.ts';
import type { HookServices } from './hooks/smtp-hook.ts';
import type { LocalDelivery } from './local-delivery.ts';
import { mailServiceDelivery } from './local-delivery.ts';
import {
  fromAddresses,
  headerFields,
  missingOriginFields,
  prependHeaders,
  removeForgedAuthResults,
} from './message-headers.ts';
import { RateLimiter } from './rate-limiter.ts';
import { receivedHeader } from './received-header.ts';
import { RecipientRouter } from './recipient-router.ts';
import type { LocalTarget } from './recipient-router.ts';
import type { Resolver } from './resolver.ts';
import { Replies, SmtpReply, replyOf } from './smtp-reply.ts';
import { readSmtpSettings } from './smtp-settings.ts';
import type { SmtpSettings } from './smtp-settings.ts';
import type { ListenerName, SessionState, SmtpProfile, Transaction } from './smtp-session.ts';

export interface SmtpServerDeps {
  /** The mail store local deliveries go into (or `delivery`). */
  readonly mail?: MailService;
  /** Replaces the MailService adapter (tests inject failures). */
  readonly delivery?: LocalDelivery;
  /** The outbound queue remote recipients are committed to (shared with the queue runner). */
  readonly queue: OutboundQueue;
  readonly resolver: Resolver;
  readonly dkim?: DkimKeys;
  /** Settings over the configuration (tests). */
  readonly settings?: Partial<SmtpSettings>;
  /**
   * Passwords from loopback clients over plaintext (the auth.allowPlaintext rule). Default
   * true; tests turn it off to see the TLS requirement from 127.0.0.1.
   */
  readonly loopbackPlaintextAuth?: boolean;
  readonly random?: () => number;
  readonly now?: () => Date;
}

/**
 * smtp-server with replies whose text carries its own enhanced status code kept as is, and
 * AUTH left out of the EHLO reply where a password could not be sent (RFC 3207 §4: before
 * STARTTLS, unless plaintext is allowed for the client).
 */
class CommuneSmtpServer extends SMTPServer {
  readonly live = new Map<string, SMTPConnection>();

  constructor(options: SMTPServerOptions, offersAuth: (connection: SMTPConnection) => boolean) {
    super(options);
    const live = this.live;
    // step: smtp-server adds every new connection here; patch it as it arrives
    this.connections = new (class extends Set<SMTPConnection> {
      override add(connection: SMTPConnection): this {
        patchReplies(connection, offersAuth);
        const parser = (connection as unknown as { _parser?: unknown })._parser;
        if (installFastUnstuffing(parser)) installChunking(connection);
        live.set(connection.id, connection);
        return super.add(connection);
      }

      override delete(connection: SMTPConnection): boolean {
        live.delete(connection.id);
        return super.delete(connection);
      }
    })();
  }
}

const ENHANCED_TEXT = /^[245]\.\d{1,3}\.\d{1,3} /;

/**
 * A reply text that starts with an enhanced code is sent without a second, derived one; the
 * EHLO reply (the only multi-line 250) gains CHUNKING and loses its AUTH line when
 * `offersAuth` says no.
 */
function patchReplies(
  connection: SMTPConnection,
  offersAuth: (connection: SMTPConnection) => boolean,
): void {
  const send = connection.send.bind(connection);
  connection.send = (code, data, context) => {
    if (typeof data === 'string' && ENHANCED_TEXT.test(data)) return send(code, data, false);
    if (code === 250 && Array.isArray(data)) {
      const lines = offersAuth(connection) ? data : data.filter((l) => !l.startsWith('AUTH '));
      return send(code, 'handler_BDAT' in connection ? withChunking(lines) : lines, context);
    }
    return send(code, data, context);
  };
}

const NOTIFY = new Set(['SUCCESS', 'FAILURE', 'DELAY']);

function notifyOf(values: readonly string[] | undefined): NotifyOn[] | undefined {
  if (values === undefined) return undefined;
  return values.map((v) => v.toUpperCase()).filter((v): v is NotifyOn => NOTIFY.has(v));
}

/** The address with its domain in IDNA ASCII form (local part untouched). */
export function asciiAddress(address: string): string {
  const at = address.lastIndexOf('@');
  if (at < 0) return address;
  const domain = address.slice(at + 1);
  const ascii = domain.startsWith('[') ? domain : domainToASCII(domain);
  return `${address.slice(0, at + 1)}${ascii === '' ? domain : ascii}`;
}

function transactionId(): string {
  return randomBytes(9).toString('base64url');
}

interface ListenerSpec {
  readonly name: ListenerName;
  readonly port: number;
  readonly profile: SmtpProfile;
  readonly implicitTls: boolean;
}

class SmtpServers implements ProtocolServer {
  readonly name = 'smtp';
  readonly #core: Core;
  readonly #deps: SmtpServerDeps;
  readonly #settings: SmtpSettings;
  readonly #services: HookServices;
  readonly #delivery: LocalDelivery;
  readonly #signer: DkimSigner;
  readonly #now: () => Date;
  readonly #servers: { spec: ListenerSpec; server: CommuneSmtpServer }[] = [];
  readonly #sessions = new Map<string, SessionState>();
  readonly #perAddress = new Map<string, number>();
  /** Session ids with a DATA in progress. */
  readonly #busy = new Set<string>();
  #stopping = false;

  constructor(core: Core, deps: SmtpServerDeps) {
    this.#core = core;
    this.#deps = deps;
    this.#settings = readSmtpSettings(core.config, deps.settings);
    this.#now = deps.now ?? (() => new Date());
    const delivery = deps.delivery ?? (deps.mail ? mailServiceDelivery(deps.mail) : undefined);
    if (delivery === undefined) throw new Error('createSmtpServers needs `mail` or `delivery`');
    this.#delivery = delivery;
    this.#signer = new DkimSigner(deps.dkim ?? new DkimKeys(core.storage), core.log);
    const s = this.#settings;
    this.#services = {
      settings: s,
      hostname: core.config.server.hostname,
      directory: core.directory,
      router: new RecipientRouter({ directory: core.directory, catchAll: s.catchAll }),
      delivery,
      resolver: deps.resolver,
      limits: {
        connections: new RateLimiter({ limit: s.connectionRateLimit, windowMs: 60_000 }),
        messages: new RateLimiter({ limit: s.messageRateLimit, windowMs: 60_000 }),
        submissions: new RateLimiter({ limit: s.submissionRateLimit, windowMs: 3600_000 }),
      },
      log: core.log,
      random: deps.random ?? Math.random,
    };
  }

  async start(): Promise<readonly Endpoint[]> {
    const { config } = this.#core;
    const specs: ListenerSpec[] = [];
    if (config.smtp.enabled) {
      specs.push({ name: 'smtp', port: config.smtp.port, profile: 'mx', implicitTls: false });
    }
    if (config.submission.enabled) {
      specs.push({
        name: 'submission',
        port: config.submission.port,
        profile: 'submission',
        implicitTls: false,
      });
    }
    if (config.submissions.enabled) {
      specs.push({
        name: 'submissions',
        port: config.submissions.port,
        profile: 'submission',
        implicitTls: true,
      });
    }
    const endpoints: Endpoint[] = [];
    try {
      for (const spec of specs) endpoints.push(await this.#listen(spec));
    } catch (err) {
      await Promise.allSettled(this.#servers.map(({ server }) => closeServer(server)));
      throw err;
    }
    return endpoints;
  }

  async #listen(spec: ListenerSpec): Promise<Endpoint> {
    const { config, tls, log } = this.#core;
    const submission = spec.profile === 'submission';
    const server: CommuneSmtpServer = new CommuneSmtpServer(
      {
        name: config.server.hostname,
        banner: 'Commune',
        key: tls.key,
        cert: tls.cert,
        minVersion: 'TLSv1.2',
        secure: spec.implicitTls,
        size: this.#settings.maxMessageSize,
        maxRecipients: this.#settings.maxRecipients,
        authMethods: ['PLAIN', 'LOGIN'],
        authOptional: !submission,
        disabledCommands: submission ? [] : ['AUTH'],
        // step: TLS before passwords is decided in onAuth (loopback may be exempt)
        allowInsecureAuth: true,
        hideENHANCEDSTATUSCODES: false,
        hideDSN: false,
        hideREQUIRETLS: true,
        maxClients: config.limits.maxConnections,
        socketTimeout: config.limits.idleTimeout * 1000,
        closeTimeout: 3600_000,
        logger: false,
        resolver: {
          reverse: (ip: string, cb: (err: Error | null, names?: string[]) => void) => {
            this.#deps.resolver.ptr(ip).then(
              (names) => cb(null, names),
              (err: Error) => cb(err),
            );
          },
        },
        onConnect: (session, cb) => void this.#onConnect(spec, session).then(() => cb(), cb),
        onAuth: (auth, session, cb) =>
          void this.#onAuth(auth, session).then((user) => cb(null, { user }), cb),
        onMailFrom: (address, session, cb) =>
          void this.#onMailFrom(address, session).then(() => cb(), cb),
        onRcptTo: (address, session, cb) =>
          void this.#onRcptTo(address, session).then(() => cb(), cb),
        onData: (stream, session, cb) =>
          void this.#onData(stream, session).then(
            (text) => cb(null, text),
            (err: Error) => cb(err),
          ),
        onClose: (session) => this.#onClose(session),
      },
      (connection) =>
        submission && (connection.secure || this.#plaintextOk(connection.remoteAddress)),
    );
    server.on('error', (err: Error) =>
      log.debug({ protocol: spec.name, err: err.message }, 'smtp connection error'),
    );
    this.#servers.push({ spec, server });
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      server.server.once('error', onError);
      server.listen(spec.port, config.server.bind, () => {
        server.server.off('error', onError);
        resolve();
      });
    });
    const address = server.server.address();
    const port = typeof address === 'object' && address !== null ? address.port : spec.port;
    return {
      protocol: spec.name,
      host: config.server.bind,
      port,
      tls: spec.implicitTls ? 'implicit' : 'starttls',
    };
  }

  #state(session: SMTPServerSession): SessionState {
    const state = this.#sessions.get(session.id);
    if (state === undefined) throw Replies.internal();
    return state;
  }

  async #onConnect(spec: ListenerSpec, session: SMTPServerSession): Promise<void> {
    const ip = session.remoteAddress;
    if (this.#stopping) throw Replies.shuttingDown(this.#services.hostname);
    // step: concurrent connections per client address
    const open = this.#perAddress.get(ip) ?? 0;
    if (open >= this.#core.config.limits.maxConnectionsPerAddress) {
      throw Replies.tooManyConnections();
    }
    const hostname =
      typeof session.clientHostname === 'string' && !session.clientHostname.startsWith('[')
        ? session.clientHostname
        : undefined;
    const state: SessionState = {
      client: {
        listener: spec.name,
        profile: spec.profile,
        ip,
        port: session.remotePort,
        hostname,
      },
      helo: '',
      user: undefined,
      tx: undefined,
      messages: 0,
      startedAt: Date.now(),
    };
    this.#sessions.set(session.id, state);
    this.#perAddress.set(ip, open + 1);
    const verdict = await runHooks(HOOK_CHAINS[spec.profile].connect, { state }, this.#services);
    if (verdict.kind === 'reject') throw verdict.reply;
  }

  #onClose(session: SMTPServerSession): void {
    const state = this.#sessions.get(session.id);
    if (state === undefined) return;
    this.#sessions.delete(session.id);
    const ip = state.client.ip;
    const n = (this.#perAddress.get(ip) ?? 1) - 1;
    if (n <= 0) this.#perAddress.delete(ip);
    else this.#perAddress.set(ip, n);
    this.#core.log.info(
      {
        protocol: state.client.listener,
        remote: ip,
        user: state.user?.ctx.address,
        messages: state.messages,
        outcome: session.error ?? 'ok',
        ms: Date.now() - state.startedAt,
      },
      'smtp session',
    );
  }

  /** Passwords may be sent without TLS: configured so, or (by default) from loopback. */
  #plaintextOk(ip: string): boolean {
    return (
      this.#core.config.auth.allowPlaintext ||
      ((this.#deps.loopbackPlaintextAuth ?? true) && isLoopback(ip))
    );
  }

  async #onAuth(auth: SMTPServerAuthentication, session: SMTPServerSession): Promise<string> {
    const state = this.#state(session);
    const ip = state.client.ip;
    if (state.client.profile !== 'submission')
      throw new SmtpReply(503, '5.5.1', 'AUTH not available');
    if (!session.secure && !this.#plaintextOk(ip)) throw Replies.encryptionRequired();
    if (auth.method !== 'PLAIN' && auth.method !== 'LOGIN') {
      throw new SmtpReply(504, '5.5.4', 'Unrecognized authentication type');
    }
    let ctx;
    try {
      ctx = await this.#core.directory.authenticate({
        login: auth.username ?? '',
        password: auth.password ?? '',
        remoteAddress: ip,
        protocol: 'smtp',
      });
    } catch (err) {
      throw replyOf(err);
    }
    state.user = { ctx, sendAs: await this.#sendAs(ctx.principalId, ctx.memberOf) };
    return ctx.address;
  }

  /** Addresses a user may send as: their own, and those of their groups. */
  async #sendAs(id: number, groups: readonly number[]): Promise<Set<string>> {
    const out = new Set<string>();
    for (const pid of [id, ...groups]) {
      const p = await this.#core.directory.getPrincipal(pid);
      for (const a of p?.addresses ?? []) out.add(a.toLowerCase());
    }
    return out;
  }

  async #onMailFrom(address: SMTPServerAddress, session: SMTPServerSession): Promise<void> {
    const state = this.#state(session);
    state.tx = undefined;
    if (this.#stopping) throw Replies.shuttingDown(this.#services.hostname);
    state.helo = typeof session.hostNameAppearsAs === 'string' ? session.hostNameAppearsAs : '';
    const size = address.args === false ? undefined : address.args.SIZE;
    const dsn = session.envelope.dsn;
    const ret = dsn?.ret === 'FULL' || dsn?.ret === 'HDRS' ? dsn.ret : null;
    const tx: Transaction = {
      id: transactionId(),
      sender: asciiAddress(address.address),
      declaredSize: typeof size === 'string' ? Number(size) : undefined,
      ret,
      envid: dsn?.envid ?? null,
      local: [],
      remote: [],
      junk: false,
      headers: [],
      auth: undefined,
    };
    const verdict = await runHooks(
      HOOK_CHAINS[state.client.profile].mail,
      { state, tx },
      this.#services,
    );
    if (verdict.kind === 'reject') throw verdict.reply;
    state.tx = tx;
  }

  async #onRcptTo(address: SMTPServerAddress, session: SMTPServerSession): Promise<void> {
    const state = this.#state(session);
    const tx = state.tx;
    if (tx === undefined) throw new SmtpReply(503, '5.5.1', 'Need MAIL command');
    const notify = notifyOf(address.dsn?.notify);
    const dsn = {
      ...(notify === undefined ? {} : { notify }),
      ...(address.dsn?.orcpt === undefined ? {} : { orcpt: address.dsn.orcpt }),
    };
    const verdict = await runHooks(
      HOOK_CHAINS[state.client.profile].rcpt,
      { state, tx, address: asciiAddress(address.address), dsn },
      this.#services,
    );
    if (verdict.kind === 'reject') throw verdict.reply;
  }

  async #onData(stream: SMTPServerDataStream, session: SMTPServerSession): Promise<string> {
    const state = this.#state(session);
    const tx = state.tx;
    state.tx = undefined;
    this.#busy.add(session.id);
    try {
      const raw = await readMessage(stream, this.#settings.maxMessageSize);
      if (stream.sizeExceeded || raw === undefined)
        throw Replies.tooLarge(this.#settings.maxMessageSize);
      if (tx === undefined) throw new SmtpReply(503, '5.5.1', 'Need MAIL command');
      const text =
        state.client.profile === 'mx'
          ? await this.#acceptInbound(state, session, tx, raw)
          : await this.#acceptSubmission(state, session, tx, raw);
      state.messages++;
      return text;
    } catch (err) {
      if (clientGone(err)) {
        // step: the client hung up during the message: nothing was accepted, nothing to answer
        this.#core.log.debug({ protocol: state.client.listener, id: tx?.id }, 'smtp data aborted');
      } else if (!(err instanceof SmtpReply) && !isCommuneError(err)) {
        this.#core.log.error(
          { protocol: state.client.listener, id: tx?.id, err },
          'smtp data failed',
        );
      }
      throw replyOf(err, 'data');
    } finally {
      this.#busy.delete(session.id);
      if (this.#stopping) this.#sayGoodbyeSoon(session.id);
    }
  }

  #received(state: SessionState, session: SMTPServerSession, tx: Transaction): string {
    const cipher = session.tlsOptions === false ? undefined : session.tlsOptions;
    const single = tx.local.length + tx.remote.length === 1;
    const recipient = single ? (tx.local[0]?.address ?? tx.remote[0]?.address) : undefined;
    return receivedHeader({
      helo: state.helo,
      ...(state.client.hostname === undefined ? {} : { clientHostname: state.client.hostname }),
      clientIp: state.client.ip,
      hostname: this.#services.hostname,
      protocol: session.transmissionType || 'ESMTP',
      id: tx.id,
      ...(cipher === undefined ? {} : { tls: { version: cipher.version, cipher: cipher.name } }),
      ...(recipient === undefined ? {} : { recipient }),
      date: this.#now(),
    });
  }

  /** MX: verify, apply the DMARC policy, deliver into every local mailbox. */
  async #acceptInbound(
    state: SessionState,
    session: SMTPServerSession,
    tx: Transaction,
    raw: Uint8Array,
  ): Promise<string> {
    const message = removeForgedAuthResults(raw, this.#services.hostname);
    const fields = headerFields(message);
    const verdict = await runHooks(
      HOOK_CHAINS.mx.data,
      { state, tx, message, fields },
      this.#services,
    );
    if (verdict.kind === 'reject') throw verdict.reply;
    const final = prependHeaders([this.#received(state, session, tx), ...tx.headers], message);
    await this.#deliverLocal(tx, final);
    return `Ok: queued as ${tx.id}`;
  }

  /** Submission: check From, complete and sign, queue remote recipients, deliver local ones. */
  async #acceptSubmission(
    state: SessionState,
    session: SMTPServerSession,
    tx: Transaction,
    raw: Uint8Array,
  ): Promise<string> {
    const fields = headerFields(raw);
    const verdict = await runHooks(
      HOOK_CHAINS.submission.data,
      { state, tx, message: raw, fields },
      this.#services,
    );
    if (verdict.kind === 'reject') throw verdict.reply;
    const now = this.#now();
    const completed = prependHeaders(
      [
        this.#received(state, session, tx),
        ...missingOriginFields(fields, this.#services.hostname, now),
      ],
      raw,
    );
    const signed = await this.#signer.sign(completed, fromAddresses(fields)[0] ?? tx.sender, now);
    // step: the queue commit first, so a failure here leaves nothing delivered twice on retry
    if (tx.remote.length > 0) {
      await this.#deps.queue.enqueue({
        from: tx.sender,
        recipients: tx.remote,
        message: signed,
        ret: tx.ret,
        envid: tx.envid,
        ...(state.user === undefined ? {} : { submitter: state.user.ctx.principalId }),
      });
    }
    await this.#deliverLocal(tx, signed, tx.remote.length > 0);
    return `Ok: queued as ${tx.id}`;
  }

  /**
   * Deliver into each local account once. When every delivery fails and nothing else was
   * accepted, the error is the reply; otherwise the failed accounts go to the queue, which
   * retries them and bounces what cannot be delivered. Recipients that asked for
   * NOTIFY=SUCCESS (RFC 3461) get a "delivered" notice.
   */
  async #deliverLocal(tx: Transaction, message: Uint8Array, othersAccepted = false): Promise<void> {
    const accounts = new Map<number, LocalTarget>();
    for (const r of tx.local) {
      for (const target of r.targets)
        if (!accounts.has(target.account)) accounts.set(target.account, target);
    }
    if (accounts.size === 0) return;
    const failures = new Map<number, unknown>();
    const list = [...accounts.values()];
    // step: deliver with bounded parallelism (groups can be large)
    for (let i = 0; i < list.length; i += 16) {
      const batch = list.slice(i, i + 16);
      const results = await Promise.allSettled(
        batch.map((t) => this.#delivery.deliver(t.account, message, { junk: tx.junk })),
      );
      results.forEach((r, j) => {
        const t = batch[j];
        if (r.status === 'rejected' && t !== undefined) failures.set(t.account, r.reason);
      });
    }
    if (failures.size === accounts.size && !othersAccepted) {
      throw replyOf(failures.values().next().value, 'data');
    }
    // step: failed accounts are retried by the queue, once each, with the first DSN request
    const retry = new Map<number, EnqueueInput['recipients'][number]>();
    const delivered: DsnRecipient[] = [];
    for (const r of tx.local) {
      const failed = r.targets.filter((t) => failures.has(t.account));
      for (const t of failed) {
        if (retry.has(t.account)) continue;
        retry.set(t.account, {
          address: t.address,
          ...(r.notify === undefined ? {} : { notify: r.notify }),
          ...(r.orcpt === undefined || r.targets.length > 1 ? {} : { orcpt: r.orcpt }),
        });
        this.#core.log.warn(
          {
            protocol: 'smtp',
            id: tx.id,
            account: t.account,
            err: (failures.get(t.account) as Error).message,
          },
          'local delivery failed; queued for retry',
        );
      }
      if (failed.length === 0 && r.notify?.includes('SUCCESS')) {
        delivered.push({
          address: r.address,
          state: 'delivered',
          attempts: 1,
          action: 'delivered',
          status: '2.0.0',
          ...(r.orcpt === undefined ? {} : { orcpt: r.orcpt }),
        });
      }
    }
    if (retry.size > 0) {
      await this.#deps.queue.enqueue({
        from: tx.sender,
        recipients: [...retry.values()],
        message,
        ret: tx.ret,
        envid: tx.envid,
      });
    }
    if (delivered.length > 0 && tx.sender !== '') {
      await this.#deps.queue.enqueue({
        from: '',
        recipients: [{ address: tx.sender }],
        message: buildDsn({
          hostname: this.#services.hostname,
          to: tx.sender,
          queueId: tx.id,
          envid: tx.envid,
          arrivalDate: this.#now(),
          recipients: delivered,
          original: message,
          headersOnly: true,
          now: this.#now(),
        }),
        isBounce: true,
      });
    }
  }

  #sayGoodbyeSoon(sessionId: string): void {
    setImmediate(() => {
      for (const { server } of this.#servers) {
        const conn = server.live.get(sessionId);
        if (conn !== undefined && !this.#busy.has(sessionId)) {
          conn.send(421, Replies.shuttingDown(this.#services.hostname).message);
        }
      }
    });
  }

  async stop(deadline: number): Promise<void> {
    this.#stopping = true;
    const goodbye = Replies.shuttingDown(this.#services.hostname).message;
    const closed = this.#servers.map(({ server }) => closeServer(server));
    // step: idle sessions go at once; those in DATA finish first
    for (const { server } of this.#servers) {
      for (const [id, conn] of server.live) {
        if (!this.#busy.has(id)) conn.send(421, goodbye);
      }
    }
    while (
      Date.now() < deadline &&
      this.#servers.some(({ server }) => server.connections.size > 0)
    ) {
      await new Promise((r) => setTimeout(r, 20));
    }
    for (const { server } of this.#servers) {
      for (const conn of server.connections) {
        conn.send(421, goodbye);
        (conn._socket as Socket).destroy();
      }
    }
    await Promise.race([Promise.allSettled(closed), new Promise((r) => setTimeout(r, 1000))]);
  }
}

/** Stop accepting connections; resolves when the listener is closed. */
function closeServer(server: CommuneSmtpServer): Promise<void> {
  return new Promise((resolve) => {
    if (!server.server.listening) {
      resolve();
      return;
    }
    server.close(() => resolve());
  });
}

/** The data stream failed because the connection closed (smtp-server's ECONNECTION). */
function clientGone(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === 'ECONNECTION';
}

/** Read DATA into memory; undefined once it passes `max` (the rest is drained). */
function readMessage(stream: SMTPServerDataStream, max: number): Promise<Uint8Array | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    stream.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) over = true;
      if (!over) chunks.push(chunk);
    });
    stream.once('end', () => resolve(over ? undefined : assemble(chunks, size)));
    stream.once('error', reject);
  });
}

/** Build the SMTP listeners (MX, submission, submissions) from Core. */
export function createSmtpServers(core: Core, deps: SmtpServerDeps): ProtocolServer {
  return new SmtpServers(core, deps);
}
