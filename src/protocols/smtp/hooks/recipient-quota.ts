/**
 * Per-recipient quota at RCPT time: a mailbox that is full answers 452 4.2.2 (the sender
 * retries; the owner may make room), and a declared SIZE= larger than the whole quota 552 5.2.2
 * (RFC 1870 §6, RFC 3463 X.2.2). Only single mailboxes are checked: one full member does not
 * block a distribution list. The recipient was recorded by route-recipient, so a refusal
 * takes it back out.
 */

import { Replies } from '../smtp-reply.ts';
import { NEXT, reject } from './smtp-hook.ts';
import type { SmtpHook } from './smtp-hook.ts';

export const recipientQuota: SmtpHook<'rcpt'> = {
  name: 'recipient-quota',
  stage: 'rcpt',
  async run({ tx, address }, { delivery }) {
    const last = tx.local[tx.local.length - 1];
    if (last === undefined || last.address !== address || last.targets.length !== 1) return NEXT;
    const target = last.targets[0];
    if (target === undefined) return NEXT;
    const { used, limit } = await delivery.quota(target.account);
    if (limit <= 0) return NEXT;
    const size = tx.declaredSize ?? 0;
    let refusal = undefined;
    if (size > limit) refusal = Replies.quotaExceeded();
    else if (used >= limit || used + size > limit) refusal = Replies.mailboxFull();
    if (refusal === undefined) return NEXT;
    tx.local.pop();
    return reject(refusal);
  },
};
