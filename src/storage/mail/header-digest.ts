/**
 * What SEARCH and threading need from the top-level header, computed once at append:
 * decoded address and subject text (RFC 2047), the sent date, and the message ids that link
 * a message to its thread (RFC 5322 §3.6.4 Message-ID, In-Reply-To, References).
 */

import type { HeaderField } from './mime/header-block.ts';
import { headerValue, headerValues } from './mime/header-block.ts';
import { decodeEncodedWords } from './mime/encoded-words.ts';
import { parseMessageDate } from './mime/message-date.ts';
import type { HeaderDigest } from './mail-types.ts';

const MAX_REFERENCES = 100;
const MAX_ID = 250;

function decoded(fields: readonly HeaderField[], name: string): string {
  return headerValues(fields, name).map(decodeEncodedWords).join(', ');
}

export function headerDigest(fields: readonly HeaderField[]): HeaderDigest {
  const date = parseMessageDate(headerValue(fields, 'date'));
  const pad = (n: number, width: number) => String(n).padStart(width, '0');
  return {
    from: decoded(fields, 'from'),
    to: decoded(fields, 'to'),
    cc: decoded(fields, 'cc'),
    bcc: decoded(fields, 'bcc'),
    subject: decoded(fields, 'subject'),
    sentDate:
      date === null ? null : `${pad(date.year, 4)}-${pad(date.month, 2)}-${pad(date.day, 2)}`,
  };
}

/** `<id>` tokens of a header value (without brackets), in order. */
function messageIds(value: string | null): string[] {
  if (value === null) return [];
  const ids = [...value.matchAll(/<([^<>\s]+)>/g)].map((m) => m[1] as string);
  return ids.filter((id) => id.length <= MAX_ID);
}

export interface ThreadLinks {
  /** This message's id, or null. */
  readonly messageId: string | null;
  /** Ids it refers to: References (root first), then In-Reply-To. */
  readonly references: readonly string[];
}

export function threadLinks(fields: readonly HeaderField[]): ThreadLinks {
  const own = messageIds(headerValue(fields, 'message-id'))[0] ?? null;
  let refs = messageIds(headerValue(fields, 'references'));
  if (refs.length > MAX_REFERENCES)
    refs = [refs[0] as string, ...refs.slice(-(MAX_REFERENCES - 1))];
  const all = [...refs, ...messageIds(headerValue(fields, 'in-reply-to'))];
  return { messageId: own, references: [...new Set(all)].filter((id) => id !== own) };
}
