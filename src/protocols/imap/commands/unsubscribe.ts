/** UNSUBSCRIBE (RFC 9051 §6.3.8). */

import { AUTHENTICATED } from './command.ts';
import type { ImapCommandHandler } from './command.ts';

export const unsubscribeCommand: ImapCommandHandler<'UNSUBSCRIBE'> = {
  name: 'UNSUBSCRIBE',
  states: AUTHENTICATED,
  async run(ctx, command) {
    const { access, account } = ctx.user();
    await ctx.server.mail.unsubscribe(access, account, command.mailbox);
  },
};
