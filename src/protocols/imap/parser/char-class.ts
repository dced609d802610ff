/**
 * Byte classes of the IMAP formal syntax (RFC 9051 §9, RFC 3501 §9), as a lookup table so the
 * reader and the tokenizer test a byte with one AND.
 *
 *   atom-specials = "(" / ")" / "{" / SP / CTL / list-wildcards / quoted-specials / resp-specials
 *   ATOM-CHAR     = <any CHAR except atom-specials>
 *   ASTRING-CHAR  = ATOM-CHAR / resp-specials
 *   list-char     = ATOM-CHAR / list-wildcards / resp-specials
 *   tag           = 1*<any ASTRING-CHAR except "+">
 */

export const ATOM = 1;
export const ASTRING = 2;
export const LIST = 4;
export const TAG = 8;

function buildTable(): Uint8Array {
  const table = new Uint8Array(256);
  for (let b = 0x21; b < 0x7f; b++) {
    const ch = String.fromCharCode(b);
    const atom = !'(){%*"\\]'.includes(ch);
    let bits = 0;
    if (atom) bits |= ATOM | ASTRING | LIST;
    if (ch === ']') bits |= ASTRING | LIST;
    if (ch === '%' || ch === '*') bits |= LIST;
    if ((bits & ASTRING) !== 0 && ch !== '+') bits |= TAG;
    table[b] = bits;
  }
  return table;
}

/** Class bits per byte value. */
export const CHAR_CLASS: Uint8Array = buildTable();

/** Whether byte `b` has every bit in `mask`. */
export function isClass(b: number, mask: number): boolean {
  return ((CHAR_CLASS[b] ?? 0) & mask) === mask;
}

/** Whether every byte of `s` (ASCII) is in class `mask`, and `s` is not empty. */
export function isAllClass(s: string, mask: number): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) if (!isClass(s.charCodeAt(i), mask)) return false;
  return true;
}

/** Make client-influenced text safe for a status response: printable ASCII only, bounded. */
export function safeText(text: string, max = 200): string {
  let out = '';
  for (const ch of text) {
    const c = ch.codePointAt(0) ?? 0;
    out += c >= 0x20 && c < 0x7f ? ch : '?';
    if (out.length >= max) break;
  }
  return out.length > 0 ? out : 'Error';
}
