/**
 * GETQUOTA (QUOTA, RFC 9208 §4.2): the account has one quota root, "", with the STORAGE
 * resource (units of 1024 octets) when a limit is set; an account without a limit has no
 * quota root.
 */

import type { QuotaResource } from '../compose/untagged-data.ts';
import { quotaResponse } from '../compose/untagged-data.ts';
import { ImapError } from '../imap-error.ts';
import { AUTHENTICATED } from './command.ts';
import type { CommandContext, ImapCommandHandler } from './command.ts';

/** The name of the account's quota root. */
export const QUOTA_ROOT = '';

/** The resources of the account's quota root, or null when it has no limit. */
export async function quotaResources(ctx: CommandContext): Promise<QuotaResource[] | null> {
  const { access, account } = ctx.user();
  const usage = await ctx.server.mail.quota(access, account);
  if (usage.limit <= 0) return null;
  return [
    {
      name: 'STORAGE',
      usage: Math.ceil(usage.storage / 1024),
      limit: Math.floor(usage.limit / 1024),
    },
  ];
}

export const getquotaCommand: ImapCommandHandler<'GETQUOTA'> = {
  name: 'GETQUOTA',
  states: AUTHENTICATED,
  async run(ctx, command) {
    const resources = command.root === QUOTA_ROOT ? await quotaResources(ctx) : null;
    if (resources === null) throw new ImapError('NO', 'No such quota root', 'NONEXISTENT');
    await ctx.send(quotaResponse(QUOTA_ROOT, resources, ctx.session.compose));
  },
};
