/**
 * Resolve a RCPT: local addresses (aliases, subaddresses, groups, catch-all) are recorded with
 * their accounts; an unknown local address is refused (550 5.1.1); a foreign domain is relayed
 * only for authenticated submission, and refused on the MX (554 5.7.1: no open relay).
 */

import { Replies } from '../smtp-reply.ts';
import { ACCEPT, NEXT, reject } from './smtp-hook.ts';
import type { SmtpHook } from './smtp-hook.ts';

export const routeRecipient: SmtpHook<'rcpt'> = {
  name: 'route-recipient',
  stage: 'rcpt',
  async run({ state, tx, address, dsn }, { router }) {
    // step: a repeated RCPT replaces the earlier one (smtp-server keeps one envelope entry)
    const lower = address.toLowerCase();
    for (const list of [tx.local, tx.remote]) {
      const at = list.findIndex((r) => r.address.toLowerCase() === lower);
      if (at >= 0) list.splice(at, 1);
    }
    const route = await router.route(address);
    switch (route.kind) {
      case 'local':
        tx.local.push({ address, targets: route.targets, ...dsn });
        return NEXT;
      case 'unknown':
        return reject(Replies.noSuchUser());
      case 'remote':
        if (state.client.profile !== 'submission' || state.user === undefined) {
          return reject(Replies.relayDenied());
        }
        tx.remote.push({ address, ...dsn });
        return ACCEPT;
    }
  },
};
