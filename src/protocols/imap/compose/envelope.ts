/**
 * ENVELOPE (RFC 9051 §7.5.2, RFC 3501 §7.4.2): the typed structure a MIME indexer fills at
 * append/delivery, and its serialisation:
 *   envelope = "(" env-date SP env-subject SP env-from SP env-sender SP env-reply-to SP
 *              env-to SP env-cc SP env-bcc SP env-in-reply-to SP env-message-id ")"
 *   address  = "(" addr-name SP addr-adl SP addr-mailbox SP addr-host ")"
 * A group is written as (NIL NIL "name" NIL), its members, then (NIL NIL NIL NIL).
 */

import { ResponseWriter } from './response-writer.ts';
import type { ComposeOptions } from './response-writer.ts';

export interface EnvelopeAddress {
  /** Display name (decoded or raw header text); null when absent. */
  readonly name: string | null;
  /** Local part. */
  readonly mailbox: string | null;
  /** Domain. */
  readonly host: string | null;
}

export interface EnvelopeGroup {
  readonly group: string;
  readonly members: readonly EnvelopeAddress[];
}

export type EnvelopeAddressEntry = EnvelopeAddress | EnvelopeGroup;

/** Header values of one message; null where the header is absent or empty. */
export interface Envelope {
  readonly date: string | null;
  readonly subject: string | null;
  readonly from: readonly EnvelopeAddressEntry[] | null;
  /** Defaults to `from` on the wire when null (§7.5.2). */
  readonly sender: readonly EnvelopeAddressEntry[] | null;
  /** Defaults to `from` on the wire when null (§7.5.2). */
  readonly replyTo: readonly EnvelopeAddressEntry[] | null;
  readonly to: readonly EnvelopeAddressEntry[] | null;
  readonly cc: readonly EnvelopeAddressEntry[] | null;
  readonly bcc: readonly EnvelopeAddressEntry[] | null;
  readonly inReplyTo: string | null;
  readonly messageId: string | null;
}

function writeAddress(w: ResponseWriter, a: EnvelopeAddress): void {
  w.raw('(').nstring(a.name).raw(' NIL ').nstring(a.mailbox).sp().nstring(a.host).raw(')');
}

function writeAddresses(w: ResponseWriter, list: readonly EnvelopeAddressEntry[] | null): void {
  if (list === null || list.length === 0) {
    w.nil();
    return;
  }
  w.raw('(');
  for (const entry of list) {
    if ('group' in entry) {
      w.raw('(NIL NIL ').string(entry.group).raw(' NIL)');
      for (const member of entry.members) writeAddress(w, member);
      w.raw('(NIL NIL NIL NIL)');
    } else {
      writeAddress(w, entry);
    }
  }
  w.raw(')');
}

/** Write `envelope` as the parenthesised ENVELOPE structure. */
export function writeEnvelope(w: ResponseWriter, envelope: Envelope): void {
  const from = envelope.from !== null && envelope.from.length > 0 ? envelope.from : null;
  const sender = envelope.sender !== null && envelope.sender.length > 0 ? envelope.sender : from;
  const replyTo =
    envelope.replyTo !== null && envelope.replyTo.length > 0 ? envelope.replyTo : from;
  w.raw('(').nstring(envelope.date).sp().nstring(envelope.subject).sp();
  writeAddresses(w, from);
  w.sp();
  writeAddresses(w, sender);
  w.sp();
  writeAddresses(w, replyTo);
  w.sp();
  writeAddresses(w, envelope.to);
  w.sp();
  writeAddresses(w, envelope.cc);
  w.sp();
  writeAddresses(w, envelope.bcc);
  w.sp().nstring(envelope.inReplyTo).sp().nstring(envelope.messageId).raw(')');
}

/**
 * The envelope as encoded response text, when it needs no literal (then it can be kept and
 * written again as is, ResponseWriter.rawBytes); undefined when a value must be a literal.
 */
export function renderEnvelope(
  envelope: Envelope,
  options: ComposeOptions,
): Uint8Array | undefined {
  const w = new ResponseWriter(options);
  writeEnvelope(w, envelope);
  const text = w.pendingText();
  return text === undefined ? undefined : new TextEncoder().encode(text);
}
