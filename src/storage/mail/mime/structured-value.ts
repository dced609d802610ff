/**
 * Tokenizer for structured header values (RFC 5322 §3.2, RFC 2045 §5.1): atoms, quoted
 * strings (unescaped), comments (nested, kept as tokens so callers may use their text),
 * domain literals and one-character specials. Whitespace is not a token: the next token
 * records whether whitespace or a comment preceded it. Never throws; an unterminated quoted
 * string or comment runs to the end.
 */

export type TokenKind = 'atom' | 'quoted' | 'comment' | 'literal' | 'special';

export interface Token {
  readonly kind: TokenKind;
  /** Atom text, unescaped quoted/comment content, `[...]` literal, or the special char. */
  readonly text: string;
  /** Whitespace (or a comment) came before this token. */
  readonly space: boolean;
}

/** RFC 5322 §3.2.3 specials, minus the ones handled structurally ( ( " [ ). */
export const ADDRESS_SPECIALS = '<>@,;:.\\]';
/** RFC 2045 §5.1 tspecials, minus ( and ". */
export const MIME_SPECIALS = '<>@,;:\\/[]?=';

const MAX_COMMENT_DEPTH = 50;

function isWsp(c: string): boolean {
  return c === ' ' || c === '\t' || c === '\r' || c === '\n';
}

/** Read a "..." string starting at `i` (the quote); returns text and index after it. */
function readQuoted(value: string, i: number): [string, number] {
  let text = '';
  let j = i + 1;
  while (j < value.length && value[j] !== '"') {
    if (value[j] === '\\' && j + 1 < value.length) j++;
    text += value[j];
    j++;
  }
  return [text, j + 1];
}

/** Read a (possibly nested) comment starting at `i`; returns text and index after it. */
function readComment(value: string, i: number): [string, number] {
  let depth = 0;
  let text = '';
  let j = i;
  while (j < value.length) {
    const c = value[j] as string;
    if (c === '\\' && j + 1 < value.length) {
      text += value[j + 1];
      j += 2;
      continue;
    }
    if (c === '(') {
      depth++;
      if (depth > 1 && depth <= MAX_COMMENT_DEPTH) text += c;
    } else if (c === ')') {
      depth--;
      if (depth === 0) return [text, j + 1];
      text += c;
    } else {
      text += c;
    }
    j++;
  }
  return [text, j];
}

export function tokenize(value: string, specials: string): Token[] {
  const tokens: Token[] = [];
  let space = false;
  let i = 0;
  while (i < value.length) {
    const c = value[i] as string;
    if (isWsp(c)) {
      space = true;
      i++;
      continue;
    }
    if (c === '"') {
      const [text, next] = readQuoted(value, i);
      tokens.push({ kind: 'quoted', text, space });
      i = next;
    } else if (c === '(') {
      const [text, next] = readComment(value, i);
      tokens.push({ kind: 'comment', text, space });
      i = next;
      space = true;
      continue;
    } else if (c === '[' && specials === ADDRESS_SPECIALS) {
      const close = value.indexOf(']', i);
      const next = close < 0 ? value.length : close + 1;
      tokens.push({ kind: 'literal', text: value.slice(i, next), space });
      i = next;
    } else if (specials.includes(c)) {
      tokens.push({ kind: 'special', text: c, space });
      i++;
    } else {
      let j = i;
      while (j < value.length) {
        const d = value[j] as string;
        if (isWsp(d) || d === '"' || d === '(' || specials.includes(d)) break;
        if (d === '[' && specials === ADDRESS_SPECIALS) break;
        j++;
      }
      tokens.push({ kind: 'atom', text: value.slice(i, j), space });
      i = j;
    }
    space = false;
  }
  return tokens;
}
