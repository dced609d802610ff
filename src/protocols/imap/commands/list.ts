/**
 * LIST (RFC 9051 §6.3.9) with LIST-EXTENDED (RFC 5258), LIST-STATUS (RFC 5819), CHILDREN
 * (RFC 3348) and SPECIAL-USE (RFC 6154 §2, §3).
 *
 * - `LIST "" ""` gives the hierarchy separator.
 * - Every entry carries \HasChildren or \HasNoChildren, \Noselect for placeholders, and its
 *   special-use attribute; \Subscribed when SUBSCRIBED is selected or returned.
 * - Selection SUBSCRIBED lists subscribed names (\NonExistent when gone); with RECURSIVEMATCH
 *   a matching mailbox that is not subscribed but has subscribed children is listed with
 *   CHILDINFO ("SUBSCRIBED") (RFC 5258 §3.5). Selection SPECIAL-USE lists only mailboxes
 *   with a special use.
 * - RETURN (STATUS (...)) follows each selectable entry with its STATUS.
 */

import type { MailboxInfo } from '../../../storage/mail/mail-types.ts';
import { specialUseOf } from '../../../storage/mail/mail-types.ts';
import { listResponse } from '../compose/list-response.ts';
import type { ListEntry } from '../compose/list-response.ts';
import type { WirePart } from '../compose/response-writer.ts';
import { statusResponse } from '../compose/status-response.ts';
import { ancestors, compareMailboxNames, patternMatcher } from '../mailbox-pattern.ts';
import { AUTHENTICATED } from './command.ts';
import type { ImapCommandHandler } from './command.ts';
import { statusValues } from './status.ts';

/** \Noselect, CHILDREN and special-use attributes of a mailbox. */
export function mailboxAttributes(info: MailboxInfo): string[] {
  const out: string[] = [];
  if (info.noselect) out.push('\\Noselect');
  out.push(info.hasChildren ? '\\HasChildren' : '\\HasNoChildren');
  const special = specialUseOf(info.role);
  if (special !== null) out.push(special);
  return out;
}

export const listCommand: ImapCommandHandler<'LIST'> = {
  name: 'LIST',
  states: AUTHENTICATED,
  async run(ctx, command) {
    const { access, account } = ctx.user();
    const { mail } = ctx.server;
    const compose = ctx.session.compose;
    const patterns = command.patterns.filter((p) => p !== '');
    if (patterns.length === 0) {
      // step: an empty pattern asks for the hierarchy separator (RFC 9051 §6.3.9)
      await ctx.send(
        listResponse({ name: '', delimiter: '/', attributes: ['\\Noselect'] }, compose),
      );
      return;
    }
    const matchers = patterns.map((p) => patternMatcher(command.reference, p));
    const matches = (name: string): boolean => matchers.some((m) => m(name));
    const select = command.selectOptions;
    const subscribedOnly = select.includes('SUBSCRIBED');
    const specialOnly = select.includes('SPECIAL-USE');
    const showSubscribed = subscribedOnly || command.returnOptions.includes('SUBSCRIBED');
    const boxes = await mail.listMailboxes(access, account);
    const byName = new Map(boxes.map((b) => [b.name, b]));
    const entries: { entry: ListEntry; info?: MailboxInfo }[] = [];

    if (subscribedOnly) {
      const subscribed = new Set(await mail.listSubscriptions(access, account));
      const names = new Set<string>();
      for (const name of subscribed) if (matches(name)) names.add(name);
      // step: RECURSIVEMATCH: matching parents of subscribed mailboxes (RFC 5258 §3.5)
      const parents = new Set<string>();
      if (select.includes('RECURSIVEMATCH')) {
        for (const name of subscribed) {
          for (const parent of ancestors(name)) {
            if (!subscribed.has(parent) && matches(parent)) parents.add(parent);
          }
        }
      }
      for (const name of [...names, ...parents].sort(compareMailboxNames)) {
        const info = byName.get(name);
        if (specialOnly && (info === undefined || specialUseOf(info.role) === null)) continue;
        const isSubscribed = subscribed.has(name);
        const attributes = info === undefined ? ['\\NonExistent'] : mailboxAttributes(info);
        if (isSubscribed) attributes.push('\\Subscribed');
        entries.push({
          entry: {
            name,
            delimiter: '/',
            attributes,
            ...(isSubscribed ? {} : { childInfo: ['SUBSCRIBED'] }),
          },
          ...(info === undefined ? {} : { info }),
        });
      }
    } else {
      for (const info of [...boxes].sort((a, b) => compareMailboxNames(a.name, b.name))) {
        if (!matches(info.name)) continue;
        if (specialOnly && specialUseOf(info.role) === null) continue;
        const attributes = mailboxAttributes(info);
        if (showSubscribed && info.subscribed) attributes.push('\\Subscribed');
        entries.push({ entry: { name: info.name, delimiter: '/', attributes }, info });
      }
    }

    const parts: WirePart[] = [];
    for (const { entry, info } of entries) {
      parts.push(...listResponse(entry, compose));
      if (command.returnStatus !== null && info !== undefined && !info.noselect) {
        parts.push(
          ...statusResponse(
            info.name,
            statusValues(ctx, command.returnStatus, info.status, info.id),
            compose,
          ),
        );
      }
    }
    ctx.note({ entries: entries.length });
    await ctx.send(parts);
  },
};
