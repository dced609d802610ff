/**
 * Searchable text of a message (SEARCH BODY / TEXT, RFC 9051 §6.4.4): the decoded content of
 * its text/* parts, transfer encoding (RFC 2045 §6) and charset undone, with the headers of
 * encapsulated messages. Reads only the parts it needs, through `read`, and stops at
 * `maxChars`.
 */

import type { BodyStructure } from '../../../protocols/imap/compose/body-structure.ts';
import { decodeCharset } from './charset.ts';
import { paramValue } from './content-fields.ts';
import { decodeEncodedWords } from './encoded-words.ts';
import { parseHeaderBlock } from './header-block.ts';
import type { MimePart } from './mime-part.ts';
import { decodeTransfer } from './transfer-encoding.ts';

/** Reads bytes [start, end) of the message. */
export type RangeReader = (start: number, end: number) => Promise<Uint8Array>;

export const DEFAULT_MAX_TEXT_CHARS = 4 * 1024 * 1024;
/** Raw bytes of one part read at most. */
const MAX_PART_BYTES = 16 * 1024 * 1024;

/** Decoded header text: `Name: value` lines with encoded words decoded. */
export function headerText(header: Uint8Array): string {
  return parseHeaderBlock(header)
    .map((f) => `${f.name}: ${decodeEncodedWords(f.value)}`)
    .join('\n');
}

/** The decoded text of every text/* part (and encapsulated headers) under `body`. */
export async function extractBodyText(
  body: BodyStructure,
  parts: MimePart,
  read: RangeReader,
  maxChars = DEFAULT_MAX_TEXT_CHARS,
): Promise<string> {
  const out: string[] = [];
  let chars = 0;
  const visit = async (b: BodyStructure, p: MimePart, depth: number): Promise<void> => {
    if (chars >= maxChars || depth > 60) return;
    if (b.kind === 'multipart') {
      for (const [i, child] of b.parts.entries()) {
        const offsets = p.c?.[i];
        if (offsets !== undefined) await visit(child, offsets, depth + 1);
      }
      return;
    }
    if (b.message !== null && p.m !== undefined) {
      const header = headerText(await read(p.m.h, p.m.b));
      out.push(header);
      chars += header.length;
      await visit(b.message.body, p.m, depth + 1);
      return;
    }
    if (b.type.toLowerCase() !== 'text' || p.e <= p.b) return;
    const raw = await read(p.b, Math.min(p.e, p.b + MAX_PART_BYTES));
    const text = decodeCharset(decodeTransfer(raw, b.encoding), paramValue(b.params, 'charset'));
    out.push(text.slice(0, maxChars - chars));
    chars += text.length;
  };
  await visit(body, parts, 0);
  return out.join('\n');
}
