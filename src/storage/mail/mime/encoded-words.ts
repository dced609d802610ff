/**
 * RFC 2047 encoded words (`=?charset?B|Q?text?=`) decoded into a Unicode string. Whitespace
 * between adjacent encoded words is dropped (§6.2), and adjacent words in the same charset are
 * decoded together so a multi-byte character split across words survives. Words in unknown
 * charsets or with bad syntax are left as written.
 */

import { decodeCharset, isKnownCharset } from './charset.ts';
import { decodeBase64 } from './transfer-encoding.ts';

const WORD = /=\?([^?\s]+)\?([BbQq])\?([^?\s]*)\?=/g;

const ascii = new TextEncoder();

function qBytes(text: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (c === '_') out.push(0x20);
    else if (c === '=' && /^[0-9A-Fa-f]{2}$/.test(text.slice(i + 1, i + 3))) {
      out.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else out.push(c.charCodeAt(0) & 0xff);
  }
  return Uint8Array.from(out);
}

interface Word {
  readonly start: number;
  readonly end: number;
  readonly charset: string;
  readonly bytes: Uint8Array;
}

/** Decode every encoded word of an unfolded header value. */
export function decodeEncodedWords(value: string): string {
  if (!value.includes('=?')) return value;
  const words: Word[] = [];
  for (const m of value.matchAll(WORD)) {
    // RFC 2231 §5: charset*language.
    const charset = (m[1] ?? '').split('*')[0] ?? '';
    if (!isKnownCharset(charset)) continue;
    const text = m[3] ?? '';
    const bytes =
      (m[2] ?? '').toUpperCase() === 'B' ? decodeBase64(ascii.encode(text)) : qBytes(text);
    words.push({
      start: m.index,
      end: m.index + m[0].length,
      charset: charset.toLowerCase(),
      bytes,
    });
  }
  if (words.length === 0) return value;
  let out = '';
  let at = 0;
  let pending: { charset: string; chunks: Uint8Array[] } | undefined;
  const flush = (): void => {
    if (pending === undefined) return;
    out += decodeCharset(Buffer.concat(pending.chunks), pending.charset);
    pending = undefined;
  };
  for (const w of words) {
    const gap = value.slice(at, w.start);
    const adjacent = pending !== undefined && /^[ \t\r\n]*$/.test(gap);
    if (!adjacent) {
      flush();
      out += gap;
    } else if (pending !== undefined && pending.charset !== w.charset) {
      flush();
    }
    if (pending === undefined) pending = { charset: w.charset, chunks: [] };
    pending.chunks.push(w.bytes);
    at = w.end;
  }
  flush();
  return out + value.slice(at);
}
