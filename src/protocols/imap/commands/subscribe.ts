/** SUBSCRIBE (RFC 9051 §6.3.7): names may be subscribed before they exist. */

import { AUTHENTICATED } from './command.ts';
import type { ImapCommandHandler } from './command.ts';

export const subscribeCommand: ImapCommandHandler<'SUBSCRIBE'> = {
  name: 'SUBSCRIBE',
  states: AUTHENTICATED,
  async run(ctx, command) {
    const { access, account } = ctx.user();
    await ctx.server.mail.subscribe(access, account, command.mailbox);
  },
};
