/**
 * SEARCH (RFC 9051 §6.4.4, RFC 3501 §6.4.4) with ESEARCH return options (RFC 4731), SAVE and
 * `$` (SEARCHRES, RFC 5182), MODSEQ (CONDSTORE, RFC 7162 §3.1.5), WITHIN OLDER/YOUNGER
 * (RFC 5032) and EMAILID/THREADID (OBJECTID, RFC 8474 §6), and UID SEARCH:
 *   search = "SEARCH" [SP "RETURN" SP "(" [search-return-opt *(SP search-return-opt)] ")"]
 *            SP ["CHARSET" SP charset SP] search-key *(SP search-key)
 */

import { syntaxError, utf8Text } from '../args.ts';
import type { ArgReader, ImapDate } from '../args.ts';
import type { SequenceSet } from '../sequence-set.ts';

export type SearchFlagKey =
  | 'ALL'
  | 'ANSWERED'
  | 'DELETED'
  | 'DRAFT'
  | 'FLAGGED'
  | 'NEW'
  | 'OLD'
  | 'RECENT'
  | 'SEEN'
  | 'UNANSWERED'
  | 'UNDELETED'
  | 'UNDRAFT'
  | 'UNFLAGGED'
  | 'UNSEEN';

export type SearchStringKey = 'BCC' | 'BODY' | 'CC' | 'FROM' | 'SUBJECT' | 'TEXT' | 'TO';
export type SearchDateKey = 'BEFORE' | 'ON' | 'SINCE' | 'SENTBEFORE' | 'SENTON' | 'SENTSINCE';

/** One search key; a parenthesised group is AND, the top level is an implicit AND. */
export type SearchKey =
  | { readonly key: SearchFlagKey }
  | { readonly key: SearchStringKey; readonly value: string }
  | { readonly key: 'HEADER'; readonly field: string; readonly value: string }
  | { readonly key: 'KEYWORD' | 'UNKEYWORD'; readonly flag: string }
  | { readonly key: SearchDateKey; readonly date: ImapDate }
  | { readonly key: 'LARGER' | 'SMALLER'; readonly size: number }
  | { readonly key: 'OLDER' | 'YOUNGER'; readonly seconds: number }
  | { readonly key: 'UID' | 'SEQUENCE'; readonly set: SequenceSet }
  | { readonly key: 'NOT'; readonly operand: SearchKey }
  | { readonly key: 'OR'; readonly left: SearchKey; readonly right: SearchKey }
  | { readonly key: 'AND'; readonly operands: readonly SearchKey[] }
  | {
      readonly key: 'MODSEQ';
      readonly modSeq: bigint;
      /** Entry name (e.g. "/flags/\\Seen") and type; null when not given. */
      readonly entry: { readonly name: string; readonly type: 'priv' | 'shared' | 'all' } | null;
    }
  | { readonly key: 'EMAILID' | 'THREADID'; readonly id: string };

export type SearchReturnOption = 'MIN' | 'MAX' | 'ALL' | 'COUNT' | 'SAVE';

export interface SearchCommand {
  readonly name: 'SEARCH';
  readonly uid: boolean;
  /** CHARSET, upper-cased; null when absent (US-ASCII/UTF-8). */
  readonly charset: string | null;
  /**
   * RETURN options; null when absent (classic `* SEARCH` reply). `RETURN ()` gives [] and
   * means ALL in an ESEARCH reply (RFC 4731 §3.1).
   */
  readonly returnOptions: readonly SearchReturnOption[] | null;
  /** Keys, ANDed. */
  readonly criteria: readonly SearchKey[];
}

const FLAG_KEYS: readonly SearchFlagKey[] = [
  'ALL',
  'ANSWERED',
  'DELETED',
  'DRAFT',
  'FLAGGED',
  'NEW',
  'OLD',
  'RECENT',
  'SEEN',
  'UNANSWERED',
  'UNDELETED',
  'UNDRAFT',
  'UNFLAGGED',
  'UNSEEN',
];
const STRING_KEYS: readonly SearchStringKey[] = [
  'BCC',
  'BODY',
  'CC',
  'FROM',
  'SUBJECT',
  'TEXT',
  'TO',
];
const DATE_KEYS: readonly SearchDateKey[] = [
  'BEFORE',
  'ON',
  'SINCE',
  'SENTBEFORE',
  'SENTON',
  'SENTSINCE',
];
const RETURN_OPTIONS: readonly SearchReturnOption[] = ['MIN', 'MAX', 'ALL', 'COUNT', 'SAVE'];
const ARGUMENT_KEYS: readonly string[] = [
  'HEADER',
  'KEYWORD',
  'UNKEYWORD',
  'LARGER',
  'SMALLER',
  'OLDER',
  'YOUNGER',
  'UID',
  'NOT',
  'OR',
  'MODSEQ',
  'EMAILID',
  'THREADID',
];

const isSeqByte = (b: number): boolean => (b >= 0x30 && b <= 0x39) || b === 0x2a || b === 0x24;

/** objectid = 1*255(ALPHA / DIGIT / "_" / "-") (RFC 8474 §7). */
function objectId(r: ArgReader): string {
  const id = r.atom();
  if (!/^[A-Za-z0-9_-]{1,255}$/.test(id)) syntaxError('Invalid object id');
  return id;
}

function parseModSeq(r: ArgReader): SearchKey {
  let entry: { name: string; type: 'priv' | 'shared' | 'all' } | null = null;
  if (r.peek() === 0x22) {
    const name = utf8Text(r.quoted());
    r.sp();
    const type = r.atom().toLowerCase();
    if (type !== 'priv' && type !== 'shared' && type !== 'all') syntaxError('Invalid entry type');
    r.sp();
    entry = { name, type };
  }
  return { key: 'MODSEQ', modSeq: r.number64(), entry };
}

/** One search-key (recursive for NOT, OR and parenthesised groups). */
export function parseSearchKey(r: ArgReader): SearchKey {
  if (r.peek() === 0x28) {
    return { key: 'AND', operands: r.list(() => parseSearchKey(r), false) };
  }
  if (isSeqByte(r.peek())) return { key: 'SEQUENCE', set: r.sequenceSet() };
  const word = r.keyword();
  const flagKey = FLAG_KEYS.find((k) => k === word);
  if (flagKey !== undefined) return { key: flagKey };
  const stringKey = STRING_KEYS.find((k) => k === word);
  if (stringKey !== undefined) {
    r.sp();
    return { key: stringKey, value: r.astringText() };
  }
  const dateKey = DATE_KEYS.find((k) => k === word);
  if (dateKey !== undefined) {
    r.sp();
    return { key: dateKey, date: r.date() };
  }
  if (!ARGUMENT_KEYS.includes(word)) return syntaxError('Unknown search key');
  r.sp();
  switch (word) {
    case 'HEADER': {
      const field = r.astringText();
      r.sp();
      return { key: 'HEADER', field, value: r.astringText() };
    }
    case 'KEYWORD':
    case 'UNKEYWORD':
      return { key: word, flag: r.atom() };
    case 'LARGER':
    case 'SMALLER': {
      const size = r.number64();
      return { key: word, size: Number(size) };
    }
    case 'OLDER':
    case 'YOUNGER':
      return { key: word, seconds: r.nzNumber() };
    case 'UID':
      return { key: 'UID', set: r.sequenceSet() };
    case 'NOT': {
      r.enter();
      const operand = parseSearchKey(r);
      r.leave();
      return { key: 'NOT', operand };
    }
    case 'OR': {
      r.enter();
      const left = parseSearchKey(r);
      r.sp();
      const right = parseSearchKey(r);
      r.leave();
      return { key: 'OR', left, right };
    }
    case 'MODSEQ':
      return parseModSeq(r);
    case 'EMAILID':
    case 'THREADID':
      return { key: word, id: objectId(r) };
    default:
      return syntaxError('Unknown search key');
  }
}

export function parseSearch(r: ArgReader, uid: boolean): SearchCommand {
  r.sp();
  let returnOptions: SearchReturnOption[] | null = null;
  if (r.tryKeyword('RETURN')) {
    r.sp();
    returnOptions = [];
    for (const word of r.list(() => r.keyword())) {
      const option = RETURN_OPTIONS.find((o) => o === word);
      if (option === undefined) syntaxError('Unknown SEARCH return option');
      if (!returnOptions.includes(option)) returnOptions.push(option);
    }
    r.sp();
  }
  let charset: string | null = null;
  if (r.tryKeyword('CHARSET')) {
    r.sp();
    charset = r.astringText().toUpperCase();
    r.sp();
  }
  const criteria: SearchKey[] = [parseSearchKey(r)];
  while (r.trySp()) criteria.push(parseSearchKey(r));
  r.end();
  return { name: 'SEARCH', uid, charset, returnOptions, criteria };
}
