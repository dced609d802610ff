/**
 * Session hooks: at each stage of an SMTP session (connect, MAIL, RCPT, DATA) a fixed chain of
 * hooks decides. The set of hooks is closed (HookName) and each listener profile lists its
 * chains in hook-chains.ts. A hook returns a typed verdict:
 *
 *   next    no objection, ask the next hook (the stage passes when every hook says next)
 *   accept  stop here and pass the stage
 *   reject  stop here and refuse with this reply (4xx: try later, 5xx: never)
 *
 * A hook that throws is logged and the stage fails with a temporary 451: a broken check never
 * lets mail through and never loses it.
 */

import type { Logger } from '../../../core/log.ts';
import type { Directory } from '../../../storage/directory/directory.ts';
import type { HeaderField } from '../../../storage/mail/mime/header-block.ts';
import type { LocalDelivery } from '../local-delivery.ts';
import type { RateLimiter } from '../rate-limiter.ts';
import type { RecipientRouter } from '../recipient-router.ts';
import type { Resolver } from '../resolver.ts';
import { Replies } from '../smtp-reply.ts';
import type { SmtpReply } from '../smtp-reply.ts';
import type { SmtpSettings } from '../smtp-settings.ts';
import type { RecipientDsn, SessionState, Transaction } from '../smtp-session.ts';

export type Verdict =
  | { readonly kind: 'next' }
  | { readonly kind: 'accept' }
  | { readonly kind: 'reject'; readonly reply: SmtpReply };

export const NEXT: Verdict = { kind: 'next' };
export const ACCEPT: Verdict = { kind: 'accept' };
export function reject(reply: SmtpReply): Verdict {
  return { kind: 'reject', reply };
}

export type HookName =
  | 'connection-rate'
  | 'message-rate'
  | 'sender-owned'
  | 'submission-rate'
  | 'route-recipient'
  | 'recipient-quota'
  | 'inbound-auth'
  | 'dmarc-policy'
  | 'from-owned';

export interface ConnectEvent {
  readonly state: SessionState;
}

export interface MailEvent {
  readonly state: SessionState;
  readonly tx: Transaction;
}

export interface RcptEvent {
  readonly state: SessionState;
  readonly tx: Transaction;
  readonly address: string;
  readonly dsn: RecipientDsn;
}

export interface DataEvent {
  readonly state: SessionState;
  readonly tx: Transaction;
  /** The message as received (forged Authentication-Results already removed). */
  readonly message: Uint8Array;
  readonly fields: readonly HeaderField[];
}

export interface StageEvents {
  readonly connect: ConnectEvent;
  readonly mail: MailEvent;
  readonly rcpt: RcptEvent;
  readonly data: DataEvent;
}

export type Stage = keyof StageEvents;

/** What hooks may use. */
export interface HookServices {
  readonly settings: SmtpSettings;
  readonly hostname: string;
  readonly directory: Directory;
  readonly router: RecipientRouter;
  readonly delivery: LocalDelivery;
  readonly resolver: Resolver;
  readonly limits: {
    /** Connections per client address per minute. */
    readonly connections: RateLimiter;
    /** MX messages per client address per minute. */
    readonly messages: RateLimiter;
    /** Submitted messages per user per hour. */
    readonly submissions: RateLimiter;
  };
  readonly log: Logger;
  readonly random: () => number;
}

export interface SmtpHook<S extends Stage = Stage> {
  readonly name: HookName;
  readonly stage: S;
  run(event: StageEvents[S], services: HookServices): Promise<Verdict>;
}

/** Run a chain in order; the first verdict other than next decides. */
export async function runHooks<S extends Stage>(
  chain: readonly SmtpHook<S>[],
  event: StageEvents[S],
  services: HookServices,
): Promise<Verdict> {
  for (const hook of chain) {
    let verdict: Verdict;
    try {
      verdict = await hook.run(event, services);
    } catch (err) {
      services.log.error({ protocol: 'smtp', hook: hook.name, err }, 'smtp hook failed');
      return reject(Replies.internal());
    }
    if (verdict.kind !== 'next') return verdict;
  }
  return NEXT;
}
