/**
 * One LDAP connection (RFC 4511 §5): bytes -> BerFramer -> decodeRequest -> the operation
 * registry -> responses. Operations run concurrently (up to maxOperations; more get `busy`),
 * each answered with the response type of its request (§4.1.1), rendered here in one place.
 *
 * The state is a discriminated union (operations/operation.ts) checked here only: operations
 * run while anonymous or bound; during a StartTLS handshake nothing is read; once closed
 * nothing is read or written.
 *
 * Malformed input (a framing or decoding error, a messageID of 0 or one already in use) ends
 * the session with a Notice of Disconnection carrying protocolError (§4.1.1, §4.4.1), this
 * connection only. A search filter nested deeper than the limit is well-formed: that search
 * alone is answered adminLimitExceeded and the session goes on.
 */

import type { Socket } from 'node:net';
import type { SecureContext } from 'node:tls';
import { isCommuneError } from '../../core/errors.ts';
import type { BerError } from './ber/ber-error.ts';
import { isBerError } from './ber/ber-error.ts';
import { BerFramer } from './ber/ber-framer.ts';
import { BerReader } from './ber/ber-reader.ts';
import { BerTag } from './ber/ber-tag.ts';
import type { Control, LdapMessage, RequestOp, ResponseOp } from './messages.ts';
import { decodeRequest, encodeMessage, encodeNoticeOfDisconnection, OpTag } from './messages.ts';
import { ResultCode } from './result-code.ts';
import { upgradeToTls } from '../shared/tcp-listener.ts';
import type { ConnectionInfo } from '../shared/tcp-listener.ts';
import { abandonOperation } from './operations/abandon.ts';
import { bindOperation } from './operations/bind.ts';
import { compareOperation } from './operations/compare.ts';
import { extendedOperation } from './operations/extended.ts';
import type {
  AuthState,
  LdapOperation,
  OperationContext,
  OperationResult,
  PagedSearch,
  RequestType,
  ServerServices,
  SessionState,
  SessionView,
} from './operations/operation.ts';
import { isLdapError, resultName } from './operations/operation.ts';
import {
  addOperation,
  deleteOperation,
  modifyDnOperation,
  modifyOperation,
} from './operations/read-only.ts';
import { searchOperation } from './operations/search.ts';
import { unbindOperation } from './operations/unbind.ts';

/** Every request type, with the operation that serves it. */
const OPERATIONS: { readonly [T in RequestType]: LdapOperation<T> } = {
  bindRequest: bindOperation,
  unbindRequest: unbindOperation,
  searchRequest: searchOperation,
  compareRequest: compareOperation,
  extendedReq: extendedOperation,
  abandonRequest: abandonOperation,
  addRequest: addOperation,
  modifyRequest: modifyOperation,
  delRequest: deleteOperation,
  modDNRequest: modifyDnOperation,
};

/** The response type of each request that has one (RFC 4511 §4.2 - §4.12). */
const RESPONSE_OF = {
  bindRequest: 'bindResponse',
  searchRequest: 'searchResDone',
  compareRequest: 'compareResponse',
  extendedReq: 'extendedResp',
  addRequest: 'addResponse',
  modifyRequest: 'modifyResponse',
  delRequest: 'delResponse',
  modDNRequest: 'modDNResponse',
  unbindRequest: undefined,
  abandonRequest: undefined,
} as const satisfies { readonly [T in RequestType]: ResponseOp['type'] | undefined };

/** Request application tags, for answering a request that could not be fully decoded. */
const REQUEST_OF_TAG: ReadonlyMap<number, RequestType> = new Map([
  [OpTag.searchRequest, 'searchRequest'],
]);

const ANONYMOUS: AuthState = Object.freeze({ kind: 'anonymous' });

interface Running {
  abandoned: boolean;
}

export interface LdapSessionOptions {
  readonly socket: Socket;
  readonly info: ConnectionInfo;
  readonly server: ServerServices;
  /** TLS for StartTLS; undefined where it is not offered (LDAPS, or no material). */
  readonly startTls: SecureContext | undefined;
  /** Protocol name for logs: ldap or ldaps. */
  readonly protocol: string;
}

export class LdapSession implements SessionView {
  readonly #options: LdapSessionOptions;
  readonly #server: ServerServices;
  readonly #running = new Map<number, Running>();
  readonly pagedSearches = new Map<string, PagedSearch>();
  #socket: Socket;
  #framer: BerFramer;
  #state: SessionState = ANONYMOUS;
  #secure: boolean;
  #operations = 0;
  /** The socket corked by the current burst of search entries, if any. */
  #corked: Socket | undefined;
  readonly #openedAt = Date.now();

  constructor(options: LdapSessionOptions) {
    this.#options = options;
    this.#server = options.server;
    this.#socket = options.socket;
    this.#secure = options.info.secure;
    this.#framer = this.#newFramer();
  }

  // ---- SessionView ----

  get state(): SessionState {
    return this.#state;
  }

  get remoteAddress(): string {
    return this.#options.info.remoteAddress;
  }

  get secure(): boolean {
    return this.#secure;
  }

  get canStartTls(): boolean {
    return this.#options.startTls !== undefined && !this.#secure;
  }

  get outstanding(): number {
    return this.#running.size;
  }

  setAuth(auth: AuthState): void {
    if (this.#state.kind !== 'anonymous' && this.#state.kind !== 'bound') return;
    // step: results gathered under one identity are never paged out to another
    if (auth !== this.#state) this.pagedSearches.clear();
    this.#state = auth;
  }

  beginStartTls(): void {
    if (this.#state.kind === 'anonymous' || this.#state.kind === 'bound') {
      this.#state = { kind: 'starting-tls', resume: this.#state };
    }
  }

  async upgradeToTls(): Promise<void> {
    const state = this.#state;
    const context = this.#options.startTls;
    if (state.kind !== 'starting-tls' || context === undefined) return;
    // step: nothing buffered before the handshake may be read after it
    this.#framer = this.#newFramer();
    this.#uncork();
    const raw = this.#socket;
    try {
      const secure = await upgradeToTls(raw, context);
      secure.on('error', (err) => this.#debug({ err: err.message }, 'tls socket error'));
      secure.on('data', (chunk: Buffer) => this.#onData(chunk));
      this.#socket = secure;
      this.#secure = true;
      if (this.#state.kind === 'starting-tls') this.#state = state.resume;
    } catch (err) {
      this.#debug({ err: (err as Error).message }, 'starttls handshake failed');
      this.#state = { kind: 'closed' };
      raw.destroy();
    }
  }

  abandon(messageId: number): void {
    const running = this.#running.get(messageId);
    if (running !== undefined) running.abandoned = true;
  }

  close(): void {
    if (this.#state.kind === 'closed') return;
    this.#state = { kind: 'closed' };
    for (const r of this.#running.values()) r.abandoned = true;
    this.#socket.end();
    setTimeout(() => this.#socket.destroy(), 1000).unref();
  }

  // ---- life cycle ----

  start(): void {
    this.#socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    this.#socket.once('close', () => {
      this.#state = { kind: 'closed' };
      for (const r of this.#running.values()) r.abandoned = true;
      this.#debug({ operations: this.#operations, ms: Date.now() - this.#openedAt }, 'closed');
    });
  }

  /** Say goodbye with a Notice of Disconnection (RFC 4511 §4.4.1), then close. */
  disconnect(resultCode: number, message: string): void {
    if (this.#state.kind === 'closed') return;
    this.#write(encodeNoticeOfDisconnection(resultCode, message));
    this.close();
  }

  // ---- input ----

  #newFramer(): BerFramer {
    return new BerFramer({ maxMessageSize: this.#server.settings.maxMessageSize });
  }

  #reading(): boolean {
    return this.#state.kind === 'anonymous' || this.#state.kind === 'bound';
  }

  #onData(chunk: Buffer): void {
    if (!this.#reading()) return;
    this.#framer.push(chunk);
    while (this.#reading()) {
      const frame = this.#framer.next();
      if (frame.kind === 'need-more') return;
      if (frame.kind === 'error') {
        this.#protocolError(frame.error.message);
        return;
      }
      try {
        this.#dispatch(frame.bytes);
      } catch (err) {
        // step: a bug must cost this connection only, never the server
        this.#log('error', { err }, 'dispatch failed');
        this.disconnect(ResultCode.other, 'internal error');
        return;
      }
    }
  }

  #protocolError(why: string): void {
    this.#log('info', { outcome: 'protocolError', reason: why }, 'malformed request');
    this.disconnect(ResultCode.protocolError, why);
  }

  #dispatch(bytes: Uint8Array): void {
    const { settings } = this.#server;
    let message: LdapMessage<RequestOp>;
    try {
      message = decodeRequest(bytes, {
        maxFilterDepth: settings.maxFilterDepth,
        maxLength: settings.maxMessageSize,
      });
    } catch (err) {
      this.#undecodable(bytes, err);
      return;
    }
    const { messageId, protocolOp, controls } = message;
    if (messageId === 0) {
      this.#protocolError('messageID 0 is reserved for notifications');
      return;
    }
    const op = OPERATIONS[protocolOp.type] as unknown as LdapOperation<RequestType>;
    const type = protocolOp.type;
    // step: the one place allowed states are checked
    if (!op.states.includes(this.#state.kind)) {
      this.#respond(type, messageId, { resultCode: ResultCode.operationsError });
      return;
    }
    if (op.tracked) {
      if (this.#running.has(messageId)) {
        this.#protocolError(`messageID ${messageId} is already in use`);
        return;
      }
      if (this.#running.size >= settings.maxOperations) {
        this.#log('info', { op: op.name, outcome: 'busy' }, 'too many operations');
        this.#respond(type, messageId, {
          resultCode: ResultCode.busy,
          diagnosticMessage: `at most ${settings.maxOperations} operations at once`,
        });
        return;
      }
    }
    const unknown = controls.find((c) => c.criticality && !op.controls.includes(c.type));
    if (unknown !== undefined) {
      this.#respond(type, messageId, {
        resultCode: ResultCode.unavailableCriticalExtension,
        diagnosticMessage: `critical control ${unknown.type} is not supported`,
      });
      return;
    }
    this.#run(op, message);
  }

  /** A framed message that does not decode: a too-deep filter is answered, the rest ends us. */
  #undecodable(bytes: Uint8Array, err: unknown): void {
    if (!isBerError(err)) {
      this.#protocolError('undecodable request');
      return;
    }
    const envelope = err.reason === 'too-deep' ? peekEnvelope(bytes) : undefined;
    const type = envelope && REQUEST_OF_TAG.get(envelope.tag);
    if (envelope === undefined || type === undefined || envelope.messageId === 0) {
      this.#protocolError(describe(err));
      return;
    }
    this.#log('info', { op: 'search', outcome: 'adminLimitExceeded' }, 'filter too deep');
    this.#respond(type, envelope.messageId, {
      resultCode: ResultCode.adminLimitExceeded,
      diagnosticMessage: `filter nested deeper than ${this.#server.settings.maxFilterDepth}`,
    });
  }

  // ---- running operations ----

  #run(op: LdapOperation<RequestType>, message: LdapMessage<RequestOp>): void {
    const started = performance.now();
    const running: Running = { abandoned: false };
    this.#operations++;
    const fields: Record<string, unknown> = {};
    let warn = false;
    const ctx: OperationContext = {
      message,
      session: this,
      server: this.#server,
      abandoned: () => running.abandoned || this.#state.kind === 'closed',
      send: (response, controls) => this.#sendIntermediate(message.messageId, response, controls),
      note: (more, level) => {
        Object.assign(fields, more);
        if (level === 'warn') warn = true;
      },
    };
    let promise: Promise<OperationResult | undefined>;
    try {
      promise = op.run(ctx);
    } catch (err) {
      promise = Promise.reject(err);
    }
    // step: registered after run started, so its synchronous checks see only the others
    if (op.tracked) this.#running.set(message.messageId, running);
    const type = message.protocolOp.type;
    const finish = async (result: OperationResult | undefined): Promise<void> => {
      this.#running.delete(message.messageId);
      const abandoned = running.abandoned || this.#state.kind === 'closed';
      const outcome =
        result === undefined ? (op.tracked ? 'abandoned' : 'ok') : resultName(result.resultCode);
      this.#log(
        warn ? 'warn' : op.logLevel,
        { op: op.name, msgid: message.messageId, outcome, ...fields, ms: elapsed(started) },
        op.name,
      );
      if (result === undefined || (abandoned && op.tracked)) return;
      this.#respond(type, message.messageId, result);
      await result.after?.();
    };
    promise
      .then(finish, (err: unknown) => finish(this.#render(err, op.name)))
      .catch((err) => {
        this.#log('error', { op: op.name, err }, 'operation failed');
      });
  }

  /** Errors into results, in one place; internal errors are logged, never shown. */
  #render(err: unknown, op: string): OperationResult {
    if (isLdapError(err)) {
      return {
        resultCode: err.resultCode,
        diagnosticMessage: err.message,
        matchedDN: err.matchedDN,
      };
    }
    if (isBerError(err)) {
      return { resultCode: ResultCode.protocolError, diagnosticMessage: err.message };
    }
    if (isCommuneError(err, 'unavailable')) {
      return { resultCode: ResultCode.unavailable, diagnosticMessage: 'try again later' };
    }
    this.#log('error', { op, err }, 'internal error');
    return { resultCode: ResultCode.other, diagnosticMessage: 'internal error' };
  }

  // ---- output ----

  #respond(type: RequestType, messageId: number, result: OperationResult): void {
    const responseType = RESPONSE_OF[type];
    if (responseType === undefined) return;
    const base = {
      resultCode: result.resultCode,
      matchedDN: result.matchedDN ?? '',
      diagnosticMessage: result.diagnosticMessage ?? '',
    };
    let op: ResponseOp;
    if (responseType === 'extendedResp') {
      op = {
        type: responseType,
        ...base,
        ...(result.responseName === undefined ? {} : { responseName: result.responseName }),
        ...(result.responseValue === undefined ? {} : { responseValue: result.responseValue }),
      };
    } else op = { type: responseType, ...base };
    this.#write(encodeMessage({ messageId, protocolOp: op, controls: result.controls ?? [] }));
    this.#uncork();
  }

  async #sendIntermediate(
    messageId: number,
    op: ResponseOp,
    controls: readonly Control[] | undefined,
  ): Promise<void> {
    if (this.#state.kind === 'closed') return;
    // step: entries written in one turn of the loop leave in one write (cork until the next tick)
    if (this.#corked === undefined && !this.#socket.destroyed) {
      this.#corked = this.#socket;
      this.#corked.cork();
      process.nextTick(() => this.#uncork());
    }
    const ok = this.#write(encodeMessage({ messageId, protocolOp: op, controls: controls ?? [] }));
    if (!ok) {
      this.#uncork();
      await this.#drained();
    }
  }

  #uncork(): void {
    const socket = this.#corked;
    this.#corked = undefined;
    socket?.uncork();
  }

  /** Write bytes; false when the socket buffer is full (or the socket is gone). */
  #write(bytes: Uint8Array): boolean {
    const socket = this.#socket;
    if (socket.destroyed || !socket.writable) return false;
    return socket.write(bytes);
  }

  #drained(): Promise<void> {
    const socket = this.#socket;
    if (socket.destroyed || !socket.writable) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        socket.off('drain', done);
        socket.off('close', done);
        resolve();
      };
      socket.on('drain', done);
      socket.on('close', done);
    });
  }

  // ---- logs ----

  #log(
    level: 'error' | 'warn' | 'info' | 'debug',
    fields: Record<string, unknown>,
    message: string,
  ): void {
    const state = this.#state;
    const user =
      state.kind === 'bound'
        ? state.user.access.address
        : state.kind === 'starting-tls' && state.resume.kind === 'bound'
          ? state.resume.user.access.address
          : undefined;
    this.#server.log[level](
      {
        protocol: this.#options.protocol,
        remote: this.#options.info.remoteAddress,
        conn: this.#options.info.id,
        ...(user === undefined ? {} : { user }),
        ...fields,
      },
      message,
    );
  }

  #debug(fields: Record<string, unknown>, message: string): void {
    this.#log('debug', fields, message);
  }
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 10) / 10;
}

function describe(err: BerError): string {
  return `malformed request: ${err.message}`;
}

/** messageID and protocolOp tag of a framed message whose body failed to decode. */
function peekEnvelope(bytes: Uint8Array): { messageId: number; tag: number } | undefined {
  try {
    const top = new BerReader(bytes);
    const msg = top.readSequence(BerTag.sequence, 'LDAPMessage');
    const messageId = msg.readUint31(BerTag.integer, 'messageID');
    const tag = msg.peekTag();
    return tag === undefined ? undefined : { messageId, tag };
  } catch {
    return undefined;
  }
}
