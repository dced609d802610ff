/**
 * One IMAP connection (RFC 9051): bytes -> CommandReader -> parseCommand -> the command
 * registry -> responses. Commands run one at a time, in the order received; the reader keeps
 * pipelined input until then (the socket is paused when too much piles up).
 *
 * The state is a discriminated union (commands/command.ts) and each command's allowed states
 * are checked here only. After every command in the selected state, changes made elsewhere
 * (change-bus nudges, see selected-mailbox.ts) are announced before the tagged response, with
 * EXPUNGE held back after FETCH, STORE and SEARCH (RFC 9051 §7.5.1); during IDLE they are
 * announced as they happen.
 *
 * Errors are rendered in one place (imap-error.ts); an internal error is logged and answered
 * NO [SERVERBUG], and a failure of the session itself ends this connection only, with BYE.
 */

import type { Socket } from 'node:net';
import type { SecureContext } from 'node:tls';
import type { ChangeNudge } from '../../storage/change-bus.ts';
import { isCommuneError } from '../../core/errors.ts';
import { capabilityList, maxNonSyncLiteral } from './capabilities.ts';
import { COMMANDS } from './command-registry.ts';
import type {
  CommandContext,
  CommandResult,
  Extension,
  ImapCommandHandler,
  ImapServices,
  ImapUser,
  SessionState,
  SessionView,
  StateKind,
} from './commands/command.ts';
import { continuationResponse, taggedResponse, untaggedResponse } from './compose/response-line.ts';
import type { ComposeOptions, WirePart } from './compose/response-writer.ts';
import { ImapError, renderError } from './imap-error.ts';
import { CommandReader } from './parser/command-reader.ts';
import type { RawCommand, ReaderEvent } from './parser/command-reader.ts';
import { parseCommand } from './parser/parse-command.ts';
import type { ImapCommandName } from './parser/parse-command.ts';
import type { SelectedMailbox } from './selected-mailbox.ts';
import { SessionOutput } from './session-output.ts';
import type { ConnectionInfo } from '../shared/tcp-listener.ts';
import { upgradeToTls } from '../shared/tcp-listener.ts';

/** Literals accepted before authentication (user names, passwords). */
const PRE_AUTH_LITERAL = 8 * 1024;
/** Input accepted before authentication, in total (a non-synchronizing literal is sent unasked). */
const PRE_AUTH_INPUT = 256 * 1024;
/** Literals of commands other than APPEND (strings, mailbox names, search keys). */
const MAX_STRING_LITERAL = 1024 * 1024;
/** Pipelined input kept before the socket is paused. */
const HIGH_WATER = 1024 * 1024;

const NOT_AUTHENTICATED: SessionState = Object.freeze({ kind: 'not-authenticated' });

export interface ImapSessionOptions {
  readonly socket: Socket;
  readonly info: ConnectionInfo;
  readonly services: ImapServices;
  /** Protocol name for logs: imap or imaps. */
  readonly protocol: string;
  /** TLS for STARTTLS; undefined where it is not offered (imaps). */
  readonly startTls: SecureContext | undefined;
  /** Name in the greeting. */
  readonly hostname: string;
  /** The session authenticated as `account`: route that account's nudges to it. */
  readonly onLogin: (session: ImapSession, account: number) => void;
}

function isLoopback(address: string): boolean {
  return address === '::1' || /^(::ffff:)?127\./.test(address);
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 10) / 10;
}

export class ImapSession implements SessionView {
  readonly #options: ImapSessionOptions;
  readonly #services: ImapServices;
  /** The accepted socket (timeouts, close); TLS after STARTTLS runs over it. */
  readonly #raw: Socket;
  #socket: Socket;
  #secure: boolean;
  #reader: CommandReader;
  readonly #output: SessionOutput;
  #state: SessionState = NOT_AUTHENTICATED;
  readonly #enabled = new Set<Extension>();
  #compose: ComposeOptions = { utf8: false };
  #busy = false;
  #paused = false;
  #closed = false;
  #lineWaiter: ((line: Uint8Array | null) => void) | undefined;
  #idling = false;
  #idleFlush: Promise<void> | undefined;
  #idleAgain = false;
  #authFailures = 0;
  #commands = 0;
  #preAuthInput = 0;
  /** Who logged in (kept for the log after logout). */
  #userAddress: string | undefined;
  readonly #openedAt = Date.now();
  readonly #onData = (chunk: Buffer): void => this.#receive(chunk);

  constructor(options: ImapSessionOptions) {
    this.#options = options;
    this.#services = options.services;
    this.#raw = options.socket;
    this.#socket = options.socket;
    this.#secure = options.info.secure;
    this.#reader = this.#newReader();
    this.#output = new SessionOutput(this.#socket, (err) =>
      this.#log('error', { err }, 'literal stream failed'),
    );
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
    return (
      this.#options.startTls !== undefined &&
      !this.#secure &&
      this.#state.kind === 'not-authenticated'
    );
  }

  get plaintextAllowed(): boolean {
    return (
      this.#secure ||
      this.#services.settings.allowPlaintext ||
      isLoopback(this.#options.info.remoteAddress)
    );
  }

  get enabled(): ReadonlySet<Extension> {
    return this.#enabled;
  }

  get compose(): ComposeOptions {
    return this.#compose;
  }

  /** The account this session is logged in to, if any. */
  get account(): number | undefined {
    const state = this.#state;
    return state.kind === 'authenticated' || state.kind === 'selected'
      ? state.user.account
      : undefined;
  }

  capabilities(): string[] {
    const kind = this.#state.kind;
    return capabilityList({
      authenticated: kind === 'authenticated' || kind === 'selected',
      canStartTls: this.canStartTls,
      plaintextAllowed: this.plaintextAllowed,
      appendLimit: this.#services.settings.appendLimit,
    });
  }

  enable(extension: Extension): boolean {
    if (extension === 'QRESYNC') this.#enabled.add('CONDSTORE');
    if (this.#enabled.has(extension)) return false;
    this.#enabled.add(extension);
    if (extension === 'UTF8=ACCEPT' || extension === 'IMAP4rev2') this.#compose = { utf8: true };
    return true;
  }

  login(user: ImapUser): void {
    if (this.#state.kind !== 'not-authenticated') return;
    this.#state = { kind: 'authenticated', user };
    // step: LITERAL+ from the next command on (LITERAL- before, see capabilities.ts)
    this.#reader.setMaxNonSyncLiteralSize(maxNonSyncLiteral(true, this.#maxLiteral));
    this.#userAddress = user.access.address;
    this.#raw.setTimeout(this.#services.settings.authTimeoutMs);
    this.#options.onLogin(this, user.account);
  }

  select(mailbox: SelectedMailbox): void {
    const state = this.#state;
    if (state.kind !== 'authenticated' && state.kind !== 'selected') {
      mailbox.close();
      return;
    }
    if (state.kind === 'selected') state.mailbox.close();
    this.#state = { kind: 'selected', user: state.user, mailbox };
  }

  unselect(): void {
    const state = this.#state;
    if (state.kind !== 'selected') return;
    state.mailbox.close();
    this.#state = { kind: 'authenticated', user: state.user };
  }

  logout(): void {
    this.unselect();
    this.#state = { kind: 'logout' };
  }

  authFailed(): boolean {
    this.#authFailures++;
    return this.#authFailures >= this.#services.settings.maxAuthFailures;
  }

  async readLine(): Promise<Uint8Array | null> {
    await this.#output.flush();
    if (this.#closed) return null;
    this.#reader.setMode('line');
    return new Promise((resolve) => {
      this.#lineWaiter = resolve;
      this.#pumpLine();
    });
  }

  async beginIdle(): Promise<void> {
    this.#idling = true;
    this.#kickIdle();
  }

  async endIdle(): Promise<void> {
    this.#idling = false;
    while (this.#idleFlush !== undefined) await this.#idleFlush;
  }

  async startTls(): Promise<void> {
    const context = this.#options.startTls;
    if (context === undefined || this.#secure) return;
    // step: nothing received before the handshake may be read after it
    this.#reader = this.#newReader();
    if (this.#paused) {
      this.#raw.destroy();
      return;
    }
    try {
      const secure = await upgradeToTls(this.#raw, context);
      secure.on('error', (err) => this.#log('debug', { err: err.message }, 'tls socket error'));
      secure.on('data', this.#onData);
      this.#socket = secure;
      this.#secure = true;
      this.#output.setSocket(secure);
    } catch (err) {
      this.#log('debug', { err: (err as Error).message }, 'starttls handshake failed');
      this.#raw.destroy();
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.logout();
    const socket = this.#socket;
    void this.#output.flush().finally(() => {
      socket.end();
      setTimeout(() => socket.destroy(), 1000).unref();
    });
  }

  // ---- life cycle ----

  start(): void {
    this.#socket.on('data', this.#onData);
    this.#raw.once('close', () => this.#onClose());
    const greeting = untaggedResponse('OK', `${this.#options.hostname} Commune IMAP ready`, {
      code: 'CAPABILITY',
      capabilities: this.capabilities(),
    });
    void this.#output.write([greeting]).then(() => this.#output.flush());
  }

  /** Say goodbye (server stop, idle timeout) and close. */
  goodbye(text: string): void {
    if (this.#closed) return;
    void this.#output.write([untaggedResponse('BYE', text)]);
    this.close();
  }

  /** A change-bus nudge for this session's account. */
  nudge(nudge: ChangeNudge): void {
    const state = this.#state;
    if (state.kind !== 'selected') return;
    const collection = `mailbox:${String(state.mailbox.id)}`;
    if (nudge.collections.length > 0 && !nudge.collections.includes(collection)) return;
    state.mailbox.markDirty();
    if (this.#idling) this.#kickIdle();
  }

  #onClose(): void {
    // step: one line per connection, with the user it ended as
    this.#log(
      'info',
      { outcome: 'closed', commands: this.#commands, ms: Date.now() - this.#openedAt },
      'connection closed',
    );
    this.#closed = true;
    this.#idling = false;
    this.logout();
    const waiter = this.#lineWaiter;
    this.#lineWaiter = undefined;
    waiter?.(null);
  }

  // ---- input ----

  get #maxLiteral(): number {
    return Math.max(this.#services.settings.appendLimit, 1024 * 1024);
  }

  #newReader(): CommandReader {
    const authenticated = this.#state.kind !== 'not-authenticated';
    return new CommandReader({
      maxLiteralSize: this.#maxLiteral,
      maxNonSyncLiteralSize: maxNonSyncLiteral(authenticated, this.#maxLiteral),
    });
  }

  #receive(chunk: Buffer): void {
    if (this.#closed) return;
    if (this.#state.kind === 'not-authenticated') {
      this.#preAuthInput += chunk.length;
      if (this.#preAuthInput > PRE_AUTH_INPUT) {
        this.#log('info', { outcome: 'too-much-input' }, 'too much input before login');
        this.goodbye('Too much data before authentication');
        return;
      }
    }
    this.#reader.push(chunk);
    if (this.#lineWaiter !== undefined) this.#pumpLine();
    else if (!this.#busy) void this.#loop();
    if (this.#busy && !this.#paused && this.#reader.buffered > HIGH_WATER) {
      this.#paused = true;
      this.#socket.pause();
    }
  }

  #pumpLine(): void {
    const waiter = this.#lineWaiter;
    if (waiter === undefined) return;
    const event = this.#reader.next();
    if (event === undefined) return;
    this.#lineWaiter = undefined;
    this.#reader.setMode('command');
    waiter(event.kind === 'line' ? event.line : null);
  }

  async #loop(): Promise<void> {
    this.#busy = true;
    try {
      while (!this.#closed && this.#state.kind !== 'logout') {
        const event = this.#reader.next();
        if (event === undefined) break;
        await this.#handle(event);
      }
    } catch (err) {
      // step: a bug costs this connection only, never the server
      this.#log('error', { err }, 'session failed');
      this.goodbye('Internal error');
    } finally {
      this.#busy = false;
      if (this.#paused) {
        this.#paused = false;
        this.#socket.resume();
      }
    }
  }

  async #handle(event: ReaderEvent): Promise<void> {
    switch (event.kind) {
      case 'command':
        await this.#command(event.command);
        return;
      case 'continue': {
        const settings = this.#services.settings;
        const limit =
          this.#state.kind === 'not-authenticated'
            ? PRE_AUTH_LITERAL
            : event.name === 'APPEND'
              ? settings.appendLimit
              : MAX_STRING_LITERAL;
        if (event.size > limit) {
          this.#reader.abortCommand();
          await this.#reply(taggedResponse(event.tag, 'NO', 'Literal too large', 'TOOBIG'));
        } else {
          await this.#reply(continuationResponse('Ready'));
        }
        return;
      }
      case 'bad':
        await this.#reply(
          event.tag === undefined
            ? untaggedResponse('BAD', event.text, event.code)
            : taggedResponse(event.tag, 'BAD', event.text, event.code),
        );
        this.#log('debug', { outcome: 'BAD', reason: event.text }, 'bad command');
        if (event.fatal === true) this.goodbye('Too much data');
        return;
      case 'no':
        await this.#reply(taggedResponse(event.tag, 'NO', event.text, event.code));
        return;
      case 'line':
        return;
    }
  }

  async #reply(bytes: Uint8Array): Promise<void> {
    await this.#output.write([bytes]);
    await this.#output.flush();
  }

  // ---- commands ----

  async #command(raw: RawCommand): Promise<void> {
    const started = performance.now();
    this.#commands++;
    const parsed = parseCommand(raw, { utf8: this.#compose.utf8 });
    if (parsed.kind === 'bad') {
      const tag = parsed.tag ?? raw.tag;
      await this.#reply(taggedResponse(tag, 'BAD', parsed.text, parsed.code));
      this.#log(
        'debug',
        { cmd: raw.name, outcome: 'BAD', reason: parsed.text, ms: elapsed(started) },
        raw.name,
      );
      return;
    }
    const { tag, command } = parsed;
    const handler = COMMANDS[command.name] as ImapCommandHandler<ImapCommandName>;
    const name = 'uid' in command && command.uid ? `UID ${command.name}` : command.name;
    const fields: Record<string, unknown> = {};
    let result: CommandResult;
    let level: 'error' | 'info' | 'debug' = handler.logLevel ?? 'debug';
    if (!handler.states.includes(this.#state.kind)) {
      result = { status: 'BAD', text: wrongState(this.#state.kind, handler.states) };
    } else {
      try {
        result = (await handler.run(this.#context(tag, fields), command)) ?? {};
      } catch (err) {
        const rendered = renderError(err);
        if (rendered.internal) {
          level = 'error';
          fields.err = err;
        }
        result = rendered;
      }
    }
    // step: changes made elsewhere, at the point this command allows (RFC 9051 §7.5.1)
    if (this.#state.kind === 'selected' && !this.#closed) {
      try {
        await this.#announce(handler.expungeSafe?.(command) ?? true);
      } catch (err) {
        this.#announceFailed(err);
      }
    }
    const status = result.status ?? 'OK';
    await this.#output.write([
      taggedResponse(tag, status, result.text ?? `${name} completed`, result.code),
    ]);
    // step: `after` starts in the tick the response is handed to the socket (STARTTLS)
    const flushing = this.#output.flush();
    const after = result.after?.();
    await flushing;
    await after;
    this.#log(level, { cmd: name, outcome: status, ...fields, ms: elapsed(started) }, name);
  }

  #context(tag: string, fields: Record<string, unknown>): CommandContext {
    return {
      tag,
      session: this,
      server: this.#services,
      send: (parts: readonly WirePart[]) => this.#output.write(parts),
      note: (more) => Object.assign(fields, more),
      user: () => {
        const state = this.#state;
        if (state.kind !== 'authenticated' && state.kind !== 'selected') {
          throw new ImapError('BAD', 'Not authenticated');
        }
        return state.user;
      },
      selected: async () => {
        const state = this.#state;
        if (state.kind !== 'selected') throw new ImapError('BAD', 'No mailbox selected');
        try {
          await state.mailbox.sync();
        } catch (err) {
          this.#announceFailed(err);
          throw err;
        }
        return state.mailbox;
      },
    };
  }

  /** Write the selected mailbox's pending changes. */
  async #announce(allowExpunge: boolean): Promise<void> {
    const state = this.#state;
    if (state.kind !== 'selected') return;
    await state.mailbox.sync();
    if (!state.mailbox.hasUpdates) return;
    const parts = state.mailbox.updates({
      allowExpunge,
      qresync: this.#enabled.has('QRESYNC'),
      condstore: this.#enabled.has('CONDSTORE'),
      compose: this.#compose,
    });
    if (parts.length > 0) await this.#output.write(parts);
  }

  /** The selected mailbox could not be read: gone (deleted elsewhere) or a failure. */
  #announceFailed(err: unknown): void {
    const state = this.#state;
    if (isCommuneError(err, 'not-found') && state.kind === 'selected') {
      this.unselect();
      void this.#output.write([untaggedResponse('OK', 'Mailbox no longer exists', 'CLOSED')]);
      return;
    }
    this.#log('error', { err }, 'mailbox update failed');
  }

  /** During IDLE: announce changes as nudges arrive, one flush at a time. */
  #kickIdle(): void {
    if (!this.#idling) return;
    if (this.#idleFlush !== undefined) {
      this.#idleAgain = true;
      return;
    }
    this.#idleFlush = (async () => {
      do {
        this.#idleAgain = false;
        try {
          await this.#announce(true);
        } catch (err) {
          this.#announceFailed(err);
        }
        await this.#output.flush();
      } while (this.#idleAgain && this.#idling && !this.#closed);
    })().finally(() => {
      this.#idleFlush = undefined;
    });
  }

  // ---- logs ----

  #log(
    level: 'error' | 'warn' | 'info' | 'debug',
    fields: Record<string, unknown>,
    message: string,
  ): void {
    const user = this.#userAddress;
    this.#services.log[level](
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
}

function wrongState(kind: StateKind, allowed: readonly StateKind[]): string {
  if (kind === 'not-authenticated') return 'Not authenticated';
  if (allowed.includes('selected') && !allowed.includes('authenticated')) {
    return 'No mailbox selected';
  }
  if (allowed.includes('not-authenticated')) return 'Already authenticated';
  return 'Command not valid in this state';
}
