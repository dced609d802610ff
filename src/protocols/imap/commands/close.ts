/**
 * CLOSE (RFC 9051 §6.4.1): expunge the \Deleted messages silently (unless read-only), then
 * leave the selected state.
 */

import { SELECTED } from './command.ts';
import type { ImapCommandHandler } from './command.ts';

export const closeCommand: ImapCommandHandler<'CLOSE'> = {
  name: 'CLOSE',
  states: SELECTED,
  async run(ctx) {
    const state = ctx.session.state;
    ctx.session.unselect();
    if (state.kind !== 'selected' || state.mailbox.readOnly) return;
    const { access, account } = state.user;
    await ctx.server.mail.expunge(access, account, state.mailbox.id);
  },
};
