/**
 * MIME content header fields (RFC 2045 §5 Content-Type, §6 Content-Transfer-Encoding,
 * RFC 2183 Content-Disposition, RFC 3282 Content-Language) parsed leniently, with RFC 2231
 * parameter continuations joined the way Dovecot presents them in BODYSTRUCTURE: `name*0`,
 * `name*1` become `name`; when any segment is charset-encoded the joined raw value is kept
 * under `name*` for the client to decode. Parameters without a value are dropped.
 */

import type { BodyParams } from '../../../protocols/imap/compose/body-structure.ts';

export interface ContentType {
  /** As written, e.g. "TEXT" or "text". */
  readonly type: string;
  readonly subtype: string;
  readonly params: BodyParams;
}

export interface Disposition {
  readonly type: string;
  readonly params: BodyParams;
}

const STOP = ' \t\r\n;"(';

/** Skip whitespace and comments from `i`. */
function skipCfws(s: string, i: number): number {
  let j = i;
  for (;;) {
    while (j < s.length && ' \t\r\n'.includes(s[j] as string)) j++;
    if (s[j] !== '(') return j;
    let depth = 0;
    while (j < s.length) {
      const c = s[j];
      if (c === '\\') j++;
      else if (c === '(') depth++;
      else if (c === ')' && --depth === 0) {
        j++;
        break;
      }
      j++;
    }
  }
}

/** A run of characters up to whitespace, ';', '"', '(' or any of `extra`. */
function readRun(s: string, i: number, extra: string): [string, number] {
  let j = i;
  while (j < s.length && !STOP.includes(s[j] as string) && !extra.includes(s[j] as string)) j++;
  return [s.slice(i, j), j];
}

function readQuoted(s: string, i: number): [string, number] {
  let text = '';
  let j = i + 1;
  while (j < s.length && s[j] !== '"') {
    if (s[j] === '\\' && j + 1 < s.length) j++;
    text += s[j];
    j++;
  }
  return [text, j + 1];
}

/** `*(";" attribute "=" value)` starting at `i`, raw (before RFC 2231 joining). */
function readParams(s: string, start: number): [string, string][] {
  const out: [string, string][] = [];
  let i = start;
  while (i < s.length) {
    const semi = s.indexOf(';', i);
    if (semi < 0) break;
    i = skipCfws(s, semi + 1);
    const [name, afterName] = readRun(s, i, '=');
    i = skipCfws(s, afterName);
    if (name === '' || s[i] !== '=') continue;
    i = skipCfws(s, i + 1);
    let value: string;
    if (s[i] === '"') {
      [value, i] = readQuoted(s, i);
    } else {
      [value, i] = readRun(s, i, '');
      if (value === '') continue;
    }
    out.push([name, value]);
  }
  return out;
}

/** Join RFC 2231 continuations, keeping first-appearance order. */
export function joinContinuations(raw: readonly (readonly [string, string])[]): [string, string][] {
  type Slot =
    { name: string; value: string } | { base: string; segments: Map<number, [string, boolean]> };
  const slots: Slot[] = [];
  const groups = new Map<string, Map<number, [string, boolean]>>();
  for (const [name, value] of raw) {
    const m = /^(.+?)\*(\d{1,3})(\*?)$/.exec(name);
    if (m === null) {
      slots.push({ name, value });
      continue;
    }
    const base = m[1] as string;
    const key = base.toLowerCase();
    let segments = groups.get(key);
    if (segments === undefined) {
      segments = new Map();
      groups.set(key, segments);
      slots.push({ base, segments });
    }
    const index = Number(m[2]);
    if (!segments.has(index)) segments.set(index, [value, m[3] === '*']);
  }
  return slots.map((slot) => {
    if ('name' in slot) return [slot.name, slot.value];
    const ordered = [...slot.segments.entries()].sort((a, b) => a[0] - b[0]);
    const extended = ordered.some(([, [, ext]]) => ext);
    return [extended ? `${slot.base}*` : slot.base, ordered.map(([, [v]]) => v).join('')];
  });
}

/** Parse a Content-Type value; null when it is not `type/subtype`. */
export function parseContentType(value: string): ContentType | null {
  let i = skipCfws(value, 0);
  const [type, afterType] = readRun(value, i, '/');
  i = skipCfws(value, afterType);
  if (type === '' || value[i] !== '/') return null;
  i = skipCfws(value, i + 1);
  const [subtype, afterSub] = readRun(value, i, '/');
  if (subtype === '') return null;
  return { type, subtype, params: joinContinuations(readParams(value, afterSub)) };
}

/** Parse a Content-Disposition value; null when it has no disposition type. */
export function parseDisposition(value: string): Disposition | null {
  const [type, after] = readRun(value, skipCfws(value, 0), '');
  if (type === '') return null;
  return { type, params: joinContinuations(readParams(value, after)) };
}

/** Content-Language tags (comments removed); null when none. */
export function parseLanguage(value: string): string[] | null {
  const tags: string[] = [];
  let i = 0;
  while (i < value.length) {
    i = skipCfws(value, i);
    const [tag, next] = readRun(value, i, ',');
    if (tag !== '') tags.push(tag);
    i = next;
    if (value[i] === ',' || (i < value.length && tag === '')) i++;
  }
  return tags.length > 0 ? tags : null;
}

/** The Content-Transfer-Encoding token as written (default "7bit"). */
export function parseEncoding(value: string | null): string {
  if (value === null) return '7bit';
  const [token] = readRun(value, skipCfws(value, 0), '');
  return token === '' ? '7bit' : token;
}

/** The value of parameter `name` (case-insensitive), or undefined. */
export function paramValue(params: BodyParams, name: string): string | undefined {
  const lower = name.toLowerCase();
  return params.find(([n]) => n.toLowerCase() === lower)?.[1];
}
