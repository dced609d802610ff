/**
 * BerReader: a bounded, pull-style decoder for the BER subset of RFC 4511 §5.1: definite
 * lengths only, single-octet identifiers, BOOLEAN, INTEGER, ENUMERATED, OCTET STRING, NULL,
 * SEQUENCE/SET and application/context tags, primitive or constructed.
 *
 * A reader covers a window [start, end) of one buffer. Reading a constructed element returns
 * a child reader over its content, one nesting level deeper; the child shares the buffer (no
 * copies). Every read is checked against the window, so a length that runs past the data, an
 * indefinite length, more than 4 length octets, an element longer than `maxLength`, nesting
 * deeper than `maxDepth` or an integer wider than a safe integer all throw BerError; nothing
 * else can escape (the fuzz test holds us to that).
 */

import { BerError } from './ber-error.ts';
import { BerTag, describeTag, isConstructed } from './ber-tag.ts';

export interface BerReaderOptions {
  /** Deepest allowed nesting of constructed elements (the top-level reader is depth 0). */
  readonly maxDepth?: number;
  /** Largest element length accepted, in bytes (a message-size cap). */
  readonly maxLength?: number;
}

export const DEFAULT_MAX_DEPTH = 32;
export const DEFAULT_MAX_LENGTH = 1024 * 1024;

/** One element header: its tag and where its content lies in the buffer. */
export interface BerElement {
  readonly tag: number;
  /** Offset of the identifier octet. */
  readonly start: number;
  /** Offset of the first content octet. */
  readonly contentStart: number;
  /** Offset just past the last content octet. */
  readonly end: number;
}

/** Result of parsing an element header at some offset. */
export type BerHeader =
  | {
      readonly kind: 'header';
      readonly tag: number;
      readonly headerLength: number;
      readonly length: number;
    }
  | { readonly kind: 'need-more' };

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
const lenientUtf8 = new TextDecoder('utf-8');

/**
 * Parse the identifier and length octets at `offset` of `buf` (up to `end`). Returns
 * need-more when the header itself is incomplete; throws BerError for headers that are
 * invalid whatever follows. Shared by the reader and the framer.
 */
export function readBerHeader(
  buf: Uint8Array,
  offset: number,
  end: number,
  maxLength: number,
): BerHeader {
  if (offset >= end) return { kind: 'need-more' };
  const tag = buf[offset] ?? 0;
  // step: single-octet identifiers only (tag numbers 0..30)
  if ((tag & 0x1f) === 0x1f) {
    throw new BerError('unsupported-tag', 'multi-octet BER identifiers are not supported', offset);
  }
  if (offset + 1 >= end) return { kind: 'need-more' };
  const first = buf[offset + 1] ?? 0;
  // step: short form
  if (first < 0x80) {
    if (first > maxLength) throw tooLarge(first, maxLength, offset);
    return { kind: 'header', tag, headerLength: 2, length: first };
  }
  if (first === 0x80) {
    throw new BerError('indefinite-length', 'indefinite lengths are not allowed', offset);
  }
  // step: long form, at most 4 length octets (X.690 §8.1.3.5; 0xff is reserved)
  const count = first & 0x7f;
  if (count > 4) {
    throw new BerError('length-too-long', `${count} length octets (at most 4)`, offset);
  }
  if (offset + 2 + count > end) return { kind: 'need-more' };
  let length = 0;
  for (let i = 0; i < count; i++) length = length * 256 + (buf[offset + 2 + i] ?? 0);
  if (length > maxLength) throw tooLarge(length, maxLength, offset);
  return { kind: 'header', tag, headerLength: 2 + count, length };
}

function tooLarge(length: number, max: number, offset: number): BerError {
  return new BerError(
    'too-large',
    `element of ${length} bytes exceeds the limit of ${max}`,
    offset,
  );
}

export class BerReader {
  readonly #buf: Uint8Array;
  readonly #maxDepth: number;
  readonly #maxLength: number;
  #pos: number;
  #end: number;
  #depth: number;

  /** A reader over all of `buf` at depth 0. */
  constructor(buf: Uint8Array, options: BerReaderOptions = {}) {
    this.#buf = buf;
    this.#pos = 0;
    this.#end = buf.length;
    this.#depth = 0;
    this.#maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
    this.#maxLength = options.maxLength ?? DEFAULT_MAX_LENGTH;
  }

  /** Current offset in the underlying buffer. */
  get offset(): number {
    return this.#pos;
  }

  /** Nesting depth of this reader (0 for the top level). */
  get depth(): number {
    return this.#depth;
  }

  /** Bytes left in this reader's window. */
  get remaining(): number {
    return this.#end - this.#pos;
  }

  /** True when every element of this window has been read. */
  atEnd(): boolean {
    return this.#pos >= this.#end;
  }

  /** Throw trailing-data unless the window is fully consumed. */
  expectEnd(what = 'structure'): void {
    if (this.#pos < this.#end) {
      throw new BerError('trailing-data', `unexpected data after the end of ${what}`, this.#pos);
    }
  }

  /** Tag of the next element, or undefined at the end of the window. */
  peekTag(): number | undefined {
    return this.#pos < this.#end ? this.#buf[this.#pos] : undefined;
  }

  /** Read the next element's header and skip past it; the content is left unread. */
  readElement(): BerElement {
    const start = this.#pos;
    const header = readBerHeader(this.#buf, start, this.#end, this.#maxLength);
    if (header.kind === 'need-more') {
      throw new BerError('truncated', 'element header runs past the end of the data', start);
    }
    const contentStart = start + header.headerLength;
    const end = contentStart + header.length;
    if (end > this.#end) {
      throw new BerError(
        'truncated',
        `element of ${header.length} bytes runs past the end of the data`,
        start,
      );
    }
    this.#pos = end;
    return { tag: header.tag, start, contentStart, end };
  }

  /** Read the next element and require `tag`. */
  #expect(tag: number, what: string): BerElement {
    const actual = this.peekTag();
    if (actual === undefined) {
      throw new BerError('truncated', `expected ${what} but the structure ended`, this.#pos);
    }
    if (actual !== tag) {
      throw new BerError(
        'unexpected-tag',
        `expected ${what} ${describeTag(tag)}, got ${describeTag(actual)}`,
        this.#pos,
      );
    }
    return this.readElement();
  }

  /** A reader over the content of a constructed element, one level deeper. */
  childOf(el: BerElement): BerReader {
    if (!isConstructed(el.tag)) {
      throw new BerError('unexpected-tag', `${describeTag(el.tag)} is not constructed`, el.start);
    }
    if (this.#depth + 1 > this.#maxDepth) {
      throw new BerError('too-deep', `nesting deeper than ${this.#maxDepth}`, el.start);
    }
    const child = new BerReader(this.#buf, {
      maxDepth: this.#maxDepth,
      maxLength: this.#maxLength,
    });
    child.#pos = el.contentStart;
    child.#end = el.end;
    child.#depth = this.#depth + 1;
    return child;
  }

  /** Read a constructed element with `tag` (SEQUENCE by default) and return its content. */
  readSequence(tag: number = BerTag.sequence, what = 'SEQUENCE'): BerReader {
    if (!isConstructed(tag)) {
      throw new BerError('writer-misuse', `${describeTag(tag)} is not a constructed tag`);
    }
    return this.childOf(this.#expect(tag, what));
  }

  /** The content octets of an element, as a view into the buffer (no copy). */
  contentOf(el: BerElement): Uint8Array {
    return this.#buf.subarray(el.contentStart, el.end);
  }

  /** The whole encoding of an element (header and content), as a view. */
  rawOf(el: BerElement): Uint8Array {
    return this.#buf.subarray(el.start, el.end);
  }

  /** BOOLEAN: exactly one content octet, any non-zero value is TRUE (X.690 §8.2). */
  readBoolean(tag: number = BerTag.boolean, what = 'BOOLEAN'): boolean {
    const el = this.#expect(tag, what);
    if (el.end - el.contentStart !== 1) {
      throw new BerError('invalid-value', `${what} must have one content octet`, el.start);
    }
    return this.#buf[el.contentStart] !== 0;
  }

  /** INTEGER as a safe JavaScript integer (two's complement, X.690 §8.3). */
  readInteger(tag: number = BerTag.integer, what = 'INTEGER'): number {
    return this.#integerOf(this.#expect(tag, what), what);
  }

  /** ENUMERATED (encoded like INTEGER). */
  readEnumerated(tag: number = BerTag.enumerated, what = 'ENUMERATED'): number {
    return this.#integerOf(this.#expect(tag, what), what);
  }

  /** An INTEGER constrained to 0..2^31-1 (RFC 4511 §4.1.1 MessageID, maxInt). */
  readUint31(tag: number = BerTag.integer, what = 'INTEGER'): number {
    const el = this.#expect(tag, what);
    const value = this.#integerOf(el, what);
    if (value < 0 || value > 0x7fffffff) {
      throw new BerError('invalid-value', `${what} ${value} is outside 0..2147483647`, el.start);
    }
    return value;
  }

  #integerOf(el: BerElement, what: string): number {
    const len = el.end - el.contentStart;
    if (len === 0) throw new BerError('invalid-value', `${what} has no content octets`, el.start);
    if (len > 8) throw new BerError('integer-too-wide', `${what} of ${len} octets`, el.start);
    const buf = this.#buf;
    const negative = (buf[el.contentStart] ?? 0) >= 0x80;
    let value: number;
    if (len <= 6) {
      // step: exact in double precision
      let v = 0;
      for (let i = el.contentStart; i < el.end; i++) v = v * 256 + (buf[i] ?? 0);
      value = negative ? v - 2 ** (8 * len) : v;
    } else {
      let v = 0n;
      for (let i = el.contentStart; i < el.end; i++) v = (v << 8n) | BigInt(buf[i] ?? 0);
      if (negative) v -= 1n << BigInt(8 * len);
      if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
        throw new BerError('integer-too-wide', `${what} is not a safe integer`, el.start);
      }
      value = Number(v);
    }
    return value;
  }

  /** OCTET STRING content as a fresh copy (so it does not pin the message buffer). */
  readOctetString(tag: number = BerTag.octetString, what = 'OCTET STRING'): Uint8Array {
    const el = this.#expect(tag, what);
    if (isConstructed(tag)) {
      throw new BerError('writer-misuse', `${describeTag(tag)} is not a primitive tag`);
    }
    // step: copy into a plain Uint8Array (Buffer#slice would return a view)
    return new Uint8Array(this.#buf.subarray(el.contentStart, el.end));
  }

  /** LDAPString: an OCTET STRING holding UTF-8; invalid UTF-8 is an error (RFC 4511 §4.1.2). */
  readString(tag: number = BerTag.octetString, what = 'LDAPString'): string {
    const el = this.#expect(tag, what);
    try {
      return strictUtf8.decode(this.#buf.subarray(el.contentStart, el.end));
    } catch {
      throw new BerError('invalid-utf8', `${what} is not valid UTF-8`, el.start);
    }
  }

  /** An OCTET STRING decoded as UTF-8 with U+FFFD for bad sequences (assertion values). */
  readLenientString(tag: number = BerTag.octetString, what = 'OCTET STRING'): string {
    const el = this.#expect(tag, what);
    return lenientUtf8.decode(this.#buf.subarray(el.contentStart, el.end));
  }

  /** NULL: no content octets. */
  readNull(tag: number = BerTag.null, what = 'NULL'): null {
    const el = this.#expect(tag, what);
    if (el.end !== el.contentStart) {
      throw new BerError('invalid-value', `${what} must be empty`, el.start);
    }
    return null;
  }

  /** Skip the next element whatever it is. */
  skip(): void {
    this.readElement();
  }
}
