/**
 * Incremental IMAP command reader (RFC 9051 §2.2.1, §4.3, §7.5; RFC 7888 LITERAL+/LITERAL-;
 * RFC 3516 literal8). Fed arbitrary socket chunks, it splits the stream into complete
 * commands: tag, command name and the argument bytes, with every literal read. It does no
 * I/O and never throws on input: problems are typed `bad`/`no` events for one command, after
 * which the reader resynchronises at the end of that command.
 *
 * Pull model: `push()` buffers bytes, `next()` returns one event at a time (or undefined when
 * more bytes are needed). The session switches modes between events (`setMode('line')` for
 * AUTHENTICATE continuation lines and IDLE's DONE), so nothing past the current event is
 * interpreted early. Buffering is bounded only by what the session pushes: it applies
 * backpressure by not reading the socket while it is busy.
 */

import { TAG, ATOM, isClass } from './char-class.ts';

export interface CommandReaderOptions {
  /** Longest line (the non-literal part between literals), excluding CRLF. Default 64 KiB. */
  readonly maxLineLength?: number;
  /** Largest synchronizing literal accepted. Default 64 MiB. */
  readonly maxLiteralSize?: number;
  /**
   * Largest non-synchronizing literal (`{n+}`) accepted. Default: `maxLiteralSize` (LITERAL+);
   * 4096 while LITERAL- is advertised (RFC 7888 §5, RFC 9051 §4.3). A larger one up to
   * `maxLiteralSize` is refused with BAD [TOOBIG] and discarded, the connection kept; beyond
   * `maxLiteralSize` the refusal is fatal.
   */
  readonly maxNonSyncLiteralSize?: number;
  /** Largest whole command, lines and literals together. Default maxLiteralSize + 1 MiB. */
  readonly maxCommandSize?: number;
}

/** One literal of a command, bytes exactly as sent. */
export interface RawLiteral {
  readonly data: Uint8Array;
  /** Sent as literal8 (`~{n}`, RFC 3516): may contain NUL. */
  readonly binary: boolean;
  /** Sent as `{n}` (the server sent a continuation), not `{n+}`. */
  readonly sync: boolean;
}

/**
 * A complete command. The arguments are `lines` (without CRLF) interleaved with `literals`:
 * lines[i] ends with the literal marker of literals[i]; lines[0] starts right after the
 * command name (normally with SP). There is always one more line than literals.
 */
export interface RawCommand {
  readonly tag: string;
  /** The command name, upper-cased ("UID" for every UID command). */
  readonly name: string;
  readonly lines: readonly Uint8Array[];
  readonly literals: readonly RawLiteral[];
  /** Bytes on the wire, CRLFs included. */
  readonly size: number;
}

/** Response codes the reader attaches to its errors. */
export type ReaderCode = 'TOOBIG';

/** Syntax or limit error for one command: answer with tagged (or untagged) BAD. */
export interface BadResult {
  readonly kind: 'bad';
  readonly tag?: string;
  /** Response code (RFC 9051 §7.1): TOOBIG for a refused literal. */
  readonly code?: ReaderCode;
  /** Human-readable text: printable ASCII, never CR/LF. */
  readonly text: string;
  /**
   * The connection should be closed after answering (RFC 7888 §4): a `{n+}` larger than any
   * literal this reader accepts.
   */
  readonly fatal?: boolean;
}

/** A command refused before its literal was read: answer with tagged NO. */
export interface NoResult {
  readonly kind: 'no';
  readonly tag: string;
  readonly code?: ReaderCode;
  readonly text: string;
}

export type ReaderEvent =
  | { readonly kind: 'command'; readonly command: RawCommand }
  /** A synchronizing literal was announced: send "+ Ready" (or call abortCommand()). */
  | {
      readonly kind: 'continue';
      readonly tag: string;
      readonly name: string;
      readonly size: number;
    }
  /** Line mode: one line, without CRLF. */
  | { readonly kind: 'line'; readonly line: Uint8Array }
  | BadResult
  | NoResult;

export type ReaderMode = 'command' | 'line';

const LF = 0x0a;
const CR = 0x0d;
const SP = 0x20;
const TAIL = 32;
const INITIAL_LITERAL = 1024 * 1024;
const SMALL_CHUNK = 4096;
const TAIL_BUFFER = 16 * 1024;

/**
 * FIFO of pushed chunks; reads copy out only what is consumed. Small chunks are coalesced
 * into a shared tail buffer so a client trickling bytes cannot make scans quadratic.
 */
class ByteQueue {
  private chunks: Uint8Array[] = [];
  private first = 0;
  private head = 0;
  /** Open coalescing buffer; its filled prefix is the last entry of `chunks`. */
  private tail: Uint8Array | undefined;
  private tailUsed = 0;
  /** A coalescing buffer nothing refers to any more, used for the next tail. */
  private spare: Uint8Array | undefined;
  length = 0;

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.length += chunk.length;
    if (chunk.length >= SMALL_CHUNK) {
      this.tail = undefined;
      this.chunks.push(chunk);
      return;
    }
    if (this.tail === undefined || this.tailUsed + chunk.length > this.tail.length) {
      this.tail = this.spare ?? new Uint8Array(TAIL_BUFFER);
      this.spare = undefined;
      this.tailUsed = 0;
      this.chunks.push(this.tail.subarray(0, 0));
    }
    this.tail.set(chunk, this.tailUsed);
    this.tailUsed += chunk.length;
    this.chunks[this.chunks.length - 1] = this.tail.subarray(0, this.tailUsed);
  }

  /** Offset of the first `byte` in [from, limit), or -1. */
  indexOf(byte: number, from: number, limit: number): number {
    let base = 0;
    const end = Math.min(limit, this.length);
    for (let i = this.first; i < this.chunks.length && base < end; i++) {
      const chunk = this.chunks[i] as Uint8Array;
      const start = i === this.first ? this.head : 0;
      const len = chunk.length - start;
      if (base + len > from) {
        const localFrom = Math.max(0, from - base) + start;
        const localEnd = Math.min(chunk.length, start + (end - base));
        const hit = chunk.subarray(localFrom, localEnd).indexOf(byte);
        if (hit >= 0) return base + (localFrom - start) + hit;
      }
      base += len;
    }
    return -1;
  }

  /** Copy `n` bytes from offset `from` into `dst` at `at` without consuming. */
  peekInto(from: number, n: number, dst: Uint8Array, at: number): void {
    let base = 0;
    let copied = 0;
    for (let i = this.first; i < this.chunks.length && copied < n; i++) {
      const chunk = this.chunks[i] as Uint8Array;
      const start = i === this.first ? this.head : 0;
      const len = chunk.length - start;
      const skip = Math.max(0, from + copied - base);
      if (skip < len) {
        const take = Math.min(len - skip, n - copied);
        dst.set(chunk.subarray(start + skip, start + skip + take), at + copied);
        copied += take;
      }
      base += len;
    }
  }

  peek(from: number, n: number): Uint8Array {
    const out = new Uint8Array(n);
    this.peekInto(from, n, out, 0);
    return out;
  }

  skip(n: number): void {
    let left = Math.min(n, this.length);
    this.length -= left;
    while (left > 0) {
      const chunk = this.chunks[this.first] as Uint8Array;
      const avail = chunk.length - this.head;
      if (left < avail) {
        this.head += left;
        left = 0;
      } else {
        left -= avail;
        this.first++;
        this.head = 0;
      }
    }
    // All consumed: a consumed tail view must not be extended any more, but its buffer can
    // be filled again from the start (reads copy out, so nothing refers to it)
    if (this.first >= this.chunks.length) {
      if (this.tail !== undefined) this.spare = this.tail;
      this.tail = undefined;
      this.chunks = [];
      this.first = 0;
      this.head = 0;
    }
    // Compact the chunk list once its consumed prefix dominates
    if (this.first > 64 && this.first * 2 > this.chunks.length) {
      this.chunks = this.chunks.slice(this.first);
      this.first = 0;
    }
  }

  read(n: number): Uint8Array {
    const out = this.peek(0, n);
    this.skip(n);
    return out;
  }
}

interface LiteralMarker {
  readonly size: number;
  readonly sync: boolean;
  readonly binary: boolean;
}

/** The literal marker (`{n}`, `{n+}`, `~{n}`, `~{n+}`) at the very end of a line, if any. */
export function literalMarkerAtEnd(line: Uint8Array): LiteralMarker | undefined {
  let i = line.length - 1;
  if (i < 2 || line[i] !== 0x7d) return undefined;
  i--;
  let sync = true;
  if (line[i] === 0x2b) {
    sync = false;
    i--;
  }
  const digitsEnd = i + 1;
  while (i >= 0 && (line[i] ?? 0) >= 0x30 && (line[i] ?? 0) <= 0x39) i--;
  if (i < 0 || i + 1 === digitsEnd || line[i] !== 0x7b) return undefined;
  let size = 0;
  for (let j = i + 1; j < digitsEnd; j++) size = size * 10 + ((line[j] ?? 0) - 0x30);
  if (digitsEnd - (i + 1) > 15) size = Infinity;
  return { size, sync, binary: i > 0 && line[i - 1] === 0x7e };
}

interface PendingCommand {
  readonly tag: string;
  readonly name: string;
  readonly lines: Uint8Array[];
  readonly literals: RawLiteral[];
  size: number;
}

interface PendingLiteral {
  /** Grows towards `size` as bytes arrive, so an announced size alone costs little memory. */
  data: Uint8Array;
  readonly size: number;
  filled: number;
  readonly binary: boolean;
  readonly sync: boolean;
}

type SkipState =
  { readonly kind: 'line'; tail: Uint8Array } | { readonly kind: 'literal'; remaining: number };

function ascii(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return s;
}

/** The tag at the start of a line, when it is a valid tag followed by SP. */
function tagOf(line: Uint8Array): string | undefined {
  const sp = line.indexOf(SP);
  if (sp <= 0) return undefined;
  for (let i = 0; i < sp; i++) if (!isClass(line[i] ?? 0, TAG)) return undefined;
  return ascii(line.subarray(0, sp));
}

function concatTail(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.min(TAIL, a.length + b.length));
  const fromB = Math.min(b.length, out.length);
  const fromA = out.length - fromB;
  out.set(a.subarray(a.length - fromA), 0);
  out.set(b.subarray(b.length - fromB), fromA);
  return out;
}

/** Splits a byte stream into IMAP commands. One instance per connection. */
export class CommandReader {
  private readonly maxLine: number;
  private readonly maxLiteral: number;
  private maxNonSync: number;
  private readonly maxCommand: number;
  private readonly queue = new ByteQueue();
  private mode: ReaderMode = 'command';
  private cmd: PendingCommand | undefined;
  private literal: PendingLiteral | undefined;
  private skipping: SkipState | undefined;
  /** Bytes already searched for LF in the current line (avoids rescanning slow lines). */
  private scanned = 0;

  constructor(options: CommandReaderOptions = {}) {
    this.maxLine = options.maxLineLength ?? 64 * 1024;
    this.maxLiteral = options.maxLiteralSize ?? 64 * 1024 * 1024;
    this.maxNonSync = Math.min(options.maxNonSyncLiteralSize ?? this.maxLiteral, this.maxLiteral);
    this.maxCommand = options.maxCommandSize ?? this.maxLiteral + 1024 * 1024;
  }

  /** Buffer bytes received from the client. */
  push(chunk: Uint8Array): void {
    this.queue.push(chunk);
  }

  /**
   * Change the largest non-synchronizing literal accepted (LITERAL- before authentication,
   * LITERAL+ after); applies from the next command line read.
   */
  setMaxNonSyncLiteralSize(size: number): void {
    this.maxNonSync = Math.min(size, this.maxLiteral);
  }

  /** Switch between command mode and line mode (AUTHENTICATE exchanges, IDLE). */
  setMode(mode: ReaderMode): void {
    this.mode = mode;
  }

  getMode(): ReaderMode {
    return this.mode;
  }

  /** Bytes buffered and not yet consumed. */
  get buffered(): number {
    return this.queue.length;
  }

  /**
   * Drop the command whose synchronizing literal was just announced (after a `continue`
   * event), when the session refuses it itself (e.g. APPENDLIMIT): the client has not sent
   * the literal, so the next byte starts a new command.
   */
  abortCommand(): void {
    if (this.literal?.sync === true && this.literal.filled === 0) {
      this.literal = undefined;
      this.cmd = undefined;
    }
  }

  /** The next event, or undefined when more bytes are needed. */
  next(): ReaderEvent | undefined {
    while (true) {
      if (this.skipping !== undefined) {
        if (!this.skip()) return undefined;
        continue;
      }
      if (this.literal !== undefined) {
        if (!this.fillLiteral()) return undefined;
        continue;
      }
      const line = this.readLine();
      if (line === undefined) return undefined;
      if ('kind' in line) return line;
      if (this.mode === 'line' && this.cmd === undefined) return { kind: 'line', line: line.bytes };
      const event = this.onLine(line.bytes, line.wire);
      if (event !== undefined) return event;
    }
  }

  /** Discard bytes of a rejected command; true when done. */
  private skip(): boolean {
    const state = this.skipping;
    if (state === undefined) return true;
    if (state.kind === 'literal') {
      const n = Math.min(state.remaining, this.queue.length);
      this.queue.skip(n);
      state.remaining -= n;
      if (state.remaining > 0) return false;
      this.skipping = { kind: 'line', tail: new Uint8Array(0) };
      return true;
    }
    const lf = this.queue.indexOf(LF, 0, this.queue.length);
    if (lf < 0) {
      const n = this.queue.length;
      state.tail = concatTail(
        state.tail,
        this.queue.peek(Math.max(0, n - TAIL), Math.min(n, TAIL)),
      );
      this.queue.skip(n);
      return false;
    }
    let tail = concatTail(state.tail, this.queue.peek(Math.max(0, lf - TAIL), Math.min(lf, TAIL)));
    if (tail[tail.length - 1] === CR) tail = tail.subarray(0, tail.length - 1);
    this.queue.skip(lf + 1);
    this.skipping = undefined;
    // A non-synchronizing literal at the end of the skipped line is sent regardless: skip it
    const marker = literalMarkerAtEnd(tail);
    if (marker !== undefined && !marker.sync)
      this.skipping = { kind: 'literal', remaining: marker.size };
    return true;
  }

  private fillLiteral(): boolean {
    const lit = this.literal;
    if (lit === undefined) return true;
    const n = Math.min(lit.size - lit.filled, this.queue.length);
    if (lit.filled + n > lit.data.length) {
      const grown = new Uint8Array(
        Math.min(lit.size, Math.max(lit.filled + n, lit.data.length * 2)),
      );
      grown.set(lit.data.subarray(0, lit.filled));
      lit.data = grown;
    }
    this.queue.peekInto(0, n, lit.data, lit.filled);
    this.queue.skip(n);
    lit.filled += n;
    if (lit.filled < lit.size) return false;
    this.cmd?.literals.push({ data: lit.data, binary: lit.binary, sync: lit.sync });
    this.literal = undefined;
    return true;
  }

  /** Next complete line (without CRLF), an over-long-line error, or undefined. */
  private readLine(): { bytes: Uint8Array; wire: number } | BadResult | undefined {
    const limit = this.maxLine + 2;
    const lf = this.queue.indexOf(LF, this.scanned, limit);
    if (lf < 0 && this.queue.length < limit) {
      this.scanned = this.queue.length;
      return undefined;
    }
    this.scanned = 0;
    let end = lf;
    if (lf > 0 && this.queue.peek(lf - 1, 1)[0] === CR) end = lf - 1;
    if (lf < 0 || end > this.maxLine) {
      // Too long: answer now, then discard through the end of the command
      const lineMode = this.mode === 'line' && this.cmd === undefined;
      const tag = lineMode
        ? undefined
        : (this.cmd?.tag ?? tagOf(this.queue.peek(0, Math.min(this.queue.length, 256))));
      this.cmd = undefined;
      this.skipping = { kind: 'line', tail: new Uint8Array(0) };
      const text = lineMode ? 'Line too long' : 'Command line too long';
      return tag === undefined ? { kind: 'bad', text } : { kind: 'bad', tag, text };
    }
    const bytes = this.queue.peek(0, end);
    this.queue.skip(lf + 1);
    return { bytes, wire: lf + 1 };
  }

  /** Reject the current command; skips a non-synchronizing literal announced by `line`. */
  private fail(tag: string | undefined, text: string, line: Uint8Array): BadResult {
    this.cmd = undefined;
    const marker = literalMarkerAtEnd(line);
    if (marker !== undefined && !marker.sync)
      this.skipping = { kind: 'literal', remaining: marker.size };
    return tag === undefined ? { kind: 'bad', text } : { kind: 'bad', tag, text };
  }

  private onLine(line: Uint8Array, wire: number): ReaderEvent | undefined {
    let cmd = this.cmd;
    let rest = line;
    if (cmd === undefined) {
      // Empty lines between commands are ignored
      if (line.length === 0) return undefined;
      const sp = line.indexOf(SP);
      const tagEnd = sp < 0 ? line.length : sp;
      for (let i = 0; i < tagEnd; i++) {
        if (!isClass(line[i] ?? 0, TAG)) return this.fail(undefined, 'Invalid tag', line);
      }
      if (tagEnd === 0) return this.fail(undefined, 'Invalid tag', line);
      const tag = ascii(line.subarray(0, tagEnd));
      let nameEnd = tagEnd + 1;
      while (nameEnd < line.length && isClass(line[nameEnd] ?? 0, ATOM)) nameEnd++;
      if (sp < 0 || nameEnd === tagEnd + 1) return this.fail(tag, 'Missing command name', line);
      const name = ascii(line.subarray(tagEnd + 1, nameEnd)).toUpperCase();
      cmd = { tag, name, lines: [], literals: [], size: 0 };
      this.cmd = cmd;
      rest = line.subarray(nameEnd);
    }
    cmd.size += wire;
    if (cmd.size > this.maxCommand) return this.fail(cmd.tag, 'Command too long', line);
    cmd.lines.push(rest);
    const marker = literalMarkerAtEnd(rest);
    if (marker === undefined) {
      this.cmd = undefined;
      return { kind: 'command', command: cmd };
    }
    // Literal announced: check limits before reading a byte of it
    const tooBig = marker.size > this.maxLiteral || cmd.size + marker.size > this.maxCommand;
    if (marker.sync && tooBig) {
      this.cmd = undefined;
      return { kind: 'no', tag: cmd.tag, code: 'TOOBIG', text: 'Literal too large' };
    }
    if (!marker.sync && (tooBig || marker.size > this.maxNonSync)) {
      // step: the client sends the literal regardless: it is read and discarded
      this.cmd = undefined;
      this.skipping = { kind: 'literal', remaining: marker.size };
      const refused: BadResult = {
        kind: 'bad',
        tag: cmd.tag,
        code: 'TOOBIG',
        text: 'Literal too large',
      };
      return tooBig ? { ...refused, fatal: true } : refused;
    }
    this.literal = {
      data: new Uint8Array(Math.min(marker.size, INITIAL_LITERAL)),
      size: marker.size,
      filled: 0,
      binary: marker.binary,
      sync: marker.sync,
    };
    cmd.size += marker.size;
    return marker.sync
      ? { kind: 'continue', tag: cmd.tag, name: cmd.name, size: marker.size }
      : undefined;
  }
}
