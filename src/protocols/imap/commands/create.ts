/**
 * CREATE (RFC 9051 §6.3.4) with CREATE-SPECIAL-USE (RFC 6154 §3): missing superiors are
 * created; a trailing separator only declares the intent to create children under the name.
 * An unknown or already taken special use is NO [USEATTR]; an existing name NO
 * [ALREADYEXISTS].
 */

import { isCommuneError } from '../../../core/errors.ts';
import { roleOfSpecialUse } from '../../../storage/mail/mail-types.ts';
import { ImapError } from '../imap-error.ts';
import { AUTHENTICATED } from './command.ts';
import type { ImapCommandHandler } from './command.ts';

export const createCommand: ImapCommandHandler<'CREATE'> = {
  name: 'CREATE',
  states: AUTHENTICATED,
  async run(ctx, command) {
    const { access, account } = ctx.user();
    const name = command.mailbox.replace(/\/+$/, '');
    ctx.note({ mailbox: name });
    if (name === '') throw new ImapError('NO', 'Invalid mailbox name', 'CANNOT');
    if (command.specialUse.length > 1) {
      throw new ImapError('NO', 'One special use per mailbox', 'USEATTR');
    }
    const attribute = command.specialUse[0];
    const role = attribute === undefined ? undefined : roleOfSpecialUse(attribute);
    if (attribute !== undefined && role === undefined) {
      throw new ImapError('NO', `Special use ${attribute} is not supported`, 'USEATTR');
    }
    if (name.toUpperCase() === 'INBOX') {
      throw new ImapError('NO', 'INBOX already exists', 'ALREADYEXISTS');
    }
    try {
      await ctx.server.mail.createMailbox(
        access,
        account,
        name,
        role === undefined ? {} : { role },
      );
    } catch (err) {
      // step: a taken special use is USEATTR, a taken name ALREADYEXISTS
      if (isCommuneError(err, 'already-exists') && err.message.includes('role')) {
        throw new ImapError('NO', 'Another mailbox already has that special use', 'USEATTR');
      }
      throw err;
    }
  },
};
