/**
 * Content-Transfer-Encoding decoders (RFC 2045 §6.7 quoted-printable, §6.8 base64), lenient
 * as readers must be: invalid input is passed through or skipped, never thrown.
 */

const HEX = /^[0-9A-Fa-f]{2}$/;

/** Decode base64, ignoring characters outside the alphabet and stopping at padding. */
export function decodeBase64(data: Uint8Array): Uint8Array {
  const clean = new Uint8Array(data.length);
  let n = 0;
  for (const b of data) {
    const ok =
      (b >= 0x41 && b <= 0x5a) ||
      (b >= 0x61 && b <= 0x7a) ||
      (b >= 0x30 && b <= 0x39) ||
      b === 0x2b ||
      b === 0x2f;
    if (ok) clean[n++] = b;
  }
  const text = Buffer.from(clean.buffer, clean.byteOffset, n).toString('latin1');
  return new Uint8Array(Buffer.from(text, 'base64'));
}

/** Decode quoted-printable: `=XX` escapes and `=` soft line breaks; bad escapes kept as is. */
export function decodeQuotedPrintable(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length);
  let n = 0;
  let i = 0;
  while (i < data.length) {
    const b = data[i] as number;
    if (b !== 0x3d) {
      out[n++] = b;
      i++;
      continue;
    }
    // Soft line break: "=" then optional whitespace then CRLF or LF.
    let j = i + 1;
    while (j < data.length && (data[j] === 0x20 || data[j] === 0x09)) j++;
    if (j < data.length && data[j] === 0x0d && data[j + 1] === 0x0a) {
      i = j + 2;
      continue;
    }
    if (j < data.length && data[j] === 0x0a) {
      i = j + 1;
      continue;
    }
    if (j >= data.length) {
      i = j;
      continue;
    }
    const hex = String.fromCharCode(data[i + 1] ?? 0, data[i + 2] ?? 0);
    if (HEX.test(hex)) {
      out[n++] = parseInt(hex, 16);
      i += 3;
    } else {
      out[n++] = b;
      i++;
    }
  }
  return out.subarray(0, n);
}

/** Decode a body by its Content-Transfer-Encoding (7bit, 8bit, binary and unknown: as is). */
export function decodeTransfer(data: Uint8Array, encoding: string): Uint8Array {
  switch (encoding.trim().toLowerCase()) {
    case 'base64':
      return decodeBase64(data);
    case 'quoted-printable':
      return decodeQuotedPrintable(data);
    default:
      return data;
  }
}
