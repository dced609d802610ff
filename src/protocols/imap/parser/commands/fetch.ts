/**
 * FETCH (RFC 9051 §6.4.5) with BINARY (RFC 3516), CONDSTORE/QRESYNC modifiers
 * (RFC 7162 §3.1.4, §3.2.6) and OBJECTID items (RFC 8474 §5), and UID FETCH (§6.4.9):
 *   fetch     = "FETCH" SP sequence-set SP ("ALL" / "FULL" / "FAST" / fetch-att /
 *               "(" fetch-att *(SP fetch-att) ")") [fetch-modifiers]
 *   fetch-att = "ENVELOPE" / "FLAGS" / "INTERNALDATE" / "RFC822" [".HEADER" / ".SIZE" / ".TEXT"] /
 *               "BODY" ["STRUCTURE"] / "UID" / "BODY" [".PEEK"] section [partial] /
 *               "BINARY" [".PEEK"] section-binary [partial] / "BINARY.SIZE" section-binary /
 *               "MODSEQ" / "EMAILID" / "THREADID"
 *   section         = "[" [section-spec] "]"
 *   section-spec    = section-msgtext / (section-part ["." section-text])
 *   section-msgtext = "HEADER" / "HEADER.FIELDS" [".NOT"] SP header-list / "TEXT"
 *   section-text    = section-msgtext / "MIME"
 *   section-binary  = "[" [section-part] "]"
 *   partial         = "<" number64 "." nz-number64 ">"
 *   fetch-modifiers = SP "(" ("CHANGEDSINCE" SP mod-sequence-value / "VANISHED") ... ")"
 */

import { syntaxError } from '../args.ts';
import type { ArgReader } from '../args.ts';
import type { SequenceSet } from '../sequence-set.ts';

/** The text part of a BODY[] section. */
export type SectionText =
  | { readonly kind: 'HEADER' | 'TEXT' | 'MIME' }
  | { readonly kind: 'HEADER.FIELDS' | 'HEADER.FIELDS.NOT'; readonly fields: readonly string[] };

/** A BODY[] section: a part path ([] is the whole message) and an optional text specifier. */
export interface FetchSection {
  readonly part: readonly number[];
  readonly text: SectionText | null;
}

/** `<origin.length>`: the response names only the origin (`BODY[]<0>`). */
export interface FetchPartial {
  readonly offset: number;
  readonly length: number;
}

export type SimpleFetchItemName =
  | 'ENVELOPE'
  | 'FLAGS'
  | 'INTERNALDATE'
  | 'RFC822'
  | 'RFC822.HEADER'
  | 'RFC822.SIZE'
  | 'RFC822.TEXT'
  | 'BODY'
  | 'BODYSTRUCTURE'
  | 'UID'
  | 'MODSEQ'
  | 'EMAILID'
  | 'THREADID';

export type FetchItem =
  | { readonly item: SimpleFetchItemName }
  | {
      readonly item: 'BODY[]';
      /** BODY.PEEK: do not set \Seen. */
      readonly peek: boolean;
      readonly section: FetchSection;
      readonly partial: FetchPartial | null;
    }
  | {
      readonly item: 'BINARY[]';
      readonly peek: boolean;
      readonly part: readonly number[];
      readonly partial: FetchPartial | null;
    }
  | { readonly item: 'BINARY.SIZE[]'; readonly part: readonly number[] };

export type FetchMacro = 'ALL' | 'FAST' | 'FULL';

export interface FetchCommand {
  readonly name: 'FETCH';
  readonly uid: boolean;
  readonly sequence: SequenceSet;
  /** Items in request order, macros expanded. UID/MODSEQ implied by UID FETCH/CHANGEDSINCE
   *  are not added here: the session adds them to the response. */
  readonly items: readonly FetchItem[];
  readonly macro: FetchMacro | null;
  /** CHANGEDSINCE (RFC 7162 §3.1.4.1); null when absent. */
  readonly changedSince: bigint | null;
  /** VANISHED (RFC 7162 §3.2.6), only with UID FETCH and CHANGEDSINCE. */
  readonly vanished: boolean;
}

const SIMPLE_ITEMS: readonly SimpleFetchItemName[] = [
  'ENVELOPE',
  'FLAGS',
  'INTERNALDATE',
  'RFC822',
  'RFC822.HEADER',
  'RFC822.SIZE',
  'RFC822.TEXT',
  'BODY',
  'BODYSTRUCTURE',
  'UID',
  'MODSEQ',
  'EMAILID',
  'THREADID',
];

const MACROS: Record<FetchMacro, readonly SimpleFetchItemName[]> = {
  ALL: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE'],
  FAST: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE'],
  FULL: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE', 'BODY'],
};

const isNameByte = (b: number): boolean =>
  (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || (b >= 0x30 && b <= 0x39) || b === 0x2e;

const isDigit = (b: number): boolean => b >= 0x30 && b <= 0x39;

/** Parse `"[" [section-spec] "]"`. */
function parseSection(r: ArgReader): FetchSection {
  r.expectByte(0x5b, '[');
  const part: number[] = [];
  let text: SectionText | null = null;
  while (r.peek() !== 0x5d) {
    if (isDigit(r.peek())) {
      part.push(r.nzNumber());
      if (!r.tryByte(0x2e)) break;
      if (r.peek() === 0x5d) syntaxError('Invalid section');
      continue;
    }
    const word = r.runWhile(isNameByte).toUpperCase();
    if (word === 'HEADER' || word === 'TEXT') text = { kind: word };
    else if (word === 'MIME' && part.length > 0) text = { kind: 'MIME' };
    else if (word === 'HEADER.FIELDS' || word === 'HEADER.FIELDS.NOT') {
      r.sp();
      text = { kind: word, fields: r.list(() => r.astringText(), false) };
    } else syntaxError('Invalid section');
    break;
  }
  r.expectByte(0x5d, ']');
  return { part, text };
}

function parsePartial(r: ArgReader): FetchPartial | null {
  if (!r.tryByte(0x3c)) return null;
  const offset = r.number64();
  r.expectByte(0x2e, '.');
  const length = r.number64();
  r.expectByte(0x3e, '>');
  if (length === 0n || offset + length > BigInt(Number.MAX_SAFE_INTEGER)) {
    syntaxError('Invalid partial');
  }
  return { offset: Number(offset), length: Number(length) };
}

/** Parse `"[" [section-part] "]"`. */
function parseBinarySection(r: ArgReader): number[] {
  r.expectByte(0x5b, '[');
  const part: number[] = [];
  if (r.peek() !== 0x5d) {
    part.push(r.nzNumber());
    while (r.tryByte(0x2e)) part.push(r.nzNumber());
  }
  r.expectByte(0x5d, ']');
  return part;
}

/** One fetch-att. */
export function parseFetchItem(r: ArgReader): FetchItem {
  const name = r.runWhile(isNameByte).toUpperCase();
  if (r.peek() === 0x5b) {
    if (name === 'BODY' || name === 'BODY.PEEK') {
      const section = parseSection(r);
      return { item: 'BODY[]', peek: name === 'BODY.PEEK', section, partial: parsePartial(r) };
    }
    if (name === 'BINARY' || name === 'BINARY.PEEK') {
      const part = parseBinarySection(r);
      return { item: 'BINARY[]', peek: name === 'BINARY.PEEK', part, partial: parsePartial(r) };
    }
    if (name === 'BINARY.SIZE') return { item: 'BINARY.SIZE[]', part: parseBinarySection(r) };
    return syntaxError('Unknown FETCH item');
  }
  const simple = SIMPLE_ITEMS.find((i) => i === name);
  if (simple === undefined) return syntaxError('Unknown FETCH item');
  return { item: simple };
}

export function parseFetch(r: ArgReader, uid: boolean): FetchCommand {
  r.sp();
  const sequence = r.sequenceSet();
  r.sp();
  let items: FetchItem[];
  let macro: FetchMacro | null = null;
  if (r.peek() === 0x28) items = r.list(() => parseFetchItem(r), false);
  else {
    macro = (['ALL', 'FAST', 'FULL'] as const).find((m) => r.tryKeyword(m)) ?? null;
    items = macro === null ? [parseFetchItem(r)] : MACROS[macro].map((item) => ({ item }));
  }
  let changedSince: bigint | null = null;
  let vanished = false;
  if (r.trySp()) {
    r.list(() => {
      const word = r.keyword();
      if (word === 'CHANGEDSINCE' && changedSince === null) {
        r.sp();
        changedSince = r.number64();
      } else if (word === 'VANISHED' && !vanished) vanished = true;
      else syntaxError('Unknown FETCH modifier');
    }, false);
  }
  r.end();
  // VANISHED needs UID FETCH with CHANGEDSINCE (RFC 7162 §3.2.6)
  if (vanished && (!uid || changedSince === null)) {
    syntaxError('VANISHED requires UID FETCH with CHANGEDSINCE');
  }
  return { name: 'FETCH', uid, sequence, items, macro, changedSince, vanished };
}
