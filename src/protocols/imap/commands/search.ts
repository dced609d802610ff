/**
 * SEARCH (RFC 9051 §6.4.4) and UID SEARCH, with every key the parser knows (evaluated by the
 * mail service over the session's view, from the in-memory index and digest cache of the
 * mailbox where the keys allow), CHARSET UTF-8 / US-ASCII (others: NO [BADCHARSET]),
 * ESEARCH return options (RFC 4731), SAVE and `$` (SEARCHRES, RFC 5182), and MODSEQ
 * (CONDSTORE, RFC 7162 §3.1.5, enables CONDSTORE). Once IMAP4rev2 is enabled every answer is
 * an ESEARCH (RFC 9051 §7.3.4).
 */

import { esearchResponse } from '../compose/esearch-response.ts';
import { searchResponse } from '../compose/untagged-data.ts';
import { ImapError } from '../imap-error.ts';
import type { SearchKey, SearchReturnOption } from '../parser/commands/search.ts';
import { sequenceSetFromNumbers } from '../parser/sequence-set.ts';
import type { SequenceSet } from '../parser/sequence-set.ts';
import type { SelectedMailbox } from '../selected-mailbox.ts';
import { SELECTED } from './command.ts';
import type { ImapCommandHandler } from './command.ts';

const CHARSETS = ['UTF-8', 'US-ASCII'];

/** Replace `$` in UID and sequence-set keys by the saved result (UIDs). */
function withSaved(key: SearchKey, saved: SequenceSet): SearchKey {
  switch (key.key) {
    case 'UID':
      return key.set.saved
        ? { key: 'UID', set: { ranges: [...key.set.ranges, ...saved.ranges], saved: false } }
        : key;
    case 'SEQUENCE': {
      if (!key.set.saved) return key;
      const savedKey: SearchKey = { key: 'UID', set: saved };
      if (key.set.ranges.length === 0) return savedKey;
      return {
        key: 'OR',
        left: { key: 'SEQUENCE', set: { ranges: key.set.ranges, saved: false } },
        right: savedKey,
      };
    }
    case 'NOT':
      return { key: 'NOT', operand: withSaved(key.operand, saved) };
    case 'OR':
      return { key: 'OR', left: withSaved(key.left, saved), right: withSaved(key.right, saved) };
    case 'AND':
      return { key: 'AND', operands: key.operands.map((k) => withSaved(k, saved)) };
    default:
      return key;
  }
}

function usesModseq(key: SearchKey): boolean {
  switch (key.key) {
    case 'MODSEQ':
      return true;
    case 'NOT':
      return usesModseq(key.operand);
    case 'OR':
      return usesModseq(key.left) || usesModseq(key.right);
    case 'AND':
      return key.operands.some(usesModseq);
    default:
      return false;
  }
}

/** What SAVE keeps (RFC 5182 §2.4): MIN and/or MAX alone save only those. */
function savedResult(uids: readonly number[], options: readonly SearchReturnOption[]): number[] {
  const min = options.includes('MIN');
  const max = options.includes('MAX');
  if ((min || max) && !options.includes('ALL') && !options.includes('COUNT')) {
    const out: number[] = [];
    if (min && uids.length > 0) out.push(uids[0] as number);
    if (max && uids.length > 0) out.push(uids[uids.length - 1] as number);
    return [...new Set(out)];
  }
  return [...uids];
}

export const searchCommand: ImapCommandHandler<'SEARCH'> = {
  name: 'SEARCH',
  states: SELECTED,
  expungeSafe: (command) => command.uid,
  async run(ctx, command) {
    const { session } = ctx;
    const saving = command.returnOptions?.includes('SAVE') ?? false;
    let mailbox: SelectedMailbox | undefined;
    try {
      mailbox = await ctx.selected();
      if (command.charset !== null && !CHARSETS.includes(command.charset)) {
        throw new ImapError('NO', 'Unsupported charset', {
          code: 'BADCHARSET',
          charsets: CHARSETS,
        });
      }
      const saved = sequenceSetFromNumbers(mailbox.savedSearch);
      const criteria = command.criteria.map((k) => withSaved(k, saved));
      const modseq = criteria.some(usesModseq);
      if (modseq) session.enable('CONDSTORE');
      const { access, account } = ctx.user();
      const result = await ctx.server.mail.search(access, account, mailbox.id, criteria, {
        view: mailbox.view,
        ...mailbox.searchSources(),
      });
      const box = mailbox;
      const uids = result.uids.filter((uid) => box.summary(uid) !== undefined);
      // step: ascending either way (the view is in UID order)
      const numbers = command.uid ? uids : uids.map((uid) => box.seqOf(uid));
      ctx.note({ found: uids.length });
      const highest = modseq && result.highestModseq !== null ? result.highestModseq : undefined;
      let options = command.returnOptions;
      if (options === null && session.enabled.has('IMAP4rev2')) options = ['ALL'];
      if (options === null) {
        await ctx.send(searchResponse(numbers, highest));
        return;
      }
      if (options.length === 0) options = ['ALL'];
      if (saving) mailbox.savedSearch = savedResult(uids, options);
      if (options.length === 1 && saving) return;
      await ctx.send(
        esearchResponse({
          tag: ctx.tag,
          uid: command.uid,
          ...(options.includes('MIN') && numbers.length > 0 ? { min: numbers[0] } : {}),
          ...(options.includes('MAX') && numbers.length > 0
            ? { max: numbers[numbers.length - 1] }
            : {}),
          ...(options.includes('ALL') ? { all: sequenceSetFromNumbers(numbers) } : {}),
          ...(options.includes('COUNT') ? { count: numbers.length } : {}),
          ...(highest !== undefined && numbers.length > 0 ? { modSeq: highest } : {}),
        }),
      );
    } catch (err) {
      // step: a failed SAVE leaves the saved result empty (RFC 5182 §2.1)
      if (saving && mailbox !== undefined) mailbox.savedSearch = [];
      throw err;
    }
  },
};
