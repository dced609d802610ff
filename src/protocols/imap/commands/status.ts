/**
 * STATUS (RFC 9051 §6.3.11) with SIZE (RFC 8438), HIGHESTMODSEQ (RFC 7162 §3.1.9, enables
 * CONDSTORE), APPENDLIMIT (RFC 7889) and MAILBOXID (RFC 8474 §4). `statusValues` is shared
 * with LIST RETURN (STATUS ...) (RFC 5819).
 */

import type { MailboxStatus } from '../../../storage/mail/mail-types.ts';
import { statusResponse } from '../compose/status-response.ts';
import type { StatusValue } from '../compose/status-response.ts';
import { ImapError } from '../imap-error.ts';
import type { StatusItem } from '../parser/commands/status.ts';
import { AUTHENTICATED } from './command.ts';
import type { CommandContext, ImapCommandHandler } from './command.ts';

/** The values of `items` in the order asked. */
export function statusValues(
  ctx: CommandContext,
  items: readonly StatusItem[],
  status: MailboxStatus,
  mailboxId: number,
): StatusValue[] {
  if (items.includes('HIGHESTMODSEQ')) ctx.session.enable('CONDSTORE');
  return items.map((item): StatusValue => {
    switch (item) {
      case 'MESSAGES':
        return [item, status.messages];
      case 'RECENT':
        return [item, 0];
      case 'UIDNEXT':
        return [item, status.uidNext];
      case 'UIDVALIDITY':
        return [item, status.uidValidity];
      case 'UNSEEN':
        return [item, status.unseen];
      case 'DELETED':
        return [item, status.deleted];
      case 'SIZE':
        return [item, status.size];
      case 'HIGHESTMODSEQ':
        return [item, status.highestModseq];
      case 'APPENDLIMIT':
        return [item, ctx.server.settings.appendLimit];
      case 'MAILBOXID':
        return [item, `M${String(mailboxId)}`];
    }
  });
}

export const statusCommand: ImapCommandHandler<'STATUS'> = {
  name: 'STATUS',
  states: AUTHENTICATED,
  async run(ctx, command) {
    const { access, account } = ctx.user();
    const mail = ctx.server.mail;
    const record = await mail.findMailbox(access, account, command.mailbox);
    if (record === undefined || record.noselect) {
      throw new ImapError('NO', 'Mailbox does not exist', 'NONEXISTENT');
    }
    const status = await mail.status(access, account, record.id);
    await ctx.send(
      statusResponse(
        record.name,
        statusValues(ctx, command.items, status, record.id),
        ctx.session.compose,
      ),
    );
  },
};
