/**
 * MX: act on a DMARC failure (RFC 7489 §6.6.4, §10.3) as smtp.dmarcAction says:
 *   enforce  p=reject -> 550 5.7.1; p=quarantine -> Junk
 *   junk     p=reject or p=quarantine -> Junk
 *   ignore   results are only recorded
 */

import { Replies } from '../smtp-reply.ts';
import { NEXT, reject } from './smtp-hook.ts';
import type { SmtpHook } from './smtp-hook.ts';

export const dmarcPolicy: SmtpHook<'data'> = {
  name: 'dmarc-policy',
  stage: 'data',
  async run({ tx }, { settings }) {
    const dmarc = tx.auth?.dmarc;
    if (dmarc === undefined || dmarc.result !== 'fail' || settings.dmarcAction === 'ignore') {
      return NEXT;
    }
    if (dmarc.policy === 'reject' && settings.dmarcAction === 'enforce') {
      return reject(Replies.dmarcReject(dmarc.domain));
    }
    if (dmarc.policy !== 'none') tx.junk = true;
    return NEXT;
  },
};
