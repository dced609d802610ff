/**
 * APPEND (RFC 9051 §6.3.12) with BINARY literal8 (RFC 3516 §4.4) and UTF8=ACCEPT's
 * UTF8 data item (RFC 6855 §4). One message per command (no MULTIAPPEND).
 *   append      = "APPEND" SP mailbox [SP flag-list] [SP date-time] SP append-data
 *   append-data = literal / literal8 / "UTF8" SP "(" literal8 ")"
 */

import { isStorableFlag, syntaxError } from '../args.ts';
import type { ArgReader, ImapDateTime } from '../args.ts';

export interface AppendCommand {
  readonly name: 'APPEND';
  readonly mailbox: string;
  readonly flags: readonly string[];
  readonly date: ImapDateTime | null;
  /** The message, bytes exactly as sent. */
  readonly message: Uint8Array;
  /** Sent as literal8: may contain NUL and unencoded binary parts. */
  readonly binary: boolean;
  /** Sent in the UTF8 (...) data item (RFC 6855). */
  readonly utf8: boolean;
}

export function parseAppend(r: ArgReader): AppendCommand {
  r.sp();
  const mailbox = r.mailbox();
  r.sp();
  let flags: string[] = [];
  let date: ImapDateTime | null = null;
  if (r.peek() === 0x28) {
    flags = r.flagList();
    if (!flags.every(isStorableFlag)) syntaxError('Invalid flag in APPEND');
    r.sp();
  }
  if (r.peek() === 0x22) {
    date = r.dateTime();
    r.sp();
  }
  let utf8 = false;
  let literal;
  if (r.tryKeyword('UTF8')) {
    utf8 = true;
    r.sp();
    r.expectByte(0x28, '(');
    literal = r.literal(true);
    if (!literal.binary) syntaxError('UTF8 data must be a literal8');
    r.expectByte(0x29, ')');
  } else {
    literal = r.literal(true);
  }
  if (r.trySp()) syntaxError('MULTIAPPEND is not supported');
  r.end();
  return {
    name: 'APPEND',
    mailbox,
    flags,
    date,
    message: literal.data,
    binary: literal.binary,
    utf8,
  };
}
