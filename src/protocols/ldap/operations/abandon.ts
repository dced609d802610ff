/**
 * Abandon (RFC 4511 §4.11): no response; the named operation stops at its next check and
 * sends nothing more. Unknown or finished message ids are ignored.
 */

import type { LdapOperation } from './operation.ts';

export const abandonOperation: LdapOperation<'abandonRequest'> = {
  name: 'abandon',
  request: 'abandonRequest',
  states: ['anonymous', 'bound'],
  controls: [],
  tracked: false,
  logLevel: 'debug',
  async run(ctx) {
    const { idToAbandon } = ctx.message.protocolOp;
    ctx.note({ abandon: idToAbandon });
    ctx.session.abandon(idToAbandon);
    return undefined;
  },
};
