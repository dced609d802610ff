/**
 * BODY[HEADER.FIELDS (...)] and BODY[HEADER.FIELDS.NOT (...)] (RFC 9051 §6.4.5): the subset
 * of a header block's raw field lines whose names are (not) in the list, in original order,
 * followed by the blank line. Field names compare case-insensitively; lines that are not
 * fields are kept by HEADER.FIELDS.NOT, as Dovecot does.
 */

import { parseHeaderBlock } from './header-block.ts';

const CRLF = Uint8Array.of(0x0d, 0x0a);

/** Select raw header fields of `header` (the bytes of a header block) by name. */
export function selectHeaderFields(
  header: Uint8Array,
  names: readonly string[],
  exclude: boolean,
): Uint8Array {
  const wanted = new Set(names.map((n) => n.toLowerCase()));
  const pieces: Uint8Array[] = [];
  const fields = parseHeaderBlock(header);
  for (const field of fields) {
    if (wanted.has(field.name.toLowerCase()) === exclude) continue;
    const raw = header.subarray(field.start, field.end);
    pieces.push(raw);
    // A last field cut off without its line ending still ends with one here.
    if (raw[raw.length - 1] !== 0x0a) pieces.push(CRLF);
  }
  // The blank line ends the result, except (as with Dovecot) when .NOT selected nothing
  // out of a header that had no blank line.
  const blank = header.length > (fields.at(-1)?.end ?? 0);
  if (!exclude || pieces.length > 0 || blank) pieces.push(CRLF);
  return new Uint8Array(Buffer.concat(pieces));
}
