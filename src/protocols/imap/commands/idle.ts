/**
 * IDLE (RFC 2177, RFC 9051 §6.3.13): "+ idling", then mailbox changes are written as they
 * happen (the change bus nudges the session) until the client sends DONE.
 */

import { continuationResponse } from '../compose/response-line.ts';
import { AUTHENTICATED } from './command.ts';
import type { ImapCommandHandler } from './command.ts';

const latin1 = new TextDecoder('latin1');

export const idleCommand: ImapCommandHandler<'IDLE'> = {
  name: 'IDLE',
  states: AUTHENTICATED,
  async run(ctx) {
    await ctx.send([continuationResponse('idling')]);
    await ctx.session.beginIdle();
    const line = await ctx.session.readLine();
    await ctx.session.endIdle();
    if (line === null) return { status: 'BAD', text: 'IDLE aborted' };
    if (latin1.decode(line).trim().toUpperCase() !== 'DONE') {
      return { status: 'BAD', text: 'Expected DONE' };
    }
    return { text: 'IDLE terminated' };
  },
};
