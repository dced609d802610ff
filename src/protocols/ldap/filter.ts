/**
 * Search filters (RFC 4511 §4.5.1.7): the Filter union, its BER codec, the RFC 4515 string
 * form, and evaluation against an entry with the three-valued logic the RFC requires.
 *
 * Assertion values are kept as strings (UTF-8 decoded; invalid sequences become U+FFFD, so a
 * binary assertion value simply matches nothing). Empty and/or sets are accepted in both
 * forms: `(&)` is absolute TRUE and `(|)` absolute FALSE (RFC 4526).
 *
 * Evaluation (`matchFilter`) asks a FilterSchema how each attribute matches:
 * - caseIgnore: caseIgnoreMatch, caseIgnoreOrderingMatch, caseIgnoreSubstringsMatch
 *   (RFC 4517 §4.2), with the string preparation of string-prep.ts;
 * - caseExact: the same without case folding; distinguishedName: DN equality (dn.ts);
 * - integer: integerMatch and integerOrderingMatch; octetString: exact equality only.
 * approxMatch is case-insensitive equality with all white space removed. extensibleMatch
 * supports caseIgnoreMatch (2.5.13.2) and caseExactMatch (2.5.13.5) on string attributes,
 * with or without a type; any other rule is Undefined (RFC 4511 §4.5.1.7.7). The dnAttributes
 * flag is decoded but ignored: the DN's own values are not matched. Attribute descriptions
 * with options (`cn;lang-de`) never match a value: we serve no tagged values. Unknown
 * attribute types make an item Undefined; `present` on an unknown type looks the lower-cased
 * name up in the entry and is otherwise FALSE.
 */

import { CommuneError } from '../../core/errors.ts';
import { BerError } from './ber/ber-error.ts';
import type { BerReader } from './ber/ber-reader.ts';
import type { BerWriter } from './ber/ber-writer.ts';
import { normalizeDn, parseDn } from './dn.ts';
import {
  prepareApprox,
  prepareCaseExact,
  prepareCaseIgnore,
  prepareSubstring,
} from './string-prep.ts';

export type Filter =
  | { readonly type: 'and'; readonly filters: readonly Filter[] }
  | { readonly type: 'or'; readonly filters: readonly Filter[] }
  | { readonly type: 'not'; readonly filter: Filter }
  | { readonly type: 'equalityMatch'; readonly attribute: string; readonly value: string }
  | SubstringFilter
  | { readonly type: 'greaterOrEqual'; readonly attribute: string; readonly value: string }
  | { readonly type: 'lessOrEqual'; readonly attribute: string; readonly value: string }
  | { readonly type: 'present'; readonly attribute: string }
  | { readonly type: 'approxMatch'; readonly attribute: string; readonly value: string }
  | ExtensibleMatchFilter;

export interface SubstringFilter {
  readonly type: 'substrings';
  readonly attribute: string;
  readonly initial?: string;
  readonly any: readonly string[];
  readonly final?: string;
}

export interface ExtensibleMatchFilter {
  readonly type: 'extensibleMatch';
  readonly matchingRule?: string;
  readonly attribute?: string;
  readonly value: string;
  readonly dnAttributes: boolean;
}

export const DEFAULT_MAX_FILTER_DEPTH = 20;
const DEFAULT_MAX_FILTER_STRING = 16 * 1024;

/** Filter CHOICE tags (RFC 4511 §4.5.1). */
const FilterTag = Object.freeze({
  and: 0xa0,
  or: 0xa1,
  not: 0xa2,
  equalityMatch: 0xa3,
  substrings: 0xa4,
  greaterOrEqual: 0xa5,
  lessOrEqual: 0xa6,
  present: 0x87,
  approxMatch: 0xa8,
  extensibleMatch: 0xa9,
});

// ---------------------------------------------------------------------------------------------
// BER

/**
 * Decode one Filter from `reader`. Filters nested deeper than `maxDepth` (the outermost
 * filter is depth 1) throw BerError('too-deep').
 */
export function decodeFilter(
  reader: BerReader,
  maxDepth: number = DEFAULT_MAX_FILTER_DEPTH,
  depth = 1,
): Filter {
  if (depth > maxDepth) {
    throw new BerError('too-deep', `filter nested deeper than ${maxDepth}`, reader.offset);
  }
  const tag = reader.peekTag();
  switch (tag) {
    case FilterTag.and:
    case FilterTag.or: {
      const set = reader.readSequence(tag, 'filter set');
      const filters: Filter[] = [];
      while (!set.atEnd()) filters.push(decodeFilter(set, maxDepth, depth + 1));
      return { type: tag === FilterTag.and ? 'and' : 'or', filters };
    }
    case FilterTag.not: {
      const inner = reader.readSequence(tag, 'not');
      const filter = decodeFilter(inner, maxDepth, depth + 1);
      inner.expectEnd('not');
      return { type: 'not', filter };
    }
    case FilterTag.equalityMatch:
    case FilterTag.greaterOrEqual:
    case FilterTag.lessOrEqual:
    case FilterTag.approxMatch: {
      const ava = reader.readSequence(tag, 'AttributeValueAssertion');
      const attribute = ava.readString(undefined, 'attributeDesc');
      const value = ava.readLenientString(undefined, 'assertionValue');
      ava.expectEnd('AttributeValueAssertion');
      const type =
        tag === FilterTag.equalityMatch
          ? 'equalityMatch'
          : tag === FilterTag.greaterOrEqual
            ? 'greaterOrEqual'
            : tag === FilterTag.lessOrEqual
              ? 'lessOrEqual'
              : 'approxMatch';
      return { type, attribute, value };
    }
    case FilterTag.substrings:
      return decodeSubstrings(reader);
    case FilterTag.present:
      return { type: 'present', attribute: reader.readString(tag, 'present') };
    case FilterTag.extensibleMatch:
      return decodeExtensible(reader);
    case undefined:
      throw new BerError('truncated', 'expected a filter', reader.offset);
    default:
      throw new BerError(
        'unexpected-tag',
        `unknown filter choice 0x${tag.toString(16)}`,
        reader.offset,
      );
  }
}

function decodeSubstrings(reader: BerReader): SubstringFilter {
  const start = reader.offset;
  const seq = reader.readSequence(FilterTag.substrings, 'SubstringFilter');
  const attribute = seq.readString(undefined, 'type');
  const list = seq.readSequence(undefined, 'substrings');
  seq.expectEnd('SubstringFilter');
  let initial: string | undefined;
  let final: string | undefined;
  const any: string[] = [];
  let count = 0;
  // step: initial only first, final only last, at least one piece (RFC 4511 §4.5.1.7.2)
  while (!list.atEnd()) {
    const tag = list.peekTag();
    if (final !== undefined) throw new BerError('invalid-value', 'substring after final', start);
    if (tag === 0x80) {
      if (count !== 0) throw new BerError('invalid-value', 'initial substring not first', start);
      initial = list.readLenientString(0x80, 'initial');
    } else if (tag === 0x81) {
      any.push(list.readLenientString(0x81, 'any'));
    } else if (tag === 0x82) {
      final = list.readLenientString(0x82, 'final');
    } else {
      throw new BerError('unexpected-tag', 'unknown substring choice', list.offset);
    }
    count++;
  }
  if (count === 0) throw new BerError('invalid-value', 'empty substring filter', start);
  return {
    type: 'substrings',
    attribute,
    ...(initial === undefined ? {} : { initial }),
    any,
    ...(final === undefined ? {} : { final }),
  };
}

function decodeExtensible(reader: BerReader): ExtensibleMatchFilter {
  const start = reader.offset;
  const seq = reader.readSequence(FilterTag.extensibleMatch, 'MatchingRuleAssertion');
  const matchingRule = seq.peekTag() === 0x81 ? seq.readString(0x81, 'matchingRule') : undefined;
  const attribute = seq.peekTag() === 0x82 ? seq.readString(0x82, 'type') : undefined;
  const value = seq.readLenientString(0x83, 'matchValue');
  const dnAttributes = seq.peekTag() === 0x84 ? seq.readBoolean(0x84, 'dnAttributes') : false;
  seq.expectEnd('MatchingRuleAssertion');
  if (matchingRule === undefined && attribute === undefined) {
    throw new BerError('invalid-value', 'extensibleMatch needs a matchingRule or a type', start);
  }
  return {
    type: 'extensibleMatch',
    ...(matchingRule === undefined ? {} : { matchingRule }),
    ...(attribute === undefined ? {} : { attribute }),
    value,
    dnAttributes,
  };
}

/** Encode a Filter (RFC 4511 §4.5.1). */
export function encodeFilter(w: BerWriter, filter: Filter): void {
  switch (filter.type) {
    case 'and':
    case 'or':
      w.sequence(FilterTag[filter.type], () => {
        for (const f of filter.filters) encodeFilter(w, f);
      });
      return;
    case 'not':
      w.sequence(FilterTag.not, () => encodeFilter(w, filter.filter));
      return;
    case 'equalityMatch':
    case 'greaterOrEqual':
    case 'lessOrEqual':
    case 'approxMatch':
      w.sequence(FilterTag[filter.type], () => {
        w.writeOctetString(filter.attribute);
        w.writeOctetString(filter.value);
      });
      return;
    case 'substrings':
      w.sequence(FilterTag.substrings, () => {
        w.writeOctetString(filter.attribute);
        w.sequence(0x30, () => {
          if (filter.initial !== undefined) w.writeOctetString(filter.initial, 0x80);
          for (const a of filter.any) w.writeOctetString(a, 0x81);
          if (filter.final !== undefined) w.writeOctetString(filter.final, 0x82);
        });
      });
      return;
    case 'present':
      w.writeOctetString(filter.attribute, FilterTag.present);
      return;
    case 'extensibleMatch':
      w.sequence(FilterTag.extensibleMatch, () => {
        if (filter.matchingRule !== undefined) w.writeOctetString(filter.matchingRule, 0x81);
        if (filter.attribute !== undefined) w.writeOctetString(filter.attribute, 0x82);
        w.writeOctetString(filter.value, 0x83);
        if (filter.dnAttributes) w.writeBoolean(true, 0x84);
      });
      return;
  }
}

// ---------------------------------------------------------------------------------------------
// RFC 4515 string form

/** Escape an assertion value for the string form (RFC 4515 §3). */
export function escapeFilterValue(value: string): string {
  return value.replace(/[*()\\\0]/g, (c) => `\\${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** The RFC 4515 string form of a filter. */
export function filterToString(filter: Filter): string {
  switch (filter.type) {
    case 'and':
      return `(&${filter.filters.map(filterToString).join('')})`;
    case 'or':
      return `(|${filter.filters.map(filterToString).join('')})`;
    case 'not':
      return `(!${filterToString(filter.filter)})`;
    case 'equalityMatch':
      return `(${filter.attribute}=${escapeFilterValue(filter.value)})`;
    case 'greaterOrEqual':
      return `(${filter.attribute}>=${escapeFilterValue(filter.value)})`;
    case 'lessOrEqual':
      return `(${filter.attribute}<=${escapeFilterValue(filter.value)})`;
    case 'approxMatch':
      return `(${filter.attribute}~=${escapeFilterValue(filter.value)})`;
    case 'present':
      return `(${filter.attribute}=*)`;
    case 'substrings': {
      let s = `(${filter.attribute}=${escapeFilterValue(filter.initial ?? '')}*`;
      for (const a of filter.any) s += `${escapeFilterValue(a)}*`;
      return `${s}${escapeFilterValue(filter.final ?? '')})`;
    }
    case 'extensibleMatch':
      return (
        `(${filter.attribute ?? ''}${filter.dnAttributes ? ':dn' : ''}` +
        `${filter.matchingRule === undefined ? '' : `:${filter.matchingRule}`}:=` +
        `${escapeFilterValue(filter.value)})`
      );
  }
}

export interface FilterStringLimits {
  readonly maxLength?: number;
  readonly maxDepth?: number;
}

const ATTRIBUTE_DESCRIPTION = /^(?:[A-Za-z][A-Za-z0-9-]*|\d+(?:\.\d+)*)(?:;[A-Za-z0-9-]+)*$/;
const MATCHING_RULE = /^(?:[A-Za-z][A-Za-z0-9-]*|\d+(?:\.\d+)*)$/;
const lenientUtf8 = new TextDecoder('utf-8');
const utf8 = new TextEncoder();

/**
 * Parse the RFC 4515 string form. A bare item without parentheses (`cn=alice`) is accepted
 * too. Bounded by length and nesting depth; bad input throws CommuneError('invalid-argument').
 */
export function parseFilterString(text: string, limits: FilterStringLimits = {}): Filter {
  const maxLength = limits.maxLength ?? DEFAULT_MAX_FILTER_STRING;
  const maxDepth = limits.maxDepth ?? DEFAULT_MAX_FILTER_DEPTH;
  const fail = (why: string, at: number): CommuneError =>
    new CommuneError('invalid-argument', `invalid filter: ${why} at ${at}`);
  if (text.length > maxLength) throw fail(`longer than ${maxLength} characters`, 0);

  const src = text.trim();
  let pos = 0;

  const parse = (depth: number): Filter => {
    if (depth > maxDepth) throw fail(`nested deeper than ${maxDepth}`, pos);
    if (src[pos] !== '(') throw fail('expected "("', pos);
    pos++;
    let filter: Filter;
    const c = src[pos];
    if (c === '&' || c === '|') {
      pos++;
      const filters: Filter[] = [];
      while (src[pos] === '(') filters.push(parse(depth + 1));
      filter = { type: c === '&' ? 'and' : 'or', filters };
    } else if (c === '!') {
      pos++;
      filter = { type: 'not', filter: parse(depth + 1) };
    } else {
      // step: an item runs to the next ")" (values cannot hold an unescaped parenthesis)
      const end = src.indexOf(')', pos);
      if (end < 0) throw fail('missing ")"', pos);
      filter = parseItem(src.slice(pos, end), pos, fail);
      pos = end;
    }
    if (src[pos] !== ')') throw fail('expected ")"', pos);
    pos++;
    return filter;
  };

  if (!src.startsWith('(')) return parseItem(src, 0, fail);
  const filter = parse(1);
  if (pos !== src.length) throw fail('unexpected text after the filter', pos);
  return filter;
}

type Fail = (why: string, at: number) => CommuneError;

/** One simple, present, substring or extensible item (RFC 4515 §3 `item`). */
function parseItem(item: string, at: number, fail: Fail): Filter {
  // step: the first "=" ends the left side (descriptions and rule OIDs never hold one)
  const eq = item.indexOf('=');
  if (eq < 0) throw fail('expected an operator', at);
  const left = item.slice(0, eq);
  const rawValue = item.slice(eq + 1);
  const marker = left.at(-1);
  const op = marker === '~' || marker === '>' || marker === '<' || marker === ':' ? marker : '';
  const attribute = op === '' ? left : left.slice(0, -1);
  // step: extensible match: attr[:dn][:rule]:=value or [:dn]:rule:=value
  if (op === ':') {
    const [attr = '', ...parts] = attribute.split(':');
    let dnAttributes = false;
    let matchingRule: string | undefined;
    for (const [i, part] of parts.entries()) {
      if (i === 0 && part.toLowerCase() === 'dn' && !(parts.length === 1 && attr === '')) {
        dnAttributes = true;
      } else if (matchingRule === undefined && i === parts.length - 1 && MATCHING_RULE.test(part)) {
        matchingRule = part;
      } else throw fail(`bad extensible match part "${part}"`, at);
    }
    if (attr !== '' && !ATTRIBUTE_DESCRIPTION.test(attr)) {
      throw fail(`bad attribute description "${attr}"`, at);
    }
    if (attr === '' && matchingRule === undefined) {
      throw fail('extensible match needs an attribute or a matching rule', at);
    }
    return {
      type: 'extensibleMatch',
      ...(matchingRule === undefined ? {} : { matchingRule }),
      ...(attr === '' ? {} : { attribute: attr }),
      value: unescapeValue(rawValue, at, fail),
      dnAttributes,
    };
  }
  if (!ATTRIBUTE_DESCRIPTION.test(attribute)) {
    throw fail(`bad attribute description "${attribute}"`, at);
  }
  if (op !== '') {
    const type = op === '~' ? 'approxMatch' : op === '>' ? 'greaterOrEqual' : 'lessOrEqual';
    return { type, attribute, value: unescapeValue(rawValue, at, fail) };
  }
  // step: "=": present, substrings or equality
  if (rawValue === '*') return { type: 'present', attribute };
  const pieces = rawValue.split('*');
  if (pieces.length === 1) {
    return { type: 'equalityMatch', attribute, value: unescapeValue(rawValue, at, fail) };
  }
  const first = pieces[0] ?? '';
  const last = pieces[pieces.length - 1] ?? '';
  const any = pieces
    .slice(1, -1)
    .filter((p) => p !== '')
    .map((p) => unescapeValue(p, at, fail));
  return {
    type: 'substrings',
    attribute,
    ...(first === '' ? {} : { initial: unescapeValue(first, at, fail) }),
    any,
    ...(last === '' ? {} : { final: unescapeValue(last, at, fail) }),
  };
}

/** Undo RFC 4515 `\XX` escapes; raw parentheses, `*` and NUL are errors. */
function unescapeValue(raw: string, at: number, fail: Fail): string {
  if (!raw.includes('\\')) {
    if (/[()*\0]/.test(raw)) throw fail('unescaped special character in a value', at);
    return raw;
  }
  const bytes: number[] = [];
  for (let i = 0; i < raw.length;) {
    const c = raw[i] ?? '';
    if (c === '\\') {
      const hex = raw.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) throw fail('bad escape in a value', at);
      bytes.push(parseInt(hex, 16));
      i += 3;
      continue;
    }
    if ('()*\0'.includes(c)) throw fail('unescaped special character in a value', at);
    const ch = String.fromCodePoint(raw.codePointAt(i) ?? 0);
    for (const b of utf8.encode(ch)) bytes.push(b);
    i += ch.length;
  }
  return lenientUtf8.decode(Uint8Array.from(bytes));
}

// ---------------------------------------------------------------------------------------------
// Evaluation

/** RFC 4511 §4.5.1.7 three-valued result. */
export type FilterResult = 'TRUE' | 'FALSE' | 'UNDEFINED';

/** How an attribute's values compare. */
export type EqualityRule =
  'caseIgnore' | 'caseExact' | 'distinguishedName' | 'integer' | 'octetString';

export interface AttributeMatchInfo {
  /** Lower-cased key of the attribute in FilterEntry.attributes. */
  readonly name: string;
  readonly equality: EqualityRule;
}

/** The part of the subschema that filter evaluation needs. */
export interface FilterSchema {
  /** Resolve an attribute type (name, alias or OID; any case; no options), or undefined. */
  attribute(type: string): AttributeMatchInfo | undefined;
}

export interface AttributeDefinition {
  readonly name: string;
  readonly equality: EqualityRule;
  /** Other names (e.g. `commonName` for `cn`) and the OID. */
  readonly aliases?: readonly string[];
}

/** A FilterSchema from a list of attribute definitions. */
export function createFilterSchema(defs: readonly AttributeDefinition[]): FilterSchema {
  const byName = new Map<string, AttributeMatchInfo>();
  for (const def of defs) {
    const info: AttributeMatchInfo = { name: def.name.toLowerCase(), equality: def.equality };
    byName.set(info.name, info);
    for (const alias of def.aliases ?? []) byName.set(alias.toLowerCase(), info);
  }
  return { attribute: (type) => byName.get(type.toLowerCase()) };
}

/** An entry as filters see it: attribute names lower-cased, values as strings. */
export interface FilterEntry {
  readonly dn: string;
  readonly attributes: ReadonlyMap<string, readonly string[]>;
}

/** Evaluate `filter` against `entry` (RFC 4511 §4.5.1.7). */
export function matchFilter(
  filter: Filter,
  entry: FilterEntry,
  schema: FilterSchema,
): FilterResult {
  switch (filter.type) {
    case 'and': {
      let result: FilterResult = 'TRUE';
      for (const f of filter.filters) {
        const r = matchFilter(f, entry, schema);
        if (r === 'FALSE') return 'FALSE';
        if (r === 'UNDEFINED') result = 'UNDEFINED';
      }
      return result;
    }
    case 'or': {
      let result: FilterResult = 'FALSE';
      for (const f of filter.filters) {
        const r = matchFilter(f, entry, schema);
        if (r === 'TRUE') return 'TRUE';
        if (r === 'UNDEFINED') result = 'UNDEFINED';
      }
      return result;
    }
    case 'not': {
      const r = matchFilter(filter.filter, entry, schema);
      return r === 'TRUE' ? 'FALSE' : r === 'FALSE' ? 'TRUE' : 'UNDEFINED';
    }
    case 'present': {
      const { type, hasOptions } = splitDescription(filter.attribute);
      if (hasOptions) return 'FALSE';
      const name = schema.attribute(type)?.name ?? type.toLowerCase();
      return (entry.attributes.get(name)?.length ?? 0) > 0 ? 'TRUE' : 'FALSE';
    }
    case 'equalityMatch':
    case 'approxMatch':
    case 'greaterOrEqual':
    case 'lessOrEqual':
    case 'substrings':
      return matchItem(filter, entry, schema);
    case 'extensibleMatch':
      return matchExtensible(filter, entry, schema);
  }
}

function splitDescription(description: string): { type: string; hasOptions: boolean } {
  const semi = description.indexOf(';');
  return semi < 0
    ? { type: description, hasOptions: false }
    : { type: description.slice(0, semi), hasOptions: true };
}

/** A prepared assertion: tests one stored value, or is undefined if the assertion is invalid. */
type ValueTest = ((value: string) => boolean) | undefined;

type ItemFilter = Exclude<Filter, { type: 'and' | 'or' | 'not' | 'present' | 'extensibleMatch' }>;

function matchItem(filter: ItemFilter, entry: FilterEntry, schema: FilterSchema): FilterResult {
  const { type, hasOptions } = splitDescription(filter.attribute);
  const info = schema.attribute(type);
  if (info === undefined) return 'UNDEFINED';
  const test = prepareTest(filter, info.equality);
  if (test === undefined) return 'UNDEFINED';
  if (hasOptions) return 'FALSE';
  return anyValue(entry.attributes.get(info.name), test);
}

function anyValue(
  values: readonly string[] | undefined,
  test: (v: string) => boolean,
): FilterResult {
  for (const v of values ?? []) if (test(v)) return 'TRUE';
  return 'FALSE';
}

/** Build the per-value test for an item under an attribute's rule. */
function prepareTest(filter: ItemFilter, rule: EqualityRule): ValueTest {
  switch (filter.type) {
    case 'equalityMatch':
      return equalityTest(filter.value, rule);
    case 'approxMatch': {
      // step: string rules get our approximate match, the others fall back to equality
      if (rule !== 'caseIgnore' && rule !== 'caseExact') return equalityTest(filter.value, rule);
      const want = prepareApprox(filter.value);
      return (v) => prepareApprox(v) === want;
    }
    case 'greaterOrEqual':
    case 'lessOrEqual': {
      const ge = filter.type === 'greaterOrEqual';
      if (rule === 'integer') {
        const want = parseInteger(filter.value);
        if (want === undefined) return undefined;
        return (v) => {
          const n = parseInteger(v);
          return n !== undefined && (ge ? n >= want : n <= want);
        };
      }
      if (rule !== 'caseIgnore' && rule !== 'caseExact') return undefined;
      const prep = rule === 'caseIgnore' ? prepareCaseIgnore : prepareCaseExact;
      const want = prep(filter.value);
      return (v) => (ge ? prep(v) >= want : prep(v) <= want);
    }
    case 'substrings': {
      if (rule !== 'caseIgnore' && rule !== 'caseExact') return undefined;
      return substringsTest(filter, rule === 'caseIgnore');
    }
  }
}

function equalityTest(assertion: string, rule: EqualityRule): ValueTest {
  switch (rule) {
    case 'caseIgnore': {
      const want = prepareCaseIgnore(assertion);
      return (v) => prepareCaseIgnore(v) === want;
    }
    case 'caseExact': {
      const want = prepareCaseExact(assertion);
      return (v) => prepareCaseExact(v) === want;
    }
    case 'distinguishedName': {
      let want: string;
      try {
        want = normalizeDn(parseDn(assertion));
      } catch {
        return undefined;
      }
      return (v) => {
        try {
          return normalizeDn(v) === want;
        } catch {
          return false;
        }
      };
    }
    case 'integer': {
      const want = parseInteger(assertion);
      if (want === undefined) return undefined;
      return (v) => parseInteger(v) === want;
    }
    case 'octetString':
      return (v) => v === assertion;
  }
}

function parseInteger(value: string): bigint | undefined {
  const v = value.trim();
  return /^-?\d{1,40}$/.test(v) ? BigInt(v) : undefined;
}

/** caseIgnoreSubstringsMatch / caseExactSubstringsMatch (RFC 4517 §4.2.6, §4.2.5). */
function substringsTest(filter: SubstringFilter, fold: boolean): ValueTest {
  const prepValue = fold ? prepareCaseIgnore : prepareCaseExact;
  const initial =
    filter.initial === undefined ? '' : prepareSubstring(filter.initial, fold).trimStart();
  const final = filter.final === undefined ? '' : prepareSubstring(filter.final, fold).trimEnd();
  const any = filter.any.map((a) => prepareSubstring(a, fold));
  return (raw) => {
    const v = prepValue(raw);
    if (!v.startsWith(initial)) return false;
    let pos = initial.length;
    for (const piece of any) {
      const at = v.indexOf(piece, pos);
      if (at < 0) return false;
      pos = at + piece.length;
    }
    return v.length - final.length >= pos && v.endsWith(final);
  };
}

/** Matching rules usable in extensibleMatch, by lower-cased name and OID. */
const EXTENSIBLE_RULES: ReadonlyMap<string, 'caseIgnore' | 'caseExact'> = new Map([
  ['caseignorematch', 'caseIgnore'],
  ['2.5.13.2', 'caseIgnore'],
  ['caseexactmatch', 'caseExact'],
  ['2.5.13.5', 'caseExact'],
]);

/** RFC 4511 §4.5.1.7.7. */
function matchExtensible(
  filter: ExtensibleMatchFilter,
  entry: FilterEntry,
  schema: FilterSchema,
): FilterResult {
  // step: no rule: the attribute's own equality rule
  if (filter.matchingRule === undefined) {
    if (filter.attribute === undefined) return 'UNDEFINED';
    return matchItem(
      { type: 'equalityMatch', attribute: filter.attribute, value: filter.value },
      entry,
      schema,
    );
  }
  const rule = EXTENSIBLE_RULES.get(filter.matchingRule.toLowerCase());
  if (rule === undefined) return 'UNDEFINED';
  const test = equalityTest(filter.value, rule);
  if (test === undefined) return 'UNDEFINED';
  const applies = (info: AttributeMatchInfo): boolean =>
    info.equality === 'caseIgnore' || info.equality === 'caseExact';
  // step: with a type, that attribute only (the rule must suit its syntax)
  if (filter.attribute !== undefined) {
    const { type, hasOptions } = splitDescription(filter.attribute);
    const info = schema.attribute(type);
    if (info === undefined || !applies(info)) return 'UNDEFINED';
    if (hasOptions) return 'FALSE';
    return anyValue(entry.attributes.get(info.name), test);
  }
  // step: without a type, every attribute of the entry that supports the rule
  for (const [name, values] of entry.attributes) {
    const info = schema.attribute(name);
    if (info !== undefined && applies(info) && anyValue(values, test) === 'TRUE') return 'TRUE';
  }
  return 'FALSE';
}
