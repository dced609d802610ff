/**
 * The "Who am I?" extended operation (RFC 4532): the session's authorization identity as
 * `dn:<entry DN>`, or an empty value for an anonymous session. The response carries no
 * responseName (§2.2).
 */

import { ExtendedOid } from '../messages.ts';
import { ResultCode } from '../result-code.ts';
import type { ExtendedHandler } from './extended.ts';

export const whoAmIHandler: ExtendedHandler = {
  name: 'whoami',
  oid: ExtendedOid.whoAmI,
  async run(ctx) {
    const state = ctx.session.state;
    const authzId = state.kind === 'bound' ? `dn:${state.user.dn}` : '';
    return { resultCode: ResultCode.success, responseValue: new TextEncoder().encode(authzId) };
  },
};
