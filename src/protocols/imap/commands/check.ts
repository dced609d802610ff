/** CHECK (RFC 3501 §6.4.1, gone in IMAP4rev2): every commit is durable already; a NOOP. */

import { SELECTED } from './command.ts';
import type { ImapCommandHandler } from './command.ts';

export const checkCommand: ImapCommandHandler<'CHECK'> = {
  name: 'CHECK',
  states: SELECTED,
  async run() {
    return { text: 'CHECK completed' };
  },
};
