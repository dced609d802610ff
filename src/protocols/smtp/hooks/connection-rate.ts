/** New connections per client address per minute (smtp.connectionRateLimit), every listener. */

import { Replies } from '../smtp-reply.ts';
import { NEXT, reject } from './smtp-hook.ts';
import type { SmtpHook } from './smtp-hook.ts';

export const connectionRate: SmtpHook<'connect'> = {
  name: 'connection-rate',
  stage: 'connect',
  async run({ state }, { limits }) {
    return limits.connections.take(state.client.ip) ? NEXT : reject(Replies.tooManyConnections());
  },
};
