/**
 * SELECT (RFC 9051 §6.3.2) and, through `openMailbox`, EXAMINE (§6.3.3): the untagged FLAGS,
 * PERMANENTFLAGS, EXISTS, (IMAP4rev1: RECENT, UNSEEN), UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ
 * (RFC 7162 §3.1.2.1), MAILBOXID (RFC 8474 §4) and, in IMAP4rev2, LIST; then the tagged OK
 * with READ-WRITE or READ-ONLY. Selecting another mailbox first closes the current one
 * ([CLOSED], RFC 9051 §7.1); a failed SELECT leaves none selected.
 *
 * QRESYNC (RFC 7162 §3.2.5): with a matching UIDVALIDITY, the UIDs expunged since the client's
 * modseq (restricted to its known UIDs) come as VANISHED (EARLIER) and the messages changed
 * since as FETCH (UID FLAGS MODSEQ). SELECT (CONDSTORE) enables CONDSTORE (§3.1.8).
 */

import { fetchResponse } from '../compose/fetch-response.ts';
import { listResponse } from '../compose/list-response.ts';
import { untaggedResponse } from '../compose/response-line.ts';
import type { WirePart } from '../compose/response-writer.ts';
import { existsResponse, flagsResponse, recentResponse } from '../compose/untagged-data.ts';
import { vanishedResponse } from '../compose/vanished-response.ts';
import { ImapError } from '../imap-error.ts';
import type { QresyncParams, SelectCommand } from '../parser/commands/select.ts';
import {
  MAX_NZ_NUMBER,
  sequenceSetContains,
  sequenceSetFromNumbers,
} from '../parser/sequence-set.ts';
import { SelectedMailbox, flagItems } from '../selected-mailbox.ts';
import { AUTHENTICATED } from './command.ts';
import type { CommandContext, CommandResult, ImapCommandHandler } from './command.ts';

/** QRESYNC: what changed since the client's modseq (RFC 7162 §3.2.5.2). */
async function resync(
  ctx: CommandContext,
  mailbox: SelectedMailbox,
  params: QresyncParams,
): Promise<void> {
  const { access, account } = ctx.user();
  const changes = await ctx.server.mail.changesSince(access, account, mailbox.id, params.modSeq);
  const known = params.knownUids;
  const vanished =
    known === null
      ? changes.vanished
      : changes.vanished.filter((uid) => sequenceSetContains(known, uid, MAX_NZ_NUMBER));
  await ctx.send(vanishedResponse(sequenceSetFromNumbers(vanished), true));
  const parts: WirePart[] = [];
  mailbox.view.forEach((uid, i) => {
    const s = mailbox.summary(uid);
    if (s !== undefined && s.modseq > params.modSeq) {
      parts.push(...fetchResponse(i + 1, flagItems(s, true), ctx.session.compose));
    }
  });
  await ctx.send(parts);
}

export async function openMailbox(
  ctx: CommandContext,
  command: SelectCommand,
  readOnly: boolean,
): Promise<CommandResult> {
  const { session, server } = ctx;
  const { access, account } = ctx.user();
  if (command.qresync !== null && !session.enabled.has('QRESYNC')) {
    throw new ImapError('BAD', 'QRESYNC is not enabled');
  }
  // step: the previous mailbox is closed for the client now, for the server once the new
  // one is open (so an index both use is not dropped and read again)
  if (session.state.kind === 'selected') {
    await ctx.send([untaggedResponse('OK', 'Previous mailbox closed', 'CLOSED')]);
  }
  if (command.condstore) session.enable('CONDSTORE');
  ctx.note({ mailbox: command.mailbox });
  let opened: Awaited<ReturnType<typeof SelectedMailbox.open>>;
  try {
    const record = await server.mail.findMailbox(access, account, command.mailbox);
    if (record === undefined || record.noselect) {
      throw new ImapError('NO', 'Mailbox does not exist', 'NONEXISTENT');
    }
    opened = await SelectedMailbox.open(
      { mail: server.mail, access, account },
      server.indexes,
      record,
      readOnly,
    );
  } catch (err) {
    session.unselect();
    throw err;
  }
  const { mailbox, uidNext } = opened;
  // step: nothing more of the previous mailbox is announced
  session.unselect();
  const rev2 = session.enabled.has('IMAP4rev2');
  const parts: WirePart[] = [
    ...flagsResponse(mailbox.flagList()),
    untaggedResponse('OK', 'Flags permitted', {
      code: 'PERMANENTFLAGS',
      flags: mailbox.permanentFlags(),
    }),
    ...existsResponse(mailbox.exists),
  ];
  if (!rev2) {
    parts.push(...recentResponse(0));
    const unseen = mailbox.firstUnseen();
    if (unseen > 0)
      parts.push(untaggedResponse('OK', 'First unseen', { code: 'UNSEEN', value: unseen }));
  }
  parts.push(
    untaggedResponse('OK', 'UIDs valid', { code: 'UIDVALIDITY', value: mailbox.uidValidity }),
    untaggedResponse('OK', 'Predicted next UID', { code: 'UIDNEXT', value: uidNext }),
    untaggedResponse('OK', 'Highest', { code: 'HIGHESTMODSEQ', value: mailbox.selectedModseq }),
    untaggedResponse('OK', 'Ok', { code: 'MAILBOXID', id: `M${String(mailbox.id)}` }),
  );
  if (rev2) {
    parts.push(
      ...listResponse({ name: mailbox.name, delimiter: '/', attributes: [] }, session.compose),
    );
  }
  await ctx.send(parts);
  const qresync = command.qresync;
  if (qresync !== null && qresync.uidValidity === mailbox.uidValidity) {
    await resync(ctx, mailbox, qresync);
  }
  session.select(mailbox);
  return {
    code: readOnly ? 'READ-ONLY' : 'READ-WRITE',
    text: `${command.name} completed`,
  };
}

export const selectCommand: ImapCommandHandler<'SELECT'> = {
  name: 'SELECT',
  states: AUTHENTICATED,
  run: (ctx, command) => openMailbox(ctx, command, false),
};
