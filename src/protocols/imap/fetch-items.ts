/**
 * The data items of one FETCH response (RFC 9051 §6.4.5, §7.5.2; BINARY RFC 3516; MODSEQ
 * RFC 7162 §3.1.4; EMAILID/THREADID RFC 8474 §5) from a message's index entry and its
 * EmailRecord. Body sections are byte ranges of the stored message (mime-part.ts
 * sectionRange) of the blob the record names, read (small, through the server's BlobCache) or
 * streamed (large) from the blob store when written; HEADER.FIELDS and BINARY decoding read
 * their range into memory. A section that does not exist is an empty string,
 * as Dovecot answers it.
 */

import type { Readable } from 'node:stream';
import type { EmailRecord, MessageSummary } from '../../storage/mail/mail-types.ts';
import { selectHeaderFields } from '../../storage/mail/mime/header-fields.ts';
import { resolveBody, sectionRange } from '../../storage/mail/mime/mime-part.ts';
import type { SectionRange } from '../../storage/mail/mime/mime-part.ts';
import { decodeTransfer } from '../../storage/mail/mime/transfer-encoding.ts';
import type { CommandContext } from './commands/command.ts';
import type { FetchResponseItem } from './compose/fetch-response.ts';
import type { Bytes } from './compose/response-writer.ts';
import { ImapError } from './imap-error.ts';
import type { FetchItem, FetchPartial, FetchSection } from './parser/commands/fetch.ts';

const EMPTY = new Uint8Array(0);
const IDENTITY_ENCODINGS = ['7bit', '8bit', 'binary'];
const DECODED_ENCODINGS = ['base64', 'quoted-printable'];

/** What the items of one message are made from. */
export interface FetchSource {
  readonly ctx: CommandContext;
  readonly mailboxId: number;
  readonly summary: MessageSummary;
  /** Present when an item needs the EmailRecord (see needsRecord). */
  readonly record: EmailRecord | undefined;
}

export interface FetchPlan {
  readonly items: readonly FetchItem[];
  /** UID FETCH: UID comes first in every response (RFC 9051 §6.4.9). */
  readonly uid: boolean;
  /** MODSEQ implied by CHANGEDSINCE (RFC 7162 §3.1.4.1). */
  readonly modseq: boolean;
}

/** Whether an item needs the EmailRecord (structure or bytes), not only the index entry. */
export function needsRecord(item: FetchItem): boolean {
  switch (item.item) {
    case 'UID':
    case 'FLAGS':
    case 'INTERNALDATE':
    case 'RFC822.SIZE':
    case 'MODSEQ':
    case 'EMAILID':
    case 'THREADID':
      return false;
    default:
      return true;
  }
}

/** Whether an item sets \Seen (RFC 9051 §6.4.5: BODY[] and BINARY[] without PEEK, RFC822, RFC822.TEXT). */
export function setsSeen(item: FetchItem): boolean {
  if (item.item === 'BODY[]' || item.item === 'BINARY[]') return !item.peek;
  return item.item === 'RFC822' || item.item === 'RFC822.TEXT';
}

function requireRecord(source: FetchSource): EmailRecord {
  if (source.record === undefined) throw new ImapError('NO', 'Message is gone', 'EXPUNGEISSUED');
  return source.record;
}

/** Sections up to this size are read in one piece when written; larger ones are streamed. */
const READ_WHOLE = 64 * 1024;

async function* streamOf(opening: Promise<Readable>): AsyncIterable<Uint8Array> {
  for await (const chunk of await opening) yield chunk as Uint8Array;
}

/** A range of the message in memory: from the server's blob cache when it is small. */
async function readRange(source: FetchSource, range: SectionRange): Promise<Uint8Array> {
  if (range.end <= range.start) return EMPTY;
  const { ctx, mailboxId } = source;
  const record = requireRecord(source);
  const { access, account } = ctx.user();
  const { mail, indexes } = ctx.server;
  if (record.size > indexes.blobs.maxItem) {
    return mail.readMessage(access, account, mailboxId, record, range);
  }
  let whole = indexes.blobs.get(record.blob);
  if (whole === undefined) {
    whole = await mail.readMessage(access, account, mailboxId, record);
    indexes.blobs.set(record.blob, whole);
  }
  return whole.subarray(range.start, range.end);
}

async function* bytesOf(source: FetchSource, range: SectionRange): AsyncIterable<Uint8Array> {
  yield await readRange(source, range);
}

/**
 * A byte range of the message, read from its blob at the range when written (the record
 * names the blob, so nothing else is read again).
 */
function lazyRange(source: FetchSource, start: number, end: number): Bytes {
  if (end <= start) return EMPTY;
  const { ctx, mailboxId } = source;
  const record = requireRecord(source);
  const { access, account } = ctx.user();
  const range = { start, end };
  return {
    size: end - start,
    open: () =>
      end - start <= READ_WHOLE
        ? bytesOf(source, range)
        : streamOf(ctx.server.mail.openMessage(access, account, mailboxId, record, range)),
  };
}

/** Narrow a section range to `<offset.length>`. */
function partialRange(range: SectionRange, partial: FetchPartial | null): SectionRange {
  if (partial === null) return range;
  const start = Math.min(range.end, range.start + partial.offset);
  return { start, end: Math.min(range.end, start + partial.length) };
}

function partialBytes(data: Uint8Array, partial: FetchPartial | null): Uint8Array {
  if (partial === null) return data;
  return data.subarray(
    Math.min(data.length, partial.offset),
    Math.min(data.length, partial.offset + partial.length),
  );
}

/** The whole message (BODY[], RFC822, BINARY[]). */
function wholeRange(record: EmailRecord): SectionRange {
  return { start: 0, end: record.size };
}

async function bodySection(
  source: FetchSource,
  section: FetchSection,
  partial: FetchPartial | null,
): Promise<Bytes> {
  const record = requireRecord(source);
  const { part, text } = section;
  if (text?.kind === 'HEADER.FIELDS' || text?.kind === 'HEADER.FIELDS.NOT') {
    const range = sectionRange(record.parts, part, 'HEADER');
    if (range === null) return EMPTY;
    const header = await readRange(source, range);
    const selected = selectHeaderFields(header, text.fields, text.kind === 'HEADER.FIELDS.NOT');
    return partialBytes(selected, partial);
  }
  const range =
    part.length === 0 && text === null
      ? wholeRange(record)
      : sectionRange(record.parts, part, text === null ? 'BODY' : text.kind);
  if (range === null) return EMPTY;
  const narrowed = partialRange(range, partial);
  return lazyRange(source, narrowed.start, narrowed.end);
}

/** A part's content with its transfer encoding undone (RFC 3516 §4.2). */
async function binaryPart(
  source: FetchSource,
  part: readonly number[],
): Promise<{ range: SectionRange; decoded?: Uint8Array } | null> {
  const record = requireRecord(source);
  if (part.length === 0) return { range: wholeRange(record) };
  const body = resolveBody(record.body, part);
  const range = sectionRange(record.parts, part, 'BODY');
  if (body === undefined || range === null) return null;
  if (body.kind === 'multipart') return { range };
  const encoding = body.encoding.trim().toLowerCase();
  if (IDENTITY_ENCODINGS.includes(encoding)) return { range };
  if (!DECODED_ENCODINGS.includes(encoding)) {
    throw new ImapError('NO', 'Unknown Content-Transfer-Encoding', 'UNKNOWN-CTE');
  }
  return { range, decoded: decodeTransfer(await readRange(source, range), encoding) };
}

/** The response items for one message, in request order (UID first for UID FETCH). */
export async function fetchItems(
  source: FetchSource,
  plan: FetchPlan,
  flagsChanged: boolean,
): Promise<FetchResponseItem[]> {
  const { summary } = source;
  const out: FetchResponseItem[] = [];
  let uid = false;
  let flags = false;
  let modseq = false;
  if (plan.uid) {
    out.push({ item: 'UID', uid: summary.uid });
    uid = true;
  }
  for (const item of plan.items) {
    switch (item.item) {
      case 'UID':
        if (!uid) out.push({ item: 'UID', uid: summary.uid });
        uid = true;
        break;
      case 'FLAGS':
        if (!flags) out.push({ item: 'FLAGS', flags: summary.flags });
        flags = true;
        break;
      case 'INTERNALDATE':
        out.push({
          item: 'INTERNALDATE',
          date: new Date(summary.internalDate),
          zone: summary.zone,
        });
        break;
      case 'RFC822.SIZE':
        out.push({ item: 'RFC822.SIZE', size: summary.size });
        break;
      case 'MODSEQ':
        if (!modseq) out.push({ item: 'MODSEQ', modSeq: summary.modseq });
        modseq = true;
        break;
      case 'EMAILID':
        out.push({ item: 'EMAILID', id: summary.emailId });
        break;
      case 'THREADID':
        out.push({ item: 'THREADID', id: summary.threadId });
        break;
      case 'ENVELOPE': {
        const { envelope } = requireRecord(source);
        const wire = source.ctx.server.indexes.envelopeWire(envelope, source.ctx.session.compose);
        out.push({ item: 'ENVELOPE', envelope, wire });
        break;
      }
      case 'BODY':
      case 'BODYSTRUCTURE':
        out.push({ item: item.item, body: requireRecord(source).body });
        break;
      case 'RFC822':
        out.push({
          item: 'RFC822',
          data: await bodySection(source, { part: [], text: null }, null),
        });
        break;
      case 'RFC822.HEADER':
        out.push({
          item: 'RFC822.HEADER',
          data: await bodySection(source, { part: [], text: { kind: 'HEADER' } }, null),
        });
        break;
      case 'RFC822.TEXT':
        out.push({
          item: 'RFC822.TEXT',
          data: await bodySection(source, { part: [], text: { kind: 'TEXT' } }, null),
        });
        break;
      case 'BODY[]':
        out.push({
          item: 'BODY[]',
          section: item.section,
          origin: item.partial?.offset ?? null,
          data: await bodySection(source, item.section, item.partial),
        });
        break;
      case 'BINARY[]': {
        const found = await binaryPart(source, item.part);
        let data: Bytes = EMPTY;
        if (found !== null) {
          data =
            found.decoded === undefined
              ? (() => {
                  const r = partialRange(found.range, item.partial);
                  return lazyRange(source, r.start, r.end);
                })()
              : partialBytes(found.decoded, item.partial);
        }
        out.push({ item: 'BINARY[]', part: item.part, origin: item.partial?.offset ?? null, data });
        break;
      }
      case 'BINARY.SIZE[]': {
        const found = await binaryPart(source, item.part);
        const size =
          found === null
            ? 0
            : (found.decoded?.length ?? Math.max(0, found.range.end - found.range.start));
        out.push({ item: 'BINARY.SIZE[]', part: item.part, size });
        break;
      }
    }
  }
  if (plan.modseq && !modseq) out.push({ item: 'MODSEQ', modSeq: summary.modseq });
  if (flagsChanged && !flags) out.push({ item: 'FLAGS', flags: summary.flags });
  return out;
}
