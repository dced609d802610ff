/**
 * BerFramer: splits a byte stream (socket chunks of any size) into complete top-level
 * LDAPMessage encodings (RFC 4511 §5.1: each message is one definite-length SEQUENCE).
 *
 * `push(chunk)` buffers; `next()` returns one complete message, `need-more`, or an error.
 * Only the 2..6 header octets are needed to know a message's size, so an oversized message is
 * refused as soon as its header arrives, before its body is buffered. After an error the
 * framer is poisoned: the stream has lost synchronisation and the connection must be closed
 * (RFC 4511 §4.1.1), so every later call returns the same error.
 */

import { BerError } from './ber-error.ts';
import { DEFAULT_MAX_LENGTH, readBerHeader } from './ber-reader.ts';
import { BerTag } from './ber-tag.ts';

export interface BerFramerOptions {
  /** Largest accepted message, header included, in bytes. */
  readonly maxMessageSize?: number;
}

export type FrameResult =
  | { readonly kind: 'message'; readonly bytes: Uint8Array }
  | { readonly kind: 'need-more' }
  | { readonly kind: 'error'; readonly error: BerError };

const NEED_MORE: FrameResult = Object.freeze({ kind: 'need-more' });

/** Longest possible header we accept: tag, 0x84, 4 length octets. */
const MAX_HEADER = 6;

export class BerFramer {
  readonly #maxMessageSize: number;
  readonly #chunks: Uint8Array[] = [];
  /** Offset of unread data in the first chunk. */
  #head = 0;
  #buffered = 0;
  /** Total size of the message at the front, once its header is known. */
  #frameSize: number | undefined;
  #error: BerError | undefined;

  constructor(options: BerFramerOptions = {}) {
    this.#maxMessageSize = options.maxMessageSize ?? DEFAULT_MAX_LENGTH;
  }

  /** Bytes buffered and not yet returned. */
  get buffered(): number {
    return this.#buffered;
  }

  /** Add a chunk read from the stream; ignored once the framer has failed. */
  push(chunk: Uint8Array): void {
    if (this.#error !== undefined || chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
  }

  /** The next complete message, need-more, or the (sticky) framing error. */
  next(): FrameResult {
    if (this.#error !== undefined) return { kind: 'error', error: this.#error };
    try {
      // step: learn the size of the message at the front from its header
      if (this.#frameSize === undefined) {
        const header = this.#peek(MAX_HEADER);
        const parsed = readBerHeader(header, 0, header.length, Number.MAX_SAFE_INTEGER);
        if (parsed.kind === 'need-more') return NEED_MORE;
        if (parsed.tag !== BerTag.sequence) {
          throw new BerError('unexpected-tag', 'an LDAPMessage must start with a SEQUENCE', 0);
        }
        const size = parsed.headerLength + parsed.length;
        if (size > this.#maxMessageSize) {
          throw new BerError(
            'too-large',
            `message of ${size} bytes exceeds the limit of ${this.#maxMessageSize}`,
            0,
          );
        }
        this.#frameSize = size;
      }
      if (this.#buffered < this.#frameSize) return NEED_MORE;
      // step: cut the message out of the buffered chunks
      const bytes = this.#take(this.#frameSize);
      this.#frameSize = undefined;
      return { kind: 'message', bytes };
    } catch (err) {
      this.#error = err instanceof BerError ? err : new BerError('invalid-value', 'framing failed');
      this.#chunks.length = 0;
      this.#buffered = 0;
      this.#head = 0;
      return { kind: 'error', error: this.#error };
    }
  }

  /** Up to `n` bytes from the front without consuming them. */
  #peek(n: number): Uint8Array {
    const first = this.#chunks[0];
    if (first === undefined) return new Uint8Array(0);
    if (first.length - this.#head >= n) return first.subarray(this.#head, this.#head + n);
    const out = new Uint8Array(Math.min(n, this.#buffered));
    let filled = 0;
    let head = this.#head;
    for (const chunk of this.#chunks) {
      if (filled === out.length) break;
      const part = chunk.subarray(head, head + (out.length - filled));
      out.set(part, filled);
      filled += part.length;
      head = 0;
    }
    return out;
  }

  /** Consume exactly `n` buffered bytes (n <= buffered). */
  #take(n: number): Uint8Array {
    const first = this.#chunks[0];
    // step: fast path, the whole message sits in the first chunk (copied so the chunk can go)
    if (first !== undefined && first.length - this.#head >= n) {
      const bytes = new Uint8Array(first.subarray(this.#head, this.#head + n));
      this.#advance(n);
      return bytes;
    }
    // step: slow path, gather across chunks and drop the consumed ones in one splice
    const out = new Uint8Array(n);
    let filled = 0;
    let index = 0;
    let head = this.#head;
    while (filled < n) {
      const chunk = this.#chunks[index];
      if (chunk === undefined) throw new BerError('truncated', 'framer buffer underflow');
      const part = chunk.subarray(head, head + (n - filled));
      out.set(part, filled);
      filled += part.length;
      head += part.length;
      if (head >= chunk.length) {
        index++;
        head = 0;
      }
    }
    this.#chunks.splice(0, index);
    this.#head = head;
    this.#buffered -= n;
    return out;
  }

  #advance(n: number): void {
    this.#buffered -= n;
    this.#head += n;
    const first = this.#chunks[0];
    if (first !== undefined && this.#head >= first.length) {
      this.#chunks.shift();
      this.#head = 0;
    }
  }
}
