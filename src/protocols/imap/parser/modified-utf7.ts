/**
 * Modified UTF-7 mailbox names (RFC 3501 §5.1.3, kept by RFC 9051 §5.1.3 for IMAP4rev1
 * clients). Printable US-ASCII except "&" stands for itself; "&" is "&-"; everything else is
 * UTF-16BE in modified BASE64 (RFC 2045 alphabet with "," for "/", no padding) between "&"
 * and "-".
 */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,';

function buildIndex(): Int8Array {
  const index = new Int8Array(128).fill(-1);
  for (let i = 0; i < ALPHABET.length; i++) index[ALPHABET.charCodeAt(i)] = i;
  return index;
}

const INDEX = buildIndex();

function encodeUnits(units: readonly number[]): string {
  let out = '';
  let bits = 0;
  let nbits = 0;
  for (const unit of units) {
    for (const byte of [unit >> 8, unit & 0xff]) {
      bits = (bits << 8) | byte;
      nbits += 8;
      while (nbits >= 6) {
        nbits -= 6;
        out += ALPHABET[(bits >> nbits) & 0x3f];
      }
      bits &= (1 << nbits) - 1;
    }
  }
  if (nbits > 0) out += ALPHABET[(bits << (6 - nbits)) & 0x3f];
  return out;
}

/** Encode a Unicode mailbox name to modified UTF-7. */
export function encodeModifiedUtf7(name: string): string {
  let out = '';
  let pending: number[] = [];
  const flush = (): void => {
    if (pending.length > 0) out += '&' + encodeUnits(pending) + '-';
    pending = [];
  };
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c >= 0x20 && c <= 0x7e) {
      flush();
      out += c === 0x26 ? '&-' : name[i];
    } else {
      pending.push(c);
    }
  }
  flush();
  return out;
}

/** Decode one shifted run (between "&" and "-"); undefined when it is not canonical. */
function decodeRun(run: string): string | undefined {
  let bits = 0;
  let nbits = 0;
  const bytes: number[] = [];
  for (let i = 0; i < run.length; i++) {
    const c = run.charCodeAt(i);
    const v = c < 128 ? (INDEX[c] ?? -1) : -1;
    if (v < 0) return undefined;
    bits = ((bits << 6) | v) & 0xffff;
    nbits += 6;
    if (nbits >= 8) {
      nbits -= 8;
      bytes.push((bits >> nbits) & 0xff);
    }
  }
  // Leftover bits must be fewer than 6 and zero; the byte count even (UTF-16)
  if (nbits >= 6 || (bits & ((1 << nbits) - 1)) !== 0 || bytes.length % 2 !== 0) return undefined;
  let out = '';
  for (let i = 0; i < bytes.length; i += 2) {
    const unit = ((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0);
    // Printable ASCII must not be shifted
    if (unit >= 0x20 && unit <= 0x7e) return undefined;
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = ((bytes[i + 2] ?? 0) << 8) | (bytes[i + 3] ?? 0);
      if (i + 3 >= bytes.length || next < 0xdc00 || next > 0xdfff) return undefined;
      out += String.fromCharCode(unit, next);
      i += 2;
      continue;
    }
    if (unit >= 0xdc00 && unit <= 0xdfff) return undefined;
    out += String.fromCharCode(unit);
  }
  return out;
}

/**
 * Decode a modified UTF-7 mailbox name. Returns undefined when `name` is not valid modified
 * UTF-7 (8-bit or control characters, bad base64, unterminated or non-canonical shifts,
 * unpaired surrogates).
 */
export function decodeModifiedUtf7(name: string): string | undefined {
  let out = '';
  let i = 0;
  while (i < name.length) {
    const c = name.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) return undefined;
    if (c !== 0x26) {
      out += name[i];
      i++;
      continue;
    }
    const end = name.indexOf('-', i + 1);
    if (end < 0) return undefined;
    if (end === i + 1) {
      out += '&';
    } else {
      const decoded = decodeRun(name.slice(i + 1, end));
      if (decoded === undefined || decoded.length === 0) return undefined;
      out += decoded;
    }
    i = end + 1;
  }
  return out;
}
