/** Messages per client address per minute on the MX (smtp.messageRateLimit). */

import { Replies } from '../smtp-reply.ts';
import { NEXT, reject } from './smtp-hook.ts';
import type { SmtpHook } from './smtp-hook.ts';

export const messageRate: SmtpHook<'mail'> = {
  name: 'message-rate',
  stage: 'mail',
  async run({ state }, { limits }) {
    return limits.messages.take(state.client.ip)
      ? NEXT
      : reject(Replies.rateLimited('too many messages from your address'));
  },
};
