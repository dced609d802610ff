/**
 * SETQUOTA (RFC 9208 §4.1): limits are set by the administrator (the directory), not over
 * IMAP, so QUOTASET is not advertised and this is always NO [NOPERM].
 */

import { ImapError } from '../imap-error.ts';
import { AUTHENTICATED } from './command.ts';
import type { ImapCommandHandler } from './command.ts';

export const setquotaCommand: ImapCommandHandler<'SETQUOTA'> = {
  name: 'SETQUOTA',
  states: AUTHENTICATED,
  async run() {
    throw new ImapError('NO', 'Quotas are set by the administrator', 'NOPERM');
  },
};
