/**
 * EXPUNGE (RFC 9051 §6.4.3) and UID EXPUNGE (UIDPLUS, RFC 4315 §2.1): remove the \Deleted
 * messages (of the UID set), answered with EXPUNGE responses, or one VANISHED once QRESYNC is
 * enabled (RFC 7162 §3.2.10). NO in a read-only mailbox.
 */

import { ImapError } from '../imap-error.ts';
import { SelectedMailbox } from '../selected-mailbox.ts';
import { SELECTED } from './command.ts';
import type { ImapCommandHandler } from './command.ts';

export const expungeCommand: ImapCommandHandler<'EXPUNGE'> = {
  name: 'EXPUNGE',
  states: SELECTED,
  async run(ctx, command) {
    const mailbox = await ctx.selected();
    if (mailbox.readOnly) throw new ImapError('NO', 'Mailbox is read-only', 'READ-ONLY');
    const { access, account } = ctx.user();
    const uids = command.uids === null ? undefined : mailbox.resolve(command.uids, true);
    if (uids !== undefined && uids.length === 0) return;
    const result = await ctx.server.mail.expunge(access, account, mailbox.id, uids);
    const removed = mailbox.remove(result.expunged);
    ctx.note({ expunged: removed.uids.length });
    await ctx.send(SelectedMailbox.expungeResponses(removed, ctx.session.enabled.has('QRESYNC')));
  },
};
