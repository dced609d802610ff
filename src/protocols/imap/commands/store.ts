/**
 * STORE (RFC 9051 §6.4.6) and UID STORE with UNCHANGEDSINCE (CONDSTORE, RFC 7162 §3.1.3):
 * FLAGS replaces, +FLAGS adds, -FLAGS removes. Unless .SILENT, every message of the set gets
 * a FETCH with its flags (and UID, and MODSEQ once CONDSTORE is on); with .SILENT and
 * CONDSTORE the changed ones still get FETCH (UID MODSEQ). Messages refused by
 * UNCHANGEDSINCE are listed in OK [MODIFIED set]. NO in a read-only mailbox.
 */

import type { MessageSummary } from '../../../storage/mail/mail-types.ts';
import { fetchResponse } from '../compose/fetch-response.ts';
import type { FetchResponseItem } from '../compose/fetch-response.ts';
import type { WirePart } from '../compose/response-writer.ts';
import { ImapError } from '../imap-error.ts';
import { sequenceSetFromNumbers } from '../parser/sequence-set.ts';
import { SELECTED } from './command.ts';
import type { ImapCommandHandler } from './command.ts';

const OPERATIONS = { set: 'replace', add: 'add', remove: 'remove' } as const;

export const storeCommand: ImapCommandHandler<'STORE'> = {
  name: 'STORE',
  states: SELECTED,
  expungeSafe: (command) => command.uid,
  async run(ctx, command) {
    const mailbox = await ctx.selected();
    if (mailbox.readOnly) throw new ImapError('NO', 'Mailbox is read-only', 'READ-ONLY');
    const { session } = ctx;
    const uids = mailbox.resolve(command.sequence, command.uid);
    if (command.unchangedSince !== null) session.enable('CONDSTORE');
    ctx.note({ count: uids.length });
    if (uids.length === 0) return;
    const { access, account } = ctx.user();
    const result = await ctx.server.mail.store(access, account, mailbox.id, uids, {
      op: OPERATIONS[command.operation],
      flags: command.flags,
      ...(command.unchangedSince === null ? {} : { unchangedSince: command.unchangedSince }),
    });
    mailbox.applyStored(result.changed);
    const condstore = session.enabled.has('CONDSTORE');
    const changed = new Set(result.changed.map((m) => m.uid));
    const reported: MessageSummary[] = [...result.changed, ...result.unchanged].sort(
      (a, b) => a.uid - b.uid,
    );
    const parts: WirePart[] = mailbox.keywordUpdates();
    for (const s of reported) {
      const seq = mailbox.seqOf(s.uid);
      if (seq === 0) continue;
      const items: FetchResponseItem[] = [];
      if (command.uid || session.enabled.has('QRESYNC')) items.push({ item: 'UID', uid: s.uid });
      if (!command.silent) items.push({ item: 'FLAGS', flags: s.flags });
      else if (!condstore || !changed.has(s.uid)) continue;
      if (condstore) items.push({ item: 'MODSEQ', modSeq: s.modseq });
      parts.push(...fetchResponse(seq, items, session.compose));
    }
    await ctx.send(parts);
    if (result.modified.length === 0) return;
    const modified = command.uid ? result.modified : result.modified.map((u) => mailbox.seqOf(u));
    return {
      code: { code: 'MODIFIED', set: sequenceSetFromNumbers(modified.filter((n) => n > 0)) },
      text: 'Conditional STORE failed',
    };
  },
};
