/**
 * NOOP (RFC 9051 §6.1.2): does nothing; the session announces pending mailbox changes
 * before the tagged OK, which is what clients poll it for.
 */

import { ANY_STATE } from './command.ts';
import type { ImapCommandHandler } from './command.ts';

export const noopCommand: ImapCommandHandler<'NOOP'> = {
  name: 'NOOP',
  states: ANY_STATE,
  async run() {
    return { text: 'NOOP completed' };
  },
};
