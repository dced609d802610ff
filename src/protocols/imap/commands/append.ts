/**
 * APPEND (RFC 9051 §6.3.12) with UIDPLUS APPENDUID (RFC 4315 §3), APPENDLIMIT (RFC 7889:
 * a larger literal is refused with NO [TOOBIG] before it is read, see session.ts), BINARY
 * literal8 (RFC 3516 §4.4) and UTF8=ACCEPT's UTF8 data item (RFC 6855 §4). Bare LF line ends
 * become CRLF before the message is stored, so RFC822.SIZE is what clients expect; a missing
 * mailbox is NO [TRYCREATE].
 */

import { ImapError } from '../imap-error.ts';
import { sequenceSetFromNumbers } from '../parser/sequence-set.ts';
import { AUTHENTICATED } from './command.ts';
import type { ImapCommandHandler } from './command.ts';

const CR = 0x0d;
const LF = 0x0a;

/** `bytes` with every LF not preceded by CR turned into CRLF (the same bytes when none). */
export function toCrlf(bytes: Uint8Array): Uint8Array {
  let bare = 0;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === LF && (i === 0 || bytes[i - 1] !== CR)) bare++;
  }
  if (bare === 0) return bytes;
  const out = new Uint8Array(bytes.length + bare);
  let n = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i] as number;
    if (b === LF && (i === 0 || bytes[i - 1] !== CR)) out[n++] = CR;
    out[n++] = b;
  }
  return out;
}

export const appendCommand: ImapCommandHandler<'APPEND'> = {
  name: 'APPEND',
  states: AUTHENTICATED,
  async run(ctx, command) {
    const { access, account } = ctx.user();
    const { mail, settings } = ctx.server;
    const record = await mail.findMailbox(access, account, command.mailbox);
    if (record === undefined || record.noselect) {
      throw new ImapError('NO', 'Mailbox does not exist', 'TRYCREATE');
    }
    const message = toCrlf(command.message);
    ctx.note({ mailbox: record.name, size: message.length });
    if (message.length > settings.appendLimit) {
      throw new ImapError('NO', 'Message is larger than APPENDLIMIT', 'TOOBIG');
    }
    const result = await mail.append(access, account, record.id, message, {
      flags: command.flags,
      ...(command.date === null
        ? {}
        : { internalDate: command.date.date, zone: command.date.zone }),
    });
    return {
      code: {
        code: 'APPENDUID',
        uidValidity: result.uidValidity,
        uids: sequenceSetFromNumbers([result.uid]),
      },
      text: 'APPEND completed',
    };
  },
};
