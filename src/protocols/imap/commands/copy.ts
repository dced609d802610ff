/**
 * COPY (RFC 9051 §6.4.7) and UID COPY: copies with the COPYUID mapping (UIDPLUS, RFC 4315
 * §3); a missing destination is NO [TRYCREATE].
 */

import type { CopyResult, MailboxRecord } from '../../../storage/mail/mail-types.ts';
import type { ResponseCode } from '../compose/response-code.ts';
import { ImapError } from '../imap-error.ts';
import { sequenceSetFromNumbers } from '../parser/sequence-set.ts';
import { SELECTED } from './command.ts';
import type { CommandContext, ImapCommandHandler } from './command.ts';

/** The destination of COPY / MOVE, selectable. */
export async function destination(ctx: CommandContext, name: string): Promise<MailboxRecord> {
  const { access, account } = ctx.user();
  const record = await ctx.server.mail.findMailbox(access, account, name);
  if (record === undefined || record.noselect) {
    throw new ImapError('NO', 'Destination mailbox does not exist', 'TRYCREATE');
  }
  return record;
}

/** COPYUID uidvalidity source-uids destination-uids (RFC 4315 §3), in corresponding order. */
export function copyUid(result: CopyResult): ResponseCode | undefined {
  if (result.mapping.length === 0) return undefined;
  return {
    code: 'COPYUID',
    uidValidity: result.uidValidity,
    source: sequenceSetFromNumbers(result.mapping.map(([from]) => from)),
    destination: sequenceSetFromNumbers(result.mapping.map(([, to]) => to)),
  };
}

export const copyCommand: ImapCommandHandler<'COPY'> = {
  name: 'COPY',
  states: SELECTED,
  async run(ctx, command) {
    const mailbox = await ctx.selected();
    const uids = mailbox.resolve(command.sequence, command.uid);
    const target = await destination(ctx, command.mailbox);
    ctx.note({ to: target.name, count: uids.length });
    if (uids.length === 0) return { text: 'No messages copied' };
    const { access, account } = ctx.user();
    const result = await ctx.server.mail.copy(access, account, mailbox.id, uids, target.id);
    const code = copyUid(result);
    return code === undefined ? { text: 'COPY completed' } : { code, text: 'COPY completed' };
  },
};
