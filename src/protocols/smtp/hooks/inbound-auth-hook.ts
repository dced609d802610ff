/**
 * MX: verify SPF, DKIM, ARC and DMARC (inbound-auth.ts) and record the Authentication-Results
 * (and Received-SPF) fields to prepend. Skipped when smtp.verifyInbound is off; a verification
 * failure is logged and the message goes on without results rather than being refused.
 */

import { verifyInbound } from '../inbound-auth.ts';
import { NEXT } from './smtp-hook.ts';
import type { SmtpHook } from './smtp-hook.ts';

export const inboundAuth: SmtpHook<'data'> = {
  name: 'inbound-auth',
  stage: 'data',
  async run({ state, tx, message }, services) {
    if (!services.settings.verifyInbound) return NEXT;
    try {
      const result = await verifyInbound(
        {
          message,
          clientIp: state.client.ip,
          helo: state.helo,
          sender: tx.sender,
          hostname: services.hostname,
          resolver: services.resolver,
        },
        { random: services.random },
      );
      tx.auth = result;
      tx.headers.push(...result.headers);
    } catch (err) {
      services.log.warn({ protocol: 'smtp', id: tx.id, err }, 'mail authentication failed');
    }
    return NEXT;
  },
};
