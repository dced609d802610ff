/** CAPABILITY (RFC 9051 §6.1.1): the capability list for the current state. */

import { capabilityResponse } from '../compose/untagged-data.ts';
import { ANY_STATE } from './command.ts';
import type { ImapCommandHandler } from './command.ts';

export const capabilityCommand: ImapCommandHandler<'CAPABILITY'> = {
  name: 'CAPABILITY',
  states: ANY_STATE,
  async run(ctx) {
    await ctx.send(capabilityResponse(ctx.session.capabilities()));
  },
};
