/** Submitted messages per authenticated user per hour (smtp.submissionRateLimit). */

import { Replies } from '../smtp-reply.ts';
import { NEXT, reject } from './smtp-hook.ts';
import type { SmtpHook } from './smtp-hook.ts';

export const submissionRate: SmtpHook<'mail'> = {
  name: 'submission-rate',
  stage: 'mail',
  async run({ state }, { limits }) {
    const user = state.user;
    if (user === undefined) return NEXT;
    return limits.submissions.take(String(user.ctx.principalId))
      ? NEXT
      : reject(Replies.rateLimited('too many messages sent, try again later'));
  },
};
