/**
 * Tokenizer and typed argument parsers for the IMAP formal syntax (RFC 9051 §9, RFC 3501 §9):
 * atom, quoted string, literal/literal8, NIL, astring, nstring, parenthesized lists with
 * bounded nesting, numbers, sequence sets, mailbox names (modified UTF-7, or UTF-8 once
 * UTF8=ACCEPT/IMAP4rev2 is enabled), date, date-time and flags.
 *
 * An ArgReader walks the argument lines and literals of one RawCommand. Syntax errors throw
 * CommuneError('invalid-argument') inside a command parser; parseCommand turns them into a
 * `bad` result, so nothing escapes to the session.
 */

import { CommuneError } from '../../../core/errors.ts';
import { ATOM, ASTRING, LIST, isClass } from './char-class.ts';
import type { RawCommand, RawLiteral } from './command-reader.ts';
import { decodeModifiedUtf7 } from './modified-utf7.ts';
import { parseSequenceSet } from './sequence-set.ts';
import type { SequenceSet } from './sequence-set.ts';

/** Session facts that change how arguments are read. */
export interface ParseContext {
  /** UTF8=ACCEPT (RFC 6855) or IMAP4rev2 enabled: mailbox names are UTF-8, not modified UTF-7. */
  readonly utf8: boolean;
}

/** Deepest parenthesis / NOT / OR nesting accepted. */
export const MAX_NESTING = 32;

const SP = 0x20;
const DQUOTE = 0x22;
const BACKSLASH = 0x5c;
const LPAREN = 0x28;
const RPAREN = 0x29;
const LBRACE = 0x7b;
const TILDE = 0x7e;

const utf8Lossy = new TextDecoder('utf-8');
const utf8Strict = new TextDecoder('utf-8', { fatal: true });

/** Throw the syntax error that parseCommand turns into BAD. */
export function syntaxError(text: string): never {
  throw new CommuneError('invalid-argument', text);
}

/** Decode bytes as UTF-8, replacing invalid sequences. */
export function utf8Text(bytes: Uint8Array): string {
  return utf8Lossy.decode(bytes);
}

function latin1(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return s;
}

export class ArgReader {
  readonly ctx: ParseContext;
  private readonly lines: readonly Uint8Array[];
  private readonly literals: readonly RawLiteral[];
  private seg = 0;
  private pos = 0;
  private depth = 0;

  constructor(lines: readonly Uint8Array[], literals: readonly RawLiteral[], ctx: ParseContext) {
    this.lines = lines.length > 0 ? lines : [new Uint8Array(0)];
    this.literals = literals;
    this.ctx = ctx;
  }

  static of(command: RawCommand, ctx: ParseContext): ArgReader {
    return new ArgReader(command.lines, command.literals, ctx);
  }

  /** Next byte, or -1 at the end of the current line. */
  peek(offset = 0): number {
    return this.lines[this.seg]?.[this.pos + offset] ?? -1;
  }

  /** Whether every argument has been consumed. */
  atEnd(): boolean {
    return this.seg >= this.lines.length - 1 && this.peek() === -1;
  }

  private fail(text: string): never {
    return syntaxError(text);
  }

  /** Expect the end of the arguments (trailing spaces are tolerated). */
  end(): void {
    while (this.peek() === SP) this.pos++;
    if (!this.atEnd()) this.fail('Unexpected extra arguments');
  }

  /** Expect SP (runs of spaces are tolerated). */
  sp(): void {
    if (this.peek() !== SP) this.fail(this.atEnd() ? 'Missing argument' : 'Expected SP');
    while (this.peek() === SP) this.pos++;
  }

  /** Consume SP if present and not followed by the end. */
  trySp(): boolean {
    if (this.peek() !== SP) return false;
    let i = 0;
    while (this.peek(i) === SP) i++;
    if (this.peek(i) === -1 && this.seg >= this.lines.length - 1) return false;
    this.pos += i;
    return true;
  }

  /** Consume byte `b` if it is next. */
  tryByte(b: number): boolean {
    if (this.peek() !== b) return false;
    this.pos++;
    return true;
  }

  expectByte(b: number, what: string): void {
    if (!this.tryByte(b)) this.fail(`Expected ${what}`);
  }

  /** Read a run of bytes of class `mask` (may be empty). */
  run(mask: number): string {
    const line = this.lines[this.seg] ?? new Uint8Array(0);
    const start = this.pos;
    while (this.pos < line.length && isClass(line[this.pos] ?? 0, mask)) this.pos++;
    return latin1(line.subarray(start, this.pos));
  }

  /** atom = 1*ATOM-CHAR */
  atom(): string {
    const s = this.run(ATOM);
    if (s.length === 0) this.fail('Expected atom');
    return s;
  }

  /** An atom, upper-cased (keywords of the grammar are case-insensitive). */
  keyword(): string {
    return this.atom().toUpperCase();
  }

  /** Consume `word` (case-insensitive) when it is the next whole atom. */
  tryKeyword(word: string): boolean {
    const line = this.lines[this.seg] ?? new Uint8Array(0);
    for (let i = 0; i < word.length; i++) {
      const b = line[this.pos + i];
      if (b === undefined || String.fromCharCode(b).toUpperCase() !== word[i]) return false;
    }
    const after = line[this.pos + word.length];
    if (after !== undefined && isClass(after, ATOM)) return false;
    this.pos += word.length;
    return true;
  }

  /** Enter one nesting level (lists, NOT, OR); bounded by MAX_NESTING. */
  enter(): void {
    if (++this.depth > MAX_NESTING) this.fail('Too deeply nested');
  }

  leave(): void {
    this.depth--;
  }

  /** quoted = DQUOTE *QUOTED-CHAR DQUOTE, with \" and \\ escapes; 8-bit bytes kept. */
  quoted(): Uint8Array {
    this.expectByte(DQUOTE, 'quoted string');
    const line = this.lines[this.seg] ?? new Uint8Array(0);
    const start = this.pos;
    let escaped = false;
    for (let i = start; i < line.length; i++) {
      const b = line[i] ?? 0;
      if (b === DQUOTE) {
        this.pos = i + 1;
        const raw = line.subarray(start, i);
        return escaped ? unescapeQuoted(raw) : raw;
      }
      if (b === 0) this.fail('NUL in quoted string');
      if (b === BACKSLASH) {
        const next = line[i + 1];
        if (next !== DQUOTE && next !== BACKSLASH) this.fail('Invalid escape in quoted string');
        escaped = true;
        i++;
      }
    }
    return this.fail('Unterminated quoted string');
  }

  /** Whether a literal (or literal8) starts here. */
  atLiteral(): boolean {
    const b = this.peek();
    return b === LBRACE || (b === TILDE && this.peek(1) === LBRACE);
  }

  /** literal / literal8: the marker must end the line and its bytes follow. */
  literal(allowBinary = false): RawLiteral {
    const line = this.lines[this.seg] ?? new Uint8Array(0);
    const binary = this.tryByte(TILDE);
    if (binary && !allowBinary) this.fail('literal8 not allowed here');
    this.expectByte(LBRACE, 'literal');
    const close = line.indexOf(0x7d, this.pos);
    const literal = this.literals[this.seg];
    const marker = latin1(line.subarray(this.pos, close));
    if (close !== line.length - 1 || literal === undefined || !/^[0-9]+\+?$/.test(marker)) {
      this.fail('Invalid literal');
    }
    this.seg++;
    this.pos = 0;
    return literal;
  }

  /** string = quoted / literal */
  string(): Uint8Array {
    if (this.peek() === DQUOTE) return this.quoted();
    if (this.atLiteral()) return this.literal().data;
    return this.fail('Expected string');
  }

  /** astring = 1*ASTRING-CHAR / string */
  astring(): Uint8Array {
    if (this.peek() === DQUOTE || this.atLiteral()) return this.string();
    const line = this.lines[this.seg] ?? new Uint8Array(0);
    const start = this.pos;
    this.run(ASTRING);
    if (this.pos === start) this.fail('Expected astring');
    return line.subarray(start, this.pos);
  }

  /** An astring decoded as UTF-8. */
  astringText(): string {
    return utf8Text(this.astring());
  }

  /** nstring = string / NIL */
  nstring(): Uint8Array | null {
    if (this.tryKeyword('NIL')) return null;
    return this.string();
  }

  /** Read bytes while `test` holds (may be empty), as a Latin-1 string. */
  runWhile(test: (b: number) => boolean): string {
    const line = this.lines[this.seg] ?? new Uint8Array(0);
    const start = this.pos;
    while (this.pos < line.length && test(line[this.pos] ?? 0)) this.pos++;
    return latin1(line.subarray(start, this.pos));
  }

  /** A run of decimal digits (may be empty). */
  digits(): string {
    return this.runWhile((b) => b >= 0x30 && b <= 0x39);
  }

  /** number = 1*DIGIT, 32-bit unsigned */
  number(): number {
    const digits = this.digits();
    if (!/^[0-9]{1,10}$/.test(digits) || Number(digits) > 0xffffffff) this.fail('Expected number');
    return Number(digits);
  }

  /** nz-number = digit-nz *DIGIT */
  nzNumber(): number {
    const n = this.number();
    if (n === 0) this.fail('Expected non-zero number');
    return n;
  }

  /** number64 (RFC 9051), as a bigint: 0 .. 2^63-1. */
  number64(): bigint {
    const digits = this.digits();
    if (!/^[0-9]{1,19}$/.test(digits)) this.fail('Expected number');
    const n = BigInt(digits);
    if (n > 0x7fffffffffffffffn) this.fail('Number too large');
    return n;
  }

  /** mod-sequence-value = 1*DIGIT, 1 .. 2^63-1 (RFC 7162 §7). */
  modSeq(): bigint {
    const n = this.number64();
    if (n === 0n) this.fail('Expected non-zero mod-sequence');
    return n;
  }

  /** Parse `(item *(SP item))`; `allowEmpty` admits `()`. */
  list<T>(item: () => T, allowEmpty = true): T[] {
    this.expectByte(LPAREN, '(');
    this.enter();
    const out: T[] = [];
    while (this.peek() === SP) this.pos++;
    if (!this.tryByte(RPAREN)) {
      while (true) {
        out.push(item());
        if (this.tryByte(RPAREN)) break;
        this.sp();
        if (this.tryByte(RPAREN)) break;
      }
    }
    this.leave();
    if (!allowEmpty && out.length === 0) this.fail('Empty list');
    return out;
  }

  /** sequence-set (with `$`). */
  sequenceSet(): SequenceSet {
    const text = this.runWhile(
      (b) => (b >= 0x30 && b <= 0x3a) || b === 0x2c || b === 0x2a || b === 0x24,
    );
    const set = parseSequenceSet(text);
    if (set === undefined) return this.fail('Invalid sequence set');
    return set;
  }

  /** mailbox = "INBOX" / astring, decoded from modified UTF-7 (or UTF-8 in UTF8 mode). */
  mailbox(): string {
    const name = decodeMailboxName(this.astring(), this.ctx);
    return name.toUpperCase() === 'INBOX' ? 'INBOX' : name;
  }

  /** list-mailbox = 1*list-char / string (LIST patterns keep `%` and `*`). */
  listMailbox(): string {
    if (this.peek() === DQUOTE || this.atLiteral())
      return decodeMailboxName(this.string(), this.ctx);
    const s = this.run(LIST);
    if (s.length === 0) this.fail('Expected mailbox pattern');
    return decodeMailboxName(new TextEncoder().encode(s), this.ctx);
  }

  /** flag = "\" atom / keyword (atom). Returns canonical casing for system flags. */
  flag(): string {
    if (this.tryByte(BACKSLASH)) return canonicalSystemFlag(this.atom());
    return this.atom();
  }

  /** flag-list = "(" [flag *(SP flag)] ")" */
  flagList(): string[] {
    return this.list(() => this.flag());
  }

  /** date = date-text / DQUOTE date-text DQUOTE */
  date(): ImapDate {
    const quoted = this.tryByte(DQUOTE);
    const text = this.run(ATOM);
    if (quoted) this.expectByte(DQUOTE, 'closing quote');
    const date = parseDateText(text);
    if (date === undefined) return this.fail('Invalid date');
    return date;
  }

  /** date-time = DQUOTE date-day-fixed "-" date-month "-" date-year SP time SP zone DQUOTE */
  dateTime(): ImapDateTime {
    const value = parseDateTime(utf8Text(this.quoted()));
    if (value === undefined) return this.fail('Invalid date-time');
    return value;
  }
}

function unescapeQuoted(raw: Uint8Array): Uint8Array {
  const out = new Uint8Array(raw.length);
  let n = 0;
  for (let i = 0; i < raw.length; i++) {
    let b = raw[i] ?? 0;
    if (b === BACKSLASH) b = raw[++i] ?? 0;
    out[n++] = b;
  }
  return out.subarray(0, n);
}

/**
 * Decode a mailbox name from the wire: UTF-8 in UTF8 mode (RFC 6855 §3, RFC 9051 §5.1),
 * otherwise modified UTF-7 (RFC 3501 §5.1.3); raw UTF-8 from a rev1 client is tolerated.
 */
export function decodeMailboxName(bytes: Uint8Array, ctx: ParseContext): string {
  let text: string;
  try {
    text = utf8Strict.decode(bytes);
  } catch {
    return syntaxError('Mailbox name is not valid UTF-8');
  }
  let nonAscii = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) syntaxError('Control character in mailbox name');
    if (c > 0x7f) nonAscii = true;
  }
  if (ctx.utf8 || nonAscii) return text;
  const decoded = decodeModifiedUtf7(text);
  if (decoded === undefined) syntaxError('Mailbox name is not valid modified UTF-7');
  return decoded;
}

const SYSTEM_FLAGS = ['\\Answered', '\\Flagged', '\\Deleted', '\\Seen', '\\Draft', '\\Recent'];

function canonicalSystemFlag(atom: string): string {
  const flag = '\\' + atom;
  const known = SYSTEM_FLAGS.find((f) => f.toLowerCase() === flag.toLowerCase());
  return known ?? flag;
}

/** Whether `flag` may be set by STORE or APPEND: system flags except \Recent, or keywords. */
export function isStorableFlag(flag: string): boolean {
  if (!flag.startsWith('\\')) return true;
  return flag !== '\\Recent' && SYSTEM_FLAGS.includes(flag);
}

/** A calendar date (SEARCH BEFORE/ON/SINCE...), no time or zone (RFC 9051 §6.4.4). */
export interface ImapDate {
  readonly year: number;
  readonly month: number;
  readonly day: number;
}

/** An instant with the zone it was written in (APPEND date-time, INTERNALDATE). */
export interface ImapDateTime {
  readonly date: Date;
  /** Zone offset in minutes east of UTC. */
  readonly zone: number;
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** date-text = date-day "-" date-month "-" date-year, e.g. "1-Feb-1994". */
export function parseDateText(text: string): ImapDate | undefined {
  const m = /^([0-9]{1,2})-([A-Za-z]{3})-([0-9]{4})$/.exec(text);
  if (m === null) return undefined;
  const day = Number(m[1]);
  const month = MONTHS.indexOf((m[2] ?? '').toUpperCase()) + 1;
  const year = Number(m[3]);
  if (month === 0 || day < 1 || day > daysIn(year, month)) return undefined;
  return { year, month, day };
}

/** "17-Jul-1996 02:44:25 -0700" (a leading space or no padding on the day is accepted). */
export function parseDateTime(text: string): ImapDateTime | undefined {
  const m =
    /^ ?([0-9]{1,2})-([A-Za-z]{3})-([0-9]{4}) ([0-9]{2}):([0-9]{2}):([0-9]{2}) ([+-])([0-9]{2})([0-9]{2})$/.exec(
      text,
    );
  if (m === null) return undefined;
  const day = Number(m[1]);
  const month = MONTHS.indexOf((m[2] ?? '').toUpperCase()) + 1;
  const year = Number(m[3]);
  const [hour, minute, second] = [Number(m[4]), Number(m[5]), Number(m[6])];
  const zone = (m[7] === '-' ? -1 : 1) * (Number(m[8]) * 60 + Number(m[9]));
  if (month === 0 || day < 1 || day > daysIn(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 60 || Number(m[9]) > 59) return undefined;
  const utc = Date.UTC(year, month - 1, day, hour, minute, Math.min(second, 59)) - zone * 60000;
  return { date: new Date(utc), zone };
}
