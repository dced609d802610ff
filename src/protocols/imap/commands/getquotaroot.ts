/** GETQUOTAROOT (QUOTA, RFC 9208 §4.3): the quota root of a mailbox and its usage. */

import type { WirePart } from '../compose/response-writer.ts';
import { quotaResponse, quotaRootResponse } from '../compose/untagged-data.ts';
import { ImapError } from '../imap-error.ts';
import { AUTHENTICATED } from './command.ts';
import type { ImapCommandHandler } from './command.ts';
import { QUOTA_ROOT, quotaResources } from './getquota.ts';

export const getquotarootCommand: ImapCommandHandler<'GETQUOTAROOT'> = {
  name: 'GETQUOTAROOT',
  states: AUTHENTICATED,
  async run(ctx, command) {
    const { access, account } = ctx.user();
    const record = await ctx.server.mail.findMailbox(access, account, command.mailbox);
    if (record === undefined) throw new ImapError('NO', 'Mailbox does not exist', 'NONEXISTENT');
    const resources = await quotaResources(ctx);
    const compose = ctx.session.compose;
    const parts: WirePart[] = quotaRootResponse(
      record.name,
      resources === null ? [] : [QUOTA_ROOT],
      compose,
    );
    if (resources !== null) parts.push(...quotaResponse(QUOTA_ROOT, resources, compose));
    await ctx.send(parts);
  },
};
