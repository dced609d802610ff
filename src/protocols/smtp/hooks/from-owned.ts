/**
 * Submission: every From address of the message must belong to the authenticated user (the
 * same rule as the envelope sender), and there must be one (RFC 5322 §3.6).
 */

import { fromAddresses } from '../message-headers.ts';
import { Replies, SmtpReply } from '../smtp-reply.ts';
import { maySendAs } from './sender-owned.ts';
import { NEXT, reject } from './smtp-hook.ts';
import type { SmtpHook } from './smtp-hook.ts';

export const fromOwned: SmtpHook<'data'> = {
  name: 'from-owned',
  stage: 'data',
  async run({ state, fields }) {
    const user = state.user;
    if (user === undefined) return reject(Replies.authRequired());
    const from = fromAddresses(fields);
    if (from.length === 0)
      return reject(new SmtpReply(550, '5.6.0', 'Message has no From address'));
    return from.every((a) => maySendAs(user, a)) ? NEXT : reject(Replies.fromNotOwned());
  },
};
