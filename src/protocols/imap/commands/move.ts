/**
 * MOVE (RFC 6851, RFC 9051 §6.4.8) and UID MOVE: copy and expunge in one commit; the COPYUID
 * mapping comes in an untagged OK before the EXPUNGE (or VANISHED) responses (§4.3).
 */

import { untaggedResponse } from '../compose/response-line.ts';
import { ImapError } from '../imap-error.ts';
import { SelectedMailbox } from '../selected-mailbox.ts';
import { SELECTED } from './command.ts';
import type { ImapCommandHandler } from './command.ts';
import { copyUid, destination } from './copy.ts';

export const moveCommand: ImapCommandHandler<'MOVE'> = {
  name: 'MOVE',
  states: SELECTED,
  async run(ctx, command) {
    const mailbox = await ctx.selected();
    if (mailbox.readOnly) throw new ImapError('NO', 'Mailbox is read-only', 'READ-ONLY');
    const uids = mailbox.resolve(command.sequence, command.uid);
    const target = await destination(ctx, command.mailbox);
    ctx.note({ to: target.name, count: uids.length });
    if (uids.length === 0) return { text: 'No messages moved' };
    const { access, account } = ctx.user();
    const result = await ctx.server.mail.move(access, account, mailbox.id, uids, target.id);
    const code = copyUid(result);
    if (code !== undefined) await ctx.send([untaggedResponse('OK', 'Moved', code)]);
    const removed = mailbox.remove(result.mapping.map(([from]) => from));
    await ctx.send(SelectedMailbox.expungeResponses(removed, ctx.session.enabled.has('QRESYNC')));
    return { text: 'MOVE completed' };
  },
};
