/**
 * Text matching of CalDAV and CardDAV filters (RFC 4791 §9.7.5, RFC 6352 §10.5.4) under the
 * collations of RFC 4790: i;octet (bytes), i;ascii-casemap (ASCII letters folded) and
 * i;unicode-casemap (RFC 5051: NFKD and case folding, approximated by lower-casing).
 */

export const COLLATIONS = ['i;ascii-casemap', 'i;octet', 'i;unicode-casemap'] as const;
export type Collation = (typeof COLLATIONS)[number];
export type MatchType = 'equals' | 'contains' | 'starts-with' | 'ends-with';

export interface TextMatch {
  readonly text: string;
  readonly collation: Collation;
  readonly matchType: MatchType;
  readonly negate: boolean;
}

export function isCollation(name: string): name is Collation {
  return (COLLATIONS as readonly string[]).includes(name);
}

function fold(value: string, collation: Collation): string {
  switch (collation) {
    case 'i;octet':
      return value;
    case 'i;ascii-casemap':
      return value.replace(/[A-Z]/g, (c) => c.toLowerCase());
    case 'i;unicode-casemap':
      return value.normalize('NFKD').toLowerCase().toUpperCase().toLowerCase();
  }
}

/** Whether `value` satisfies the match (negate-condition applied). */
export function matchText(match: TextMatch, value: string): boolean {
  const v = fold(value, match.collation);
  const t = fold(match.text, match.collation);
  let hit: boolean;
  switch (match.matchType) {
    case 'equals':
      hit = v === t;
      break;
    case 'starts-with':
      hit = v.startsWith(t);
      break;
    case 'ends-with':
      hit = v.endsWith(t);
      break;
    default:
      hit = v.includes(t);
  }
  return hit !== match.negate;
}
