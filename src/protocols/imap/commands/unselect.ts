/** UNSELECT (RFC 3691, RFC 9051 §6.4.2): leave the selected state without expunging. */

import { SELECTED } from './command.ts';
import type { ImapCommandHandler } from './command.ts';

export const unselectCommand: ImapCommandHandler<'UNSELECT'> = {
  name: 'UNSELECT',
  states: SELECTED,
  async run(ctx) {
    ctx.session.unselect();
  },
};
