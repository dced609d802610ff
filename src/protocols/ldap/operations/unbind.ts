/** Unbind (RFC 4511 §4.3): no response; the session ends and outstanding operations with it. */

import type { LdapOperation } from './operation.ts';

export const unbindOperation: LdapOperation<'unbindRequest'> = {
  name: 'unbind',
  request: 'unbindRequest',
  states: ['anonymous', 'bound'],
  controls: [],
  tracked: false,
  logLevel: 'debug',
  async run(ctx) {
    ctx.session.close();
    return undefined;
  },
};
