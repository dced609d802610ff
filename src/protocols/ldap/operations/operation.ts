/**
 * The contract of one LDAP operation (RFC 4511 §4.2 - §4.14): one file per operation, each a
 * declarative object with its name, the session states it runs in, the controls it
 * understands, and `run`. Decoding happened before (messages.ts); `run` returns the final
 * result, which the session renders into the response type of the request in one place.
 * Errors are thrown as LdapError, carrying their result code.
 */

import type { Logger } from '../../../core/log.ts';
import type { AccessContext } from '../../../core/principal.ts';
import type { Directory } from '../../../storage/directory/directory.ts';
import type { DirectoryTree, LdapEntry } from '../directory-tree.ts';
import type { Control, LdapMessage, RequestOp, ResponseOp } from '../messages.ts';
import { ResultCode } from '../result-code.ts';

/** Who a session acts as. */
export interface BoundUser {
  readonly access: AccessContext;
  /** The entry DN the user is bound as (WhoAmI, RFC 4532). */
  readonly dn: string;
}

export type AuthState =
  { readonly kind: 'anonymous' } | { readonly kind: 'bound'; readonly user: BoundUser };

/**
 * A session's state. Operations run only while anonymous or bound; during a StartTLS
 * handshake nothing is read; once closed nothing is read or written.
 */
export type SessionState =
  | AuthState
  | { readonly kind: 'starting-tls'; readonly resume: AuthState }
  | { readonly kind: 'closed' };

export type SessionStateKind = SessionState['kind'];

/** Server-wide settings every session shares. */
export interface LdapSettings {
  /** Anonymous sessions may read the directory (not only the root DSE and subschema). */
  readonly allowAnonymous: boolean;
  /** Passwords accepted over plaintext connections from non-loopback clients. */
  readonly allowPlaintext: boolean;
  /** Largest request message, in bytes. */
  readonly maxMessageSize: number;
  /** Deepest search filter accepted. */
  readonly maxFilterDepth: number;
  /** Operations in progress at once per connection (abandon and unbind not counted). */
  readonly maxOperations: number;
  /** Most entries one search returns, unless paged (0 = no limit). */
  readonly sizeLimit: number;
  /** Longest one search may run, in seconds (0 = no limit). */
  readonly timeLimit: number;
  /** Paged searches a connection may keep open (RFC 2696 cookies). */
  readonly maxPagedSearches: number;
}

/** The rest of a paged search (RFC 2696), kept by the session under its cookie. */
export interface PagedSearch {
  /** What the search asked; a continuation must ask the same. */
  readonly key: string;
  readonly entries: readonly LdapEntry[];
  offset: number;
  /** The result was cut at the size limit: the last page says sizeLimitExceeded. */
  readonly sizeExceeded: boolean;
}

/** What an operation may see and do to its session. */
export interface SessionView {
  readonly state: SessionState;
  readonly remoteAddress: string;
  /** TLS is active (LDAPS or after StartTLS). */
  readonly secure: boolean;
  /** StartTLS is possible on this connection (a plain listener with TLS material). */
  readonly canStartTls: boolean;
  /** Other counted operations still in progress. */
  readonly outstanding: number;
  /** Paged searches by cookie (hex). */
  readonly pagedSearches: Map<string, PagedSearch>;
  setAuth(auth: AuthState): void;
  /** Stop reading until the TLS handshake is over (RFC 4511 §4.14.1). */
  beginStartTls(): void;
  /** Wrap the connection in TLS; called after the StartTLS response is written. */
  upgradeToTls(): Promise<void>;
  /** Mark an operation abandoned (RFC 4511 §4.11); unknown ids are ignored. */
  abandon(messageId: number): void;
  /** End the session without a response (unbind). */
  close(): void;
}

/** Services shared by every session of a server. */
export interface ServerServices {
  readonly tree: DirectoryTree;
  readonly directory: Directory;
  readonly log: Logger;
  readonly settings: LdapSettings;
}

export interface OperationContext<Op extends RequestOp = RequestOp> {
  readonly message: LdapMessage<Op>;
  readonly session: SessionView;
  readonly server: ServerServices;
  /** True once the client abandoned this operation or the session ended. */
  abandoned(): boolean;
  /** Send an intermediate response (search entries); waits while the socket is full. */
  send(op: ResponseOp, controls?: readonly Control[]): Promise<void>;
  /** Add fields to the operation's log line, optionally raising its level to warn. */
  note(fields: Record<string, unknown>, level?: 'warn'): void;
}

/** The final response of an operation, before it is shaped into its response type. */
export interface OperationResult {
  readonly resultCode: number;
  readonly diagnosticMessage?: string;
  readonly matchedDN?: string;
  readonly controls?: readonly Control[];
  /** ExtendedResponse fields (RFC 4511 §4.12). */
  readonly responseName?: string;
  readonly responseValue?: Uint8Array;
  /** Runs once the response is written (StartTLS switches to TLS here). */
  readonly after?: () => Promise<void>;
}

export type RequestType = RequestOp['type'];
export type RequestOf<T extends RequestType> = Extract<RequestOp, { type: T }>;

export interface LdapOperation<T extends RequestType> {
  /** For logs: bind, search, ... */
  readonly name: string;
  readonly request: T;
  readonly states: readonly SessionStateKind[];
  /** Control OIDs this operation understands; others marked critical are refused. */
  readonly controls: readonly string[];
  /** Counted against maxOperations and abandonable; false for abandon and unbind. */
  readonly tracked: boolean;
  readonly logLevel: 'info' | 'debug';
  /** The final result, or undefined when the operation has no response (unbind, abandon). */
  run(ctx: OperationContext<RequestOf<T>>): Promise<OperationResult | undefined>;
}

/** An LDAP failure with its result code (RFC 4511 §4.1.9). */
export class LdapError extends Error {
  readonly resultCode: number;
  readonly matchedDN: string;

  constructor(resultCode: number, message: string, matchedDN = '') {
    super(message);
    this.name = 'LdapError';
    this.resultCode = resultCode;
    this.matchedDN = matchedDN;
  }
}

export function isLdapError(err: unknown): err is LdapError {
  return err instanceof LdapError;
}

/** A plain success result. */
export const SUCCESS: OperationResult = Object.freeze({ resultCode: ResultCode.success });

/** Whether a session may read an entry: public entries always, the rest once bound. */
export function canRead(entry: LdapEntry, state: SessionState, settings: LdapSettings): boolean {
  return entry.access === 'public' || canReadDirectory(state, settings);
}

/** Whether a session may read the directory entries (not only the root DSE and subschema). */
export function canReadDirectory(state: SessionState, settings: LdapSettings): boolean {
  return state.kind === 'bound' || settings.allowAnonymous;
}

/** Name of a result code, for logs. */
export function resultName(code: number): string {
  for (const [name, value] of Object.entries(ResultCode)) if (value === code) return name;
  return String(code);
}
