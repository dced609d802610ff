/**
 * ENVELOPE (RFC 9051 §7.5.2) from a parsed header block. Values are the raw unfolded header
 * text (encoded words are not decoded, as Dovecot and the RFC examples do; clients decode
 * them); an absent field is null, an empty Subject is "" and an empty address list null.
 * Duplicate fields: the first one counts.
 */

import type { Envelope, EnvelopeAddressEntry } from '../../../protocols/imap/compose/envelope.ts';
import { parseAddressList } from './address-list.ts';
import { headerValue } from './header-block.ts';
import type { HeaderField } from './header-block.ts';

function addresses(
  fields: readonly HeaderField[],
  name: string,
): readonly EnvelopeAddressEntry[] | null {
  const value = headerValue(fields, name);
  if (value === null) return null;
  const list = parseAddressList(value);
  return list.length > 0 ? list : null;
}

function nonEmpty(value: string | null): string | null {
  return value === null || value === '' ? null : value;
}

export function buildEnvelope(fields: readonly HeaderField[]): Envelope {
  return {
    date: nonEmpty(headerValue(fields, 'date')),
    subject: headerValue(fields, 'subject'),
    from: addresses(fields, 'from'),
    sender: addresses(fields, 'sender'),
    replyTo: addresses(fields, 'reply-to'),
    to: addresses(fields, 'to'),
    cc: addresses(fields, 'cc'),
    bcc: addresses(fields, 'bcc'),
    inReplyTo: nonEmpty(headerValue(fields, 'in-reply-to')),
    messageId: nonEmpty(headerValue(fields, 'message-id')),
  };
}
