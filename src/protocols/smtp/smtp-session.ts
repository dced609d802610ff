/**
 * What the SMTP layer keeps per connection and per mail transaction, next to smtp-server's own
 * session: who the client is, who authenticated, and what each accepted recipient resolved to.
 * A transaction is made at MAIL FROM and dropped after DATA (or RSET, or a new MAIL).
 */

import type { AccessContext } from '../../core/principal.ts';
import type { NotifyOn } from '../../storage/queue/queue-types.ts';
import type { InboundAuthResult } from './inbound-auth.ts';
import type { LocalTarget } from './recipient-router.ts';

/** Which rules a listener applies: the MX takes mail for local users from anyone, submission
 * takes mail from authenticated users for anyone. */
export type SmtpProfile = 'mx' | 'submission';

export type ListenerName = 'smtp' | 'submission' | 'submissions';

export interface ClientInfo {
  readonly listener: ListenerName;
  readonly profile: SmtpProfile;
  readonly ip: string;
  readonly port: number;
  /** Reverse DNS name, when it resolved. */
  readonly hostname: string | undefined;
}

export interface AuthUser {
  readonly ctx: AccessContext;
  /** Lower-case addresses the user may send as: own addresses and aliases, and the addresses
   * of the groups they belong to. */
  readonly sendAs: ReadonlySet<string>;
}

/** DSN parameters of one RCPT (RFC 3461 §4.1, §4.2). */
export interface RecipientDsn {
  readonly notify?: readonly NotifyOn[];
  readonly orcpt?: string;
}

/** An accepted recipient delivered here. */
export interface LocalRecipient extends RecipientDsn {
  readonly address: string;
  readonly targets: readonly LocalTarget[];
}

/** An accepted recipient that leaves through the queue. */
export interface RemoteRecipient extends RecipientDsn {
  readonly address: string;
}

export interface Transaction {
  /** Id for logs, the Received field and replies. */
  readonly id: string;
  /** MAIL FROM; '' is the null reverse-path. */
  readonly sender: string;
  /** SIZE= (RFC 1870), when given. */
  readonly declaredSize: number | undefined;
  /** DSN RET and ENVID (RFC 3461 §4.3, §4.4). */
  readonly ret: 'FULL' | 'HDRS' | null;
  readonly envid: string | null;
  readonly local: LocalRecipient[];
  readonly remote: RemoteRecipient[];
  /** File into Junk (set by the DMARC policy). */
  junk: boolean;
  /** Fields to prepend at delivery, top first (Authentication-Results, ...). */
  readonly headers: string[];
  auth: InboundAuthResult | undefined;
}

export interface SessionState {
  readonly client: ClientInfo;
  /** HELO/EHLO argument (as of the last MAIL). */
  helo: string;
  user: AuthUser | undefined;
  tx: Transaction | undefined;
  /** Messages accepted in this session. */
  messages: number;
  /** Epoch ms. */
  readonly startedAt: number;
}

/** Every address of an accepted recipient, in order. */
export function recipientCount(tx: Transaction): number {
  return tx.local.length + tx.remote.length;
}
