/**
 * FETCH (RFC 9051 §6.4.5) and UID FETCH with every data item (see fetch-items.ts), the
 * CHANGEDSINCE modifier (CONDSTORE, RFC 7162 §3.1.4.1) and VANISHED (QRESYNC, §3.2.6).
 *
 * The index entries the session keeps answer FLAGS, UID, sizes, dates, MODSEQ and object ids
 * without a store read; the EmailRecords (ENVELOPE, BODYSTRUCTURE, section offsets) are read
 * in batches. Responses are streamed as they are made. Fetching a body section without PEEK
 * sets \Seen (not in a read-only mailbox) and the response then carries the new FLAGS.
 * Messages expunged elsewhere but not yet announced are skipped.
 */

import type { EmailRecord } from '../../../storage/mail/mail-types.ts';
import { writeFetchResponse } from '../compose/fetch-response.ts';
import { ResponseWriter } from '../compose/response-writer.ts';
import { vanishedResponse } from '../compose/vanished-response.ts';
import { fetchItems, needsRecord, setsSeen } from '../fetch-items.ts';
import { ImapError } from '../imap-error.ts';
import {
  MAX_NZ_NUMBER,
  sequenceSetContains,
  sequenceSetFromNumbers,
} from '../parser/sequence-set.ts';
import { SELECTED } from './command.ts';
import type { ImapCommandHandler } from './command.ts';

/** Messages whose records are read together. */
const BATCH = 100;
/** Response bytes composed before they are handed to the output. */
const OUTPUT_CHUNK = 32 * 1024;

export const fetchCommand: ImapCommandHandler<'FETCH'> = {
  name: 'FETCH',
  states: SELECTED,
  expungeSafe: (command) => command.uid,
  async run(ctx, command) {
    const mailbox = await ctx.selected();
    const { session } = ctx;
    const { access, account } = ctx.user();
    const { mail } = ctx.server;
    const changedSince = command.changedSince;
    if (changedSince !== null || command.items.some((i) => i.item === 'MODSEQ')) {
      session.enable('CONDSTORE');
    }
    if (command.vanished && !session.enabled.has('QRESYNC')) {
      throw new ImapError('BAD', 'QRESYNC is not enabled');
    }
    let uids = mailbox.resolve(command.sequence, command.uid);
    if (changedSince !== null) {
      if (command.vanished) {
        const changes = await mail.changesSince(access, account, mailbox.id, changedSince);
        const gone = changes.vanished.filter((uid) =>
          sequenceSetContains(command.sequence, uid, MAX_NZ_NUMBER),
        );
        await ctx.send(vanishedResponse(sequenceSetFromNumbers(gone), true));
      }
      uids = uids.filter((uid) => (mailbox.summary(uid)?.modseq ?? 0n) > changedSince);
    }
    ctx.note({ count: uids.length });
    const plan = { items: command.items, uid: command.uid, modseq: changedSince !== null };
    const withRecord = command.items.some(needsRecord);
    const marksSeen = !mailbox.readOnly && command.items.some(setsSeen);
    for (let i = 0; i < uids.length; i += BATCH) {
      const batch = uids.slice(i, i + BATCH);
      const records = withRecord ? await mailbox.records(batch) : new Map<number, EmailRecord>();
      // step: \Seen for the whole batch in one commit, before the responses carry FLAGS
      const seenNow = new Set<number>();
      if (marksSeen) {
        const unseen = batch.filter(
          (uid) => mailbox.summary(uid)?.flags.includes('\\Seen') === false,
        );
        if (unseen.length > 0) {
          const result = await mail.store(access, account, mailbox.id, unseen, {
            op: 'add',
            flags: ['\\Seen'],
          });
          mailbox.applyStored(result.changed);
          for (const s of result.changed) seenNow.add(s.uid);
        }
      }
      // step: the batch's responses share one writer, handed on every OUTPUT_CHUNK bytes
      const w = new ResponseWriter(session.compose);
      try {
        for (const uid of batch) {
          const summary = mailbox.summary(uid);
          const record = records.get(uid);
          if (summary === undefined || (withRecord && record === undefined)) continue;
          const items = await fetchItems(
            { ctx, mailboxId: mailbox.id, summary, record },
            plan,
            seenNow.has(uid),
          );
          if (items.some((item) => item.item === 'FLAGS')) mailbox.flagsAnnounced(uid);
          writeFetchResponse(w, mailbox.seqOf(uid), items);
          if (w.length >= OUTPUT_CHUNK) await ctx.send(w.parts());
        }
      } finally {
        await ctx.send(w.parts());
      }
    }
  },
};
