/**
 * The hook chains of each listener profile, in order. This is the whole list: adding a check
 * means adding a HookName, its file, and its place here.
 */

import type { SmtpProfile } from '../smtp-session.ts';
import { connectionRate } from './connection-rate.ts';
import { dmarcPolicy } from './dmarc-policy.ts';
import { fromOwned } from './from-owned.ts';
import { inboundAuth } from './inbound-auth-hook.ts';
import { messageRate } from './message-rate.ts';
import { recipientQuota } from './recipient-quota.ts';
import { routeRecipient } from './route-recipient.ts';
import { senderOwned } from './sender-owned.ts';
import type { SmtpHook } from './smtp-hook.ts';
import { submissionRate } from './submission-rate.ts';

export interface HookChains {
  readonly connect: readonly SmtpHook<'connect'>[];
  readonly mail: readonly SmtpHook<'mail'>[];
  readonly rcpt: readonly SmtpHook<'rcpt'>[];
  readonly data: readonly SmtpHook<'data'>[];
}

export const HOOK_CHAINS: Readonly<Record<SmtpProfile, HookChains>> = {
  mx: {
    connect: [connectionRate],
    mail: [messageRate],
    rcpt: [routeRecipient, recipientQuota],
    data: [inboundAuth, dmarcPolicy],
  },
  submission: {
    connect: [connectionRate],
    mail: [senderOwned, submissionRate],
    rcpt: [routeRecipient, recipientQuota],
    data: [fromOwned],
  },
};
