/**
 * RENAME (RFC 9051 §6.3.6): the mailbox and everything below it; renaming INBOX moves its
 * messages to a new mailbox and leaves INBOX empty.
 */

import { ImapError } from '../imap-error.ts';
import { AUTHENTICATED } from './command.ts';
import type { ImapCommandHandler } from './command.ts';

export const renameCommand: ImapCommandHandler<'RENAME'> = {
  name: 'RENAME',
  states: AUTHENTICATED,
  async run(ctx, command) {
    const { access, account } = ctx.user();
    const { mail } = ctx.server;
    const to = command.to.replace(/\/+$/, '');
    ctx.note({ from: command.from, to });
    const record = await mail.findMailbox(access, account, command.from);
    if (record === undefined) throw new ImapError('NO', 'Mailbox does not exist', 'NONEXISTENT');
    if (
      to.toUpperCase() === 'INBOX' ||
      (await mail.findMailbox(access, account, to)) !== undefined
    ) {
      throw new ImapError('NO', 'Target mailbox already exists', 'ALREADYEXISTS');
    }
    const renamed = await mail.renameMailbox(access, account, record.id, to);
    const state = ctx.session.state;
    if (state.kind === 'selected' && state.mailbox.id === renamed.id)
      state.mailbox.name = renamed.name;
  },
};
