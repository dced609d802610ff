/**
 * BerWriter: an encoder for the BER subset of RFC 4511 §5.1, producing the DER-like form
 * (definite, minimal lengths; minimal integers; BOOLEAN TRUE as 0xff) that every LDAP peer
 * accepts.
 *
 * Bytes go into one growing buffer. A constructed element reserves a single length octet when
 * opened; when closed, its content is shifted right if the length needs the long form. So
 * encoding is one pass with no intermediate trees; `sequence(tag, fn)` keeps opens and closes
 * balanced.
 */

import { BerError } from './ber-error.ts';
import { BerTag, describeTag, isConstructed } from './ber-tag.ts';

const utf8 = new TextEncoder();

export class BerWriter {
  #buf: Uint8Array;
  #pos = 0;
  /** Offsets of the reserved length octet of each open constructed element. */
  readonly #open: number[] = [];

  constructor(initialSize = 256) {
    this.#buf = new Uint8Array(Math.max(16, initialSize));
  }

  /** Bytes written so far. */
  get length(): number {
    return this.#pos;
  }

  #ensure(extra: number): void {
    const need = this.#pos + extra;
    if (need <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < need) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#buf.subarray(0, this.#pos));
    this.#buf = next;
  }

  #byte(b: number): void {
    this.#ensure(1);
    this.#buf[this.#pos++] = b;
  }

  #length(len: number): void {
    if (len < 0x80) {
      this.#byte(len);
      return;
    }
    const n = lengthOctets(len);
    this.#ensure(1 + n);
    this.#buf[this.#pos++] = 0x80 | n;
    for (let i = n - 1; i >= 0; i--) this.#buf[this.#pos++] = Math.floor(len / 256 ** i) & 0xff;
  }

  #tag(tag: number): void {
    if (!Number.isInteger(tag) || tag < 0 || tag > 0xff || (tag & 0x1f) === 0x1f) {
      throw new BerError('writer-misuse', `invalid tag ${tag}`);
    }
    this.#byte(tag);
  }

  /** A primitive element with the given content octets. */
  writePrimitive(tag: number, content: Uint8Array): void {
    if (isConstructed(tag))
      throw new BerError('writer-misuse', `${describeTag(tag)} is constructed`);
    this.#tag(tag);
    this.#length(content.length);
    this.#ensure(content.length);
    this.#buf.set(content, this.#pos);
    this.#pos += content.length;
  }

  /** BOOLEAN: 0xff for TRUE, 0x00 for FALSE. */
  writeBoolean(value: boolean, tag: number = BerTag.boolean): void {
    this.#tag(tag);
    this.#byte(1);
    this.#byte(value ? 0xff : 0x00);
  }

  /** INTEGER in minimal two's complement; only safe integers. */
  writeInteger(value: number, tag: number = BerTag.integer): void {
    if (!Number.isSafeInteger(value)) {
      throw new BerError('writer-misuse', `${value} is not a safe integer`);
    }
    // step: collect octets little-endian until the sign bit is right
    const octets: number[] = [];
    let v = BigInt(value);
    do {
      octets.push(Number(v & 0xffn));
      v >>= 8n;
    } while (!(
      (v === 0n && ((octets.at(-1) ?? 0) & 0x80) === 0) ||
      (v === -1n && ((octets.at(-1) ?? 0) & 0x80) !== 0)
    ));
    this.#tag(tag);
    this.#byte(octets.length);
    for (let i = octets.length - 1; i >= 0; i--) this.#byte(octets[i] ?? 0);
  }

  /** ENUMERATED (encoded like INTEGER). */
  writeEnumerated(value: number, tag: number = BerTag.enumerated): void {
    this.writeInteger(value, tag);
  }

  /** OCTET STRING from bytes, or from a string as UTF-8. */
  writeOctetString(value: Uint8Array | string, tag: number = BerTag.octetString): void {
    this.writePrimitive(tag, typeof value === 'string' ? utf8.encode(value) : value);
  }

  /** NULL. */
  writeNull(tag: number = BerTag.null): void {
    this.#tag(tag);
    this.#byte(0);
  }

  /** Bytes that already are one or more complete BER elements. */
  writeRaw(bytes: Uint8Array): void {
    this.#ensure(bytes.length);
    this.#buf.set(bytes, this.#pos);
    this.#pos += bytes.length;
  }

  /** Open a constructed element; close it with endSequence(). */
  startSequence(tag: number = BerTag.sequence): void {
    if (!isConstructed(tag)) {
      throw new BerError('writer-misuse', `${describeTag(tag)} is not constructed`);
    }
    this.#tag(tag);
    this.#open.push(this.#pos);
    this.#byte(0);
  }

  /** Close the innermost open constructed element, fixing up its length. */
  endSequence(): void {
    const lenAt = this.#open.pop();
    if (lenAt === undefined)
      throw new BerError('writer-misuse', 'endSequence without startSequence');
    const contentStart = lenAt + 1;
    const len = this.#pos - contentStart;
    if (len < 0x80) {
      this.#buf[lenAt] = len;
      return;
    }
    // step: long form, shift the content right to make room for the length octets
    const n = lengthOctets(len);
    this.#ensure(n);
    this.#buf.copyWithin(contentStart + n, contentStart, this.#pos);
    this.#buf[lenAt] = 0x80 | n;
    for (let i = 0; i < n; i++) {
      this.#buf[lenAt + 1 + i] = Math.floor(len / 256 ** (n - 1 - i)) & 0xff;
    }
    this.#pos += n;
  }

  /** Write a constructed element whose content `fn` writes. */
  sequence(tag: number, fn: (w: BerWriter) => void): void {
    this.startSequence(tag);
    fn(this);
    this.endSequence();
  }

  /** The encoding so far, as a fresh array; every sequence must be closed. */
  toBytes(): Uint8Array {
    if (this.#open.length !== 0) {
      throw new BerError('writer-misuse', `${this.#open.length} sequence(s) left open`);
    }
    return this.#buf.slice(0, this.#pos);
  }
}

/** Number of octets needed for a long-form length (1..4). */
function lengthOctets(len: number): number {
  if (len > 0xffffffff) throw new BerError('writer-misuse', `length ${len} is too large`);
  return len <= 0xff ? 1 : len <= 0xffff ? 2 : len <= 0xffffff ? 3 : 4;
}
