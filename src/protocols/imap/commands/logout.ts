/** LOGOUT (RFC 9051 §6.1.3): untagged BYE, tagged OK, then the connection is closed. */

import { untaggedResponse } from '../compose/response-line.ts';
import { ANY_STATE } from './command.ts';
import type { ImapCommandHandler } from './command.ts';

export const logoutCommand: ImapCommandHandler<'LOGOUT'> = {
  name: 'LOGOUT',
  states: ANY_STATE,
  async run(ctx) {
    await ctx.send([untaggedResponse('BYE', 'Logging out')]);
    ctx.session.logout();
    return {
      text: 'LOGOUT completed',
      after: async () => ctx.session.close(),
    };
  },
};
