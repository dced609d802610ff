/**
 * Parsing the filter elements of calendar-query (RFC 4791 §9.7) and addressbook-query
 * (RFC 6352 §10.5) bodies into the domain filter types. Unknown collations are 403
 * supported-collation; malformed time ranges are 400.
 */

import type {
  CompFilter,
  ParamFilter,
  PropFilter,
  TimeRange,
} from '../../../storage/calendar/calendar-filter.ts';
import { MAX_MS, MIN_MS } from '../../../storage/calendar/calendar-object.ts';
import {
  isCollation,
  type MatchType,
  type TextMatch,
} from '../../../storage/calendar/text-match.ts';
import { DavError } from '../dav-error.ts';
import { attribute, childElement, elementsOf, textOf, type XmlElement } from '../xml.ts';

/** A UTC date-time in iCalendar basic form (RFC 4791 §9.9): 20240101T000000Z. */
export function parseUtc(value: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value.trim());
  if (!m) throw DavError.badRequest(`invalid UTC date-time ${value.slice(0, 40)}`);
  const [, y, mo, d, h, mi, s] = m.map(Number) as number[];
  return Date.UTC(y as number, (mo as number) - 1, d, h, mi, s);
}

export function parseTimeRange(el: XmlElement, ns: string): TimeRange {
  const start = attribute(el, 'start');
  const end = attribute(el, 'end');
  if (start === undefined && end === undefined) {
    throw DavError.badRequest('time-range needs start or end');
  }
  const range = {
    start: start === undefined ? MIN_MS : parseUtc(start),
    end: end === undefined ? MAX_MS : parseUtc(end),
  };
  if (range.end <= range.start) {
    throw DavError.badRequest(`${ns === '' ? '' : ''}time-range end must follow its start`);
  }
  return range;
}

export function parseTextMatch(el: XmlElement, ns: string): TextMatch {
  const collation = attribute(el, 'collation') ?? 'i;ascii-casemap';
  if (!isCollation(collation)) {
    throw DavError.forbidden(`unsupported collation ${collation.slice(0, 40)}`, {
      ns,
      name: 'supported-collation',
    });
  }
  const matchType = (attribute(el, 'match-type') ?? 'contains') as MatchType;
  if (!['equals', 'contains', 'starts-with', 'ends-with'].includes(matchType)) {
    throw DavError.badRequest('invalid match-type');
  }
  return {
    text: textOf(el),
    collation,
    matchType,
    negate: attribute(el, 'negate-condition') === 'yes',
  };
}

function parseParamFilter(el: XmlElement, ns: string): ParamFilter {
  const name = attribute(el, 'name');
  if (!name) throw DavError.badRequest('param-filter needs a name');
  const tm = childElement(el, ns, 'text-match');
  return {
    name,
    isNotDefined: childElement(el, ns, 'is-not-defined') !== undefined,
    ...(tm ? { textMatch: parseTextMatch(tm, ns) } : {}),
  };
}

export function parsePropFilter(
  el: XmlElement,
  ns: string,
  defaultTest: 'anyof' | 'allof',
): PropFilter {
  const name = attribute(el, 'name');
  if (!name) throw DavError.badRequest('prop-filter needs a name');
  const tr = childElement(el, ns, 'time-range');
  const test = attribute(el, 'test') ?? defaultTest;
  if (test !== 'anyof' && test !== 'allof') throw DavError.badRequest('invalid test');
  return {
    name,
    isNotDefined: childElement(el, ns, 'is-not-defined') !== undefined,
    ...(tr ? { timeRange: parseTimeRange(tr, ns) } : {}),
    textMatches: elementsOf(el)
      .filter((e) => e.ns === ns && e.name === 'text-match')
      .map((e) => parseTextMatch(e, ns)),
    params: elementsOf(el)
      .filter((e) => e.ns === ns && e.name === 'param-filter')
      .map((e) => parseParamFilter(e, ns)),
    test,
  };
}

export function parseCompFilter(el: XmlElement, ns: string): CompFilter {
  const name = attribute(el, 'name');
  if (!name) throw DavError.badRequest('comp-filter needs a name');
  const tr = childElement(el, ns, 'time-range');
  return {
    name,
    isNotDefined: childElement(el, ns, 'is-not-defined') !== undefined,
    ...(tr ? { timeRange: parseTimeRange(tr, ns) } : {}),
    props: elementsOf(el)
      .filter((e) => e.ns === ns && e.name === 'prop-filter')
      .map((e) => parsePropFilter(e, ns, 'allof')),
    comps: elementsOf(el)
      .filter((e) => e.ns === ns && e.name === 'comp-filter')
      .map((e) => parseCompFilter(e, ns)),
  };
}
