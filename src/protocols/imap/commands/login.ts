/** LOGIN (RFC 9051 §6.2.3): user name and password in the clear; refused under LOGINDISABLED. */

import { authenticateUser } from './authenticate-user.ts';
import type { ImapCommandHandler } from './command.ts';

export const loginCommand: ImapCommandHandler<'LOGIN'> = {
  name: 'LOGIN',
  states: ['not-authenticated'],
  logLevel: 'info',
  async run(ctx, command) {
    return authenticateUser(ctx, command.userid, command.password);
  },
};
