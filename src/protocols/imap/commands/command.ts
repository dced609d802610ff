/**
 * The contract of one IMAP command (RFC 9051 §6): one file per command, each a declarative
 * object with its name, the session states it is valid in (checked by the session, in one
 * place), whether untagged EXPUNGE may follow it (§7.5.1), and `run`. Parsing happened before
 * (parser/parse-command.ts); `run` writes its untagged data through the context and returns
 * the tagged outcome, or throws ImapError / CommuneError, which the session renders.
 */

import type { Logger } from '../../../core/log.ts';
import type { AccessContext } from '../../../core/principal.ts';
import type { Directory } from '../../../storage/directory/directory.ts';
import type { MailService } from '../../../storage/mail/mail-service.ts';
import type { ResponseCode } from '../compose/response-code.ts';
import type { ComposeOptions, WirePart } from '../compose/response-writer.ts';
import type { ImapCommand, ImapCommandName } from '../parser/parse-command.ts';
import type { MailboxIndexes } from '../mailbox-index.ts';
import type { SelectedMailbox } from '../selected-mailbox.ts';

/** Who a session acts as once authenticated. */
export interface ImapUser {
  readonly access: AccessContext;
  /** The account whose mailboxes the session uses (the principal's own). */
  readonly account: number;
}

/** The session state machine (RFC 9051 §3). */
export type SessionState =
  | { readonly kind: 'not-authenticated' }
  | { readonly kind: 'authenticated'; readonly user: ImapUser }
  | { readonly kind: 'selected'; readonly user: ImapUser; readonly mailbox: SelectedMailbox }
  | { readonly kind: 'logout' };

export type StateKind = SessionState['kind'];

/** Extensions a client can ENABLE (RFC 5161), or that are enabled implicitly (CONDSTORE). */
export type Extension = 'CONDSTORE' | 'QRESYNC' | 'UTF8=ACCEPT' | 'IMAP4rev2';

/** Server-wide settings every session shares. */
export interface ImapSettings {
  /** Passwords accepted over plaintext connections from non-loopback clients. */
  readonly allowPlaintext: boolean;
  /** Largest message APPEND accepts (APPENDLIMIT, RFC 7889). */
  readonly appendLimit: number;
  /** Failed authentications after which the connection is closed. */
  readonly maxAuthFailures: number;
  /** Silence allowed before login, and after it (RFC 9051 §5.4: at least 30 minutes). */
  readonly preAuthTimeoutMs: number;
  readonly authTimeoutMs: number;
}

/** What every command can use. */
export interface ImapServices {
  readonly mail: MailService;
  /** The shared indexes of selected mailboxes (and the EmailRecord cache). */
  readonly indexes: MailboxIndexes;
  readonly directory: Directory;
  readonly log: Logger;
  readonly settings: ImapSettings;
}

/** What a command may see and do to its session. */
export interface SessionView {
  readonly state: SessionState;
  readonly remoteAddress: string;
  /** TLS is active (imaps, or after STARTTLS). */
  readonly secure: boolean;
  /** STARTTLS is possible on this connection. */
  readonly canStartTls: boolean;
  /** Passwords may be sent now (TLS, loopback, or auth.allowPlaintext). */
  readonly plaintextAllowed: boolean;
  readonly enabled: ReadonlySet<Extension>;
  /** How strings and mailbox names are written (UTF-8 after UTF8=ACCEPT / IMAP4rev2). */
  readonly compose: ComposeOptions;
  /** The CAPABILITY list for the current state. */
  capabilities(): string[];
  /** Turn an extension on; true when it was not on before. */
  enable(extension: Extension): boolean;
  login(user: ImapUser): void;
  select(mailbox: SelectedMailbox): void;
  unselect(): void;
  logout(): void;
  /** Count a failed authentication; true when the session should now be closed. */
  authFailed(): boolean;
  /**
   * Read one line from the client (AUTHENTICATE responses, IDLE's DONE); null when the
   * connection closed or the line was too long.
   */
  readLine(): Promise<Uint8Array | null>;
  /** IDLE (RFC 2177): send mailbox updates as they happen until endIdle. */
  beginIdle(): Promise<void>;
  endIdle(): Promise<void>;
  /** Upgrade to TLS (after the tagged OK of STARTTLS was written). */
  startTls(): Promise<void>;
  /** Close the connection once the current output is written. */
  close(): void;
}

/** The outcome of a command, written as its tagged response. */
export interface CommandResult {
  /** Default OK. */
  readonly status?: 'OK' | 'NO' | 'BAD';
  readonly code?: ResponseCode;
  readonly text?: string;
  /**
   * Runs right after the tagged response is handed to the socket, in the same tick
   * (STARTTLS must start the handshake before another byte is read).
   */
  readonly after?: () => Promise<void>;
}

export interface CommandContext {
  readonly tag: string;
  readonly session: SessionView;
  readonly server: ImapServices;
  /** Write untagged responses (streamed, with backpressure). */
  send(parts: readonly WirePart[]): Promise<void>;
  /** Add fields to the command's log line. */
  note(fields: Record<string, unknown>): void;
  /** The authenticated user (the state check guarantees one where the command runs). */
  user(): ImapUser;
  /** The selected mailbox, brought up to date with changes made elsewhere. */
  selected(): Promise<SelectedMailbox>;
}

/** The parsed command type of a command name (SELECT and EXAMINE share one, ...). */
export type CommandOf<N extends ImapCommandName> = ImapCommand extends infer C
  ? C extends { readonly name: infer M }
    ? N extends M
      ? C
      : never
    : never
  : never;

export interface ImapCommandHandler<N extends ImapCommandName = ImapCommandName> {
  readonly name: N;
  readonly states: readonly StateKind[];
  /** Log level of the command's line (default debug). */
  readonly logLevel?: 'info' | 'debug';
  /**
   * Whether untagged EXPUNGE / VANISHED may be sent at the end of this command: not while
   * responding to FETCH, STORE or SEARCH (RFC 9051 §7.5.1; their UID forms may). Default true.
   */
  readonly expungeSafe?: (command: CommandOf<N>) => boolean;
  run(ctx: CommandContext, command: CommandOf<N>): Promise<CommandResult | void>;
}

/** States shared by many commands. */
export const ANY_STATE: readonly StateKind[] = ['not-authenticated', 'authenticated', 'selected'];
export const AUTHENTICATED: readonly StateKind[] = ['authenticated', 'selected'];
export const SELECTED: readonly StateKind[] = ['selected'];
