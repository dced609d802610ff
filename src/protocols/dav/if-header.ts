/**
 * The If request header (RFC 4918 §10.4): lists of state tokens and entity tags, optionally
 * tagged with the resource they apply to. The parser is pure; evaluation against resource
 * state lives in dav-locks.ts.
 *
 *   If = 1*No-tag-list | 1*Tagged-list
 *   Tagged-list = Resource-Tag 1*List         Resource-Tag = "<" Simple-ref ">"
 *   List = "(" 1*Condition ")"                Condition = ["Not"] (Coded-URL | "[" entity-tag "]")
 */

import { DavError } from './dav-error.ts';

export interface IfCondition {
  readonly not: boolean;
  /** A state token (lock token), without angle brackets. */
  readonly token?: string;
  /** An entity tag as written, quotes included (`"abc"`, `W/"abc"`). */
  readonly etag?: string;
}

export interface IfList {
  /** The Resource-Tag as written (absolute URI or path), undefined for a No-tag-list. */
  readonly resource: string | undefined;
  readonly conditions: readonly IfCondition[];
}

const MAX_LISTS = 64;
const MAX_CONDITIONS = 64;

/** Parse an If header value; DavError 400 when malformed. */
export function parseIfHeader(value: string): IfList[] {
  const lists: IfList[] = [];
  let i = 0;
  let resource: string | undefined;
  let tagged: boolean | undefined;
  const fail = (why: string): never => {
    throw DavError.badRequest(`malformed If header: ${why}`);
  };
  const skipSpace = (): void => {
    while (i < value.length && (value[i] === ' ' || value[i] === '\t')) i++;
  };
  const readUntil = (close: string): string => {
    const end = value.indexOf(close, i);
    if (end < 0) fail(`missing ${close}`);
    const out = value.slice(i, end);
    i = end + 1;
    return out;
  };

  skipSpace();
  if (i >= value.length) fail('empty');
  while (i < value.length) {
    if (value[i] === '<') {
      // Resource-Tag
      if (tagged === false) fail('mixes tagged and untagged lists');
      tagged = true;
      i++;
      resource = readUntil('>').trim();
      if (resource === '') fail('empty resource tag');
      skipSpace();
      if (value[i] !== '(') fail('resource tag without list');
      continue;
    }
    if (value[i] !== '(') fail(`unexpected ${JSON.stringify(value[i])}`);
    if (tagged === undefined) tagged = false;
    i++;
    const conditions: IfCondition[] = [];
    for (;;) {
      skipSpace();
      if (i >= value.length) fail('unterminated list');
      if (value[i] === ')') {
        i++;
        break;
      }
      let not = false;
      if (value.slice(i, i + 3).toLowerCase() === 'not') {
        not = true;
        i += 3;
        skipSpace();
      }
      if (value[i] === '<') {
        i++;
        const token = readUntil('>').trim();
        if (token === '') fail('empty state token');
        conditions.push({ not, token });
      } else if (value[i] === '[') {
        i++;
        const etag = readUntil(']').trim();
        if (!/^(W\/)?"[^"]*"$/.test(etag)) fail('invalid entity tag');
        conditions.push({ not, etag });
      } else {
        fail('expected a state token or entity tag');
      }
      if (conditions.length > MAX_CONDITIONS) fail('too many conditions');
    }
    if (conditions.length === 0) fail('empty list');
    lists.push({ resource: tagged ? resource : undefined, conditions });
    if (lists.length > MAX_LISTS) fail('too many lists');
    skipSpace();
  }
  return lists;
}

/** State tokens submitted by the header (RFC 4918 §10.4.1: non-negated tokens in any list). */
export function submittedTokens(lists: readonly IfList[]): Set<string> {
  const out = new Set<string>();
  for (const l of lists) for (const c of l.conditions) if (!c.not && c.token) out.add(c.token);
  return out;
}
