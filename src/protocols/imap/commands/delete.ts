/**
 * DELETE (RFC 9051 §6.3.5): a mailbox with children keeps its place as \Noselect; INBOX and
 * a \Noselect mailbox with children cannot be deleted.
 */

import { untaggedResponse } from '../compose/response-line.ts';
import { ImapError } from '../imap-error.ts';
import { AUTHENTICATED } from './command.ts';
import type { ImapCommandHandler } from './command.ts';

export const deleteCommand: ImapCommandHandler<'DELETE'> = {
  name: 'DELETE',
  states: AUTHENTICATED,
  async run(ctx, command) {
    const { access, account } = ctx.user();
    const { mail } = ctx.server;
    ctx.note({ mailbox: command.mailbox });
    if (command.mailbox === 'INBOX') throw new ImapError('NO', 'INBOX cannot be deleted', 'CANNOT');
    const record = await mail.findMailbox(access, account, command.mailbox);
    if (record === undefined) throw new ImapError('NO', 'Mailbox does not exist', 'NONEXISTENT');
    await mail.deleteMailbox(access, account, record.id);
    const state = ctx.session.state;
    if (state.kind === 'selected' && state.mailbox.id === record.id) {
      ctx.session.unselect();
      await ctx.send([untaggedResponse('OK', 'Selected mailbox deleted', 'CLOSED')]);
    }
  },
};
