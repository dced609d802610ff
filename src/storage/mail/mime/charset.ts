/**
 * Charset decoding for MIME text (RFC 2046 §4.1.2 charset parameter, RFC 2047 encoded words)
 * through the WHATWG TextDecoder that Node ships with full ICU. Unknown or unsupported
 * charsets fall back to UTF-8 when the bytes are valid UTF-8, else windows-1252, so decoding
 * never throws.
 */

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Decode `bytes` as UTF-8 when valid, else as windows-1252 (raw 8-bit header text). */
export function decodeLenient(bytes: Uint8Array): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return new TextDecoder('windows-1252').decode(bytes);
  }
}

/** A decoder for `charset`, or undefined when the label is unknown. */
function decoderFor(charset: string): ((bytes: Uint8Array) => string) | undefined {
  const label = charset.trim().toLowerCase();
  if (label === '' || label === 'unknown-8bit' || label === 'x-unknown') return undefined;
  try {
    const decoder = new TextDecoder(label);
    return (bytes) => decoder.decode(bytes);
  } catch {
    return undefined;
  }
}

/** Whether `charset` names a charset this process can decode. */
export function isKnownCharset(charset: string): boolean {
  return decoderFor(charset) !== undefined;
}

/** Decode `bytes` in `charset` (replacement characters for invalid sequences). */
export function decodeCharset(bytes: Uint8Array, charset: string | null | undefined): string {
  const decoder = charset === null || charset === undefined ? undefined : decoderFor(charset);
  return decoder === undefined ? decodeLenient(bytes) : decoder(bytes);
}
