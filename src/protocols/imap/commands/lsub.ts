/**
 * LSUB (RFC 3501 §6.3.9, deprecated by IMAP4rev2 but used by older clients): subscribed names
 * matching the pattern; \Noselect for names that no longer exist, and for unsubscribed
 * superiors of a subscribed name that `%` stops at.
 */

import { listResponse } from '../compose/list-response.ts';
import type { WirePart } from '../compose/response-writer.ts';
import { ancestors, compareMailboxNames, patternMatcher } from '../mailbox-pattern.ts';
import { AUTHENTICATED } from './command.ts';
import type { ImapCommandHandler } from './command.ts';

export const lsubCommand: ImapCommandHandler<'LSUB'> = {
  name: 'LSUB',
  states: AUTHENTICATED,
  async run(ctx, command) {
    const { access, account } = ctx.user();
    const { mail } = ctx.server;
    const subscribed = new Set(await mail.listSubscriptions(access, account));
    const boxes = new Map((await mail.listMailboxes(access, account)).map((b) => [b.name, b]));
    const matches = patternMatcher(command.reference, command.pattern);
    const found = new Map<string, string[]>();
    for (const name of subscribed) {
      if (matches(name)) {
        const box = boxes.get(name);
        found.set(name, box === undefined || box.noselect ? ['\\Noselect'] : []);
        continue;
      }
      for (const parent of ancestors(name)) {
        if (!subscribed.has(parent) && matches(parent)) found.set(parent, ['\\Noselect']);
      }
    }
    const parts: WirePart[] = [];
    for (const name of [...found.keys()].sort(compareMailboxNames)) {
      parts.push(
        ...listResponse(
          { name, delimiter: '/', attributes: found.get(name) ?? [] },
          ctx.session.compose,
          'LSUB',
        ),
      );
    }
    await ctx.send(parts);
  },
};
