/**
 * A header block (RFC 5322 §2.2) split into fields, byte-exact: each field keeps the offsets
 * of its raw lines (continuations and line endings included) so HEADER.FIELDS can be served
 * from the original bytes, and an unfolded value (§2.2.3: CR and LF removed, leading
 * whitespace after the colon dropped) for everything that reads values.
 */

import { decodeLenient } from './charset.ts';

export interface HeaderField {
  /**
   * Field name as written (without trailing whitespace). A line that is not a field (no
   * colon, or a name with spaces) gets the whole line as name and an empty value.
   */
  readonly name: string;
  /** Unfolded value: UTF-8 when valid, else windows-1252. */
  readonly value: string;
  /** Offsets of the raw field in the parsed bytes: start of the name, end after its EOL. */
  readonly start: number;
  readonly end: number;
}

const FIELD_NAME = /^[\x21-\x39\x3b-\x7e]+$/;

/** Index of the byte after the next LF at or after `from` (or `bytes.length`). */
function lineEnd(bytes: Uint8Array, from: number): number {
  const lf = bytes.indexOf(0x0a, from);
  return lf < 0 ? bytes.length : lf + 1;
}

function isBlankLine(bytes: Uint8Array, start: number, end: number): boolean {
  const len = end - start;
  return (
    (len === 1 && bytes[start] === 0x0a) ||
    (len === 2 && bytes[start] === 0x0d && bytes[start + 1] === 0x0a)
  );
}

/** Remove CR and LF bytes (unfolding) and decode. */
function unfold(bytes: Uint8Array, start: number, end: number): string {
  const out = new Uint8Array(end - start);
  let n = 0;
  for (let i = start; i < end; i++) {
    const b = bytes[i] as number;
    if (b !== 0x0d && b !== 0x0a) out[n++] = b;
  }
  return decodeLenient(out.subarray(0, n));
}

/**
 * Split a header block (which may end with its blank line, or not) into fields. Stops at the
 * first blank line. Never throws.
 */
export function parseHeaderBlock(bytes: Uint8Array): HeaderField[] {
  const fields: HeaderField[] = [];
  let pos = 0;
  while (pos < bytes.length) {
    const start = pos;
    let end = lineEnd(bytes, pos);
    if (isBlankLine(bytes, start, end)) break;
    // Continuation lines (starting with SP or HTAB) belong to this field.
    while (end < bytes.length && (bytes[end] === 0x20 || bytes[end] === 0x09)) {
      end = lineEnd(bytes, end);
    }
    const colon = bytes.indexOf(0x3a, start);
    const name =
      colon >= 0 && colon < end
        ? decodeLenient(bytes.subarray(start, colon)).replace(/[ \t]+$/, '')
        : '';
    if (colon >= 0 && colon < end && FIELD_NAME.test(name)) {
      let v = colon + 1;
      while (
        v < end &&
        (bytes[v] === 0x20 || bytes[v] === 0x09 || bytes[v] === 0x0d || bytes[v] === 0x0a)
      )
        v++;
      fields.push({ name, value: unfold(bytes, v, end), start, end });
    } else {
      fields.push({ name: unfold(bytes, start, end), value: '', start, end });
    }
    pos = end;
  }
  return fields;
}

/** The first field named `name` (case-insensitive), or undefined. */
export function headerField(fields: readonly HeaderField[], name: string): HeaderField | undefined {
  const lower = name.toLowerCase();
  return fields.find((f) => f.name.toLowerCase() === lower);
}

/** The unfolded value of the first field named `name`, or null when absent. */
export function headerValue(fields: readonly HeaderField[], name: string): string | null {
  return headerField(fields, name)?.value ?? null;
}

/** Every value of the fields named `name`, in order. */
export function headerValues(fields: readonly HeaderField[], name: string): string[] {
  const lower = name.toLowerCase();
  return fields.filter((f) => f.name.toLowerCase() === lower).map((f) => f.value);
}
