/**
 * Header edits SMTP makes on a message in transit (RFC 5322 §2.2): prepend trace and result
 * fields, drop forged Authentication-Results that claim our authserv-id (RFC 8601 §5), read the
 * From addresses, and add the Message-ID and Date a submission lacks (RFC 6409 §8.3, §8.4).
 * The body is never touched, so DKIM body hashes stay valid.
 */

import { randomBytes } from 'node:crypto';
import { parseAddressList } from '../../storage/mail/mime/address-list.ts';
import { parseHeaderBlock } from '../../storage/mail/mime/header-block.ts';
import type { HeaderField } from '../../storage/mail/mime/header-block.ts';
import { rfc5322Date } from '../../storage/queue/dsn-report.ts';
import { prependInPlace } from './headroom.ts';

/** The header fields of a message. */
export function headerFields(message: Uint8Array): HeaderField[] {
  return parseHeaderBlock(message);
}

/** `lines` (each a complete field ending in CRLF) before the message. */
export function prependHeaders(lines: readonly string[], message: Uint8Array): Buffer {
  if (lines.length === 0)
    return Buffer.from(message.buffer, message.byteOffset, message.byteLength);
  const header = Buffer.from(lines.join(''), 'utf8');
  return (
    prependInPlace(header, message) ??
    Buffer.concat([header, Buffer.from(message.buffer, message.byteOffset, message.byteLength)])
  );
}

/** The message without the header fields `drop` selects. */
export function removeHeaders(
  message: Uint8Array,
  drop: (field: HeaderField) => boolean,
): Uint8Array {
  const fields = headerFields(message).filter(drop);
  if (fields.length === 0) return message;
  const parts: Uint8Array[] = [];
  let at = 0;
  for (const f of fields) {
    parts.push(message.subarray(at, f.start));
    at = f.end;
  }
  parts.push(message.subarray(at));
  return Buffer.concat(parts);
}

/**
 * Drop Authentication-Results fields whose authserv-id is `authservId` (any case): a sender
 * cannot pass results off as ours (RFC 8601 §5).
 */
export function removeForgedAuthResults(message: Uint8Array, authservId: string): Uint8Array {
  const ours = authservId.toLowerCase();
  return removeHeaders(message, (f) => {
    if (f.name.toLowerCase() !== 'authentication-results') return false;
    const id =
      f.value
        .replace(/\([^)]*\)/g, ' ')
        .trim()
        .split(/[\s;]/)[0] ?? '';
    return id.toLowerCase() === ours;
  });
}

/** The addresses of every From field, lower-cased `local@domain` (groups' members included). */
export function fromAddresses(fields: readonly HeaderField[]): string[] {
  const out: string[] = [];
  for (const f of fields) {
    if (f.name.toLowerCase() !== 'from') continue;
    for (const entry of parseAddressList(f.value)) {
      const members = 'group' in entry ? entry.members : [entry];
      for (const m of members) {
        if (m.mailbox !== null && m.host !== null) out.push(`${m.mailbox}@${m.host}`.toLowerCase());
      }
    }
  }
  return out;
}

/** Message-ID and Date fields for a submission that lacks them (RFC 6409 §8.3, §8.4). */
export function missingOriginFields(
  fields: readonly HeaderField[],
  hostname: string,
  now: Date,
): string[] {
  const has = (name: string): boolean => fields.some((f) => f.name.toLowerCase() === name);
  const out: string[] = [];
  if (!has('message-id'))
    out.push(`Message-ID: <${randomBytes(12).toString('hex')}@${hostname}>\r\n`);
  if (!has('date')) out.push(`Date: ${rfc5322Date(now)}\r\n`);
  return out;
}
