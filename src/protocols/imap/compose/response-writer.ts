/**
 * Wire writer for server responses (RFC 9051 §4, §7). Builds a response as a list of parts:
 * text is UTF-8 encoded as it is flushed, and literal payloads are passed through by
 * reference (or as LazyBytes streamed later) so large bodies are never concatenated.
 *
 * String form (RFC 9051 §4.3, RFC 6855 §3): a quoted string unless the value has CR, LF or
 * NUL, or 8-bit bytes while UTF8=ACCEPT is not enabled (or bytes that are not UTF-8): then a
 * literal.
 */

import { CommuneError } from '../../../core/errors.ts';
import { ASTRING, isAllClass } from '../parser/char-class.ts';
import { encodeModifiedUtf7 } from '../parser/modified-utf7.ts';

/** Bytes produced later, e.g. a message body streamed from the blob store. */
export interface LazyBytes {
  /** Exact number of bytes `open()` yields (the literal announces it up front). */
  readonly size: number;
  open(): AsyncIterable<Uint8Array>;
}

export type Bytes = Uint8Array | LazyBytes;

/** One piece of output: write in order; LazyBytes are opened and piped. */
export type WirePart = Uint8Array | LazyBytes;

export interface ComposeOptions {
  /** UTF8=ACCEPT (RFC 6855) or IMAP4rev2 enabled: UTF-8 in quoted strings and mailbox names. */
  readonly utf8: boolean;
}

export const DEFAULT_COMPOSE_OPTIONS: ComposeOptions = { utf8: false };

const encoder = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

export function isLazyBytes(value: Bytes): value is LazyBytes {
  return !(value instanceof Uint8Array);
}

export function byteLength(value: Bytes): number {
  return value instanceof Uint8Array ? value.length : value.size;
}

/** Whether `value` must go out as a literal rather than a quoted string. */
export function needsLiteral(value: string | Uint8Array, utf8: boolean): boolean {
  if (typeof value === 'string') {
    for (let i = 0; i < value.length; i++) {
      const c = value.charCodeAt(i);
      if (c === 0x0d || c === 0x0a || c === 0) return true;
      if (c > 0x7f && !utf8) return true;
    }
    return false;
  }
  let eightBit = false;
  for (const b of value) {
    if (b === 0x0d || b === 0x0a || b === 0) return true;
    if (b > 0x7f) eightBit = true;
  }
  if (!eightBit) return false;
  if (!utf8) return true;
  try {
    strictUtf8.decode(value);
    return false;
  } catch {
    return true;
  }
}

function quote(text: string): string {
  return '"' + text.replace(/[\\"]/g, (c) => '\\' + c) + '"';
}

function latin1(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return s;
}

/** Accumulates one or more response lines. */
export class ResponseWriter {
  readonly options: ComposeOptions;
  private text = '';
  private readonly out: WirePart[] = [];
  /** Bytes in `out` (literals at their announced size). */
  private outBytes = 0;

  constructor(options: ComposeOptions = DEFAULT_COMPOSE_OPTIONS) {
    this.options = options;
  }

  /** Text written as-is (the caller guarantees it is valid here). */
  raw(text: string): this {
    this.text += text;
    return this;
  }

  sp(): this {
    this.text += ' ';
    return this;
  }

  crlf(): this {
    this.text += '\r\n';
    return this;
  }

  atom(atom: string): this {
    this.text += atom;
    return this;
  }

  number(n: number | bigint): this {
    this.text += typeof n === 'bigint' ? n.toString() : String(Math.trunc(n));
    return this;
  }

  nil(): this {
    this.text += 'NIL';
    return this;
  }

  /** string: quoted when possible, else a literal. */
  string(value: string | Uint8Array): this {
    if (typeof value === 'string') {
      // step: one scan decides literal or quoted, and whether quoting must escape
      const utf8 = this.options.utf8;
      let escape = false;
      for (let i = 0; i < value.length; i++) {
        const c = value.charCodeAt(i);
        if (c === 0x0d || c === 0x0a || c === 0 || (c > 0x7f && !utf8)) {
          return this.literal(encoder.encode(value));
        }
        if (c === 0x22 || c === 0x5c) escape = true;
      }
      this.text += escape ? quote(value) : `"${value}"`;
      return this;
    }
    if (needsLiteral(value, this.options.utf8)) return this.literal(value);
    // Bytes that reach here are ASCII, or valid UTF-8 in UTF8 mode
    this.text += quote(strictUtf8.decode(value));
    return this;
  }

  nstring(value: string | Uint8Array | null | undefined): this {
    return value === null || value === undefined ? this.nil() : this.string(value);
  }

  /** astring: an atom when every char is an ASTRING-CHAR (and it is not NIL), else a string. */
  astring(value: string | Uint8Array): this {
    const text = typeof value === 'string' ? value : latin1(value);
    if (isAllClass(text, ASTRING) && text.toUpperCase() !== 'NIL') return this.atom(text);
    return this.string(value);
  }

  /**
   * mailbox: INBOX as an atom, other names as strings, in modified UTF-7 (RFC 3501 §5.1.3)
   * unless UTF8=ACCEPT/IMAP4rev2 is enabled (RFC 6855 §3).
   */
  mailbox(name: string): this {
    if (name === 'INBOX') return this.atom(name);
    return this.string(this.options.utf8 ? name : encodeModifiedUtf7(name));
  }

  /** Bytes written as-is: response text encoded earlier (the caller guarantees it is valid). */
  rawBytes(data: Uint8Array): this {
    this.flush();
    if (data.length > 0) {
      this.out.push(data);
      this.outBytes += data.length;
    }
    return this;
  }

  /** `{n}` CRLF and the bytes (`~{n}` for literal8, RFC 3516 §4.1). */
  literal(data: Bytes, binary = false): this {
    const size = byteLength(data);
    this.text += `${binary ? '~' : ''}{${size}}\r\n`;
    this.flush();
    if (size > 0) {
      this.out.push(data);
      this.outBytes += size;
    }
    return this;
  }

  /** `(` items separated by SP `)`. */
  list<T>(items: Iterable<T>, write: (item: T) => void): this {
    this.text += '(';
    let first = true;
    for (const item of items) {
      if (!first) this.text += ' ';
      first = false;
      write(item);
    }
    this.text += ')';
    return this;
  }

  /** A parenthesised list of atoms (flags, capabilities). */
  atomList(atoms: Iterable<string>): this {
    return this.list(atoms, (a) => this.atom(a));
  }

  private flush(): void {
    if (this.text.length > 0) {
      const bytes = encoder.encode(this.text);
      this.out.push(bytes);
      this.outBytes += bytes.length;
    }
    this.text = '';
  }

  /** The text written so far when it is all there is (no literal was written), else undefined. */
  pendingText(): string | undefined {
    return this.out.length === 0 ? this.text : undefined;
  }

  /** About how many bytes are accumulated (text counted in UTF-16 units). */
  get length(): number {
    return this.outBytes + this.text.length;
  }

  /** The accumulated parts; the writer is empty afterwards. */
  parts(): WirePart[] {
    this.flush();
    this.outBytes = 0;
    return this.out.splice(0);
  }
}

/** Concatenate parts that are all in memory (tests, small responses). */
export function partsToBytes(parts: readonly WirePart[]): Uint8Array {
  let size = 0;
  for (const p of parts) {
    if (!(p instanceof Uint8Array))
      throw new CommuneError('invalid-argument', 'Lazy part in partsToBytes');
    size += p.length;
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts as readonly Uint8Array[]) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
