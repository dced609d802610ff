/**
 * Message flags (RFC 9051 §2.3.2): the system flags, canonically cased, and keywords
 * (atoms, compared case-insensitively, stored as first written). \Recent is not stored
 * (IMAP4rev2 dropped it); other unknown system flags are refused.
 */

import { CommuneError } from '../../core/errors.ts';
import type { StoreOperation } from './mail-types.ts';

export const SEEN = '\\Seen';
export const DELETED = '\\Deleted';
export const SYSTEM_FLAGS: readonly string[] = [
  '\\Answered',
  '\\Flagged',
  DELETED,
  SEEN,
  '\\Draft',
];

const MAX_FLAGS = 256;
/** ATOM-CHAR (RFC 9051 §9 flag-keyword): printable ASCII minus specials and "]". */
const KEYWORD = /^[!#$&'+,\-./0-9:;<=>?@A-Z[^_`a-z|}~]{1,255}$/;

/** Canonical flags: system flags recased, duplicates (any case) removed, order kept. */
export function normalizeFlags(flags: readonly string[]): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const flag of flags) {
    let canonical: string;
    if (flag.startsWith('\\')) {
      if (flag.toLowerCase() === '\\recent') continue;
      const system = SYSTEM_FLAGS.find((f) => f.toLowerCase() === flag.toLowerCase());
      if (system === undefined) throw new CommuneError('invalid-argument', `invalid flag ${flag}`);
      canonical = system;
    } else {
      if (!KEYWORD.test(flag)) throw new CommuneError('invalid-argument', 'invalid keyword');
      canonical = flag;
    }
    const key = canonical.toLowerCase();
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(canonical);
  }
  if (out.length > MAX_FLAGS) throw new CommuneError('invalid-argument', 'too many flags');
  return out;
}

export function hasFlag(flags: readonly string[], flag: string): boolean {
  const key = flag.toLowerCase();
  return flags.some((f) => f.toLowerCase() === key);
}

/** The flags after STORE `op` (RFC 9051 §6.4.6) with normalised `flags`. */
export function applyFlags(
  current: readonly string[],
  op: StoreOperation,
  flags: readonly string[],
): string[] {
  switch (op) {
    case 'replace':
      return [...flags];
    case 'add':
      return normalizeFlags([...current, ...flags]);
    case 'remove':
      return current.filter((f) => !hasFlag(flags, f));
  }
}

/** Same flags regardless of order and case. */
export function sameFlags(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((f) => hasFlag(b, f));
}

/** The keywords (non-system flags) of `flags`. */
export function keywordsOf(flags: readonly string[]): string[] {
  return flags.filter((f) => !f.startsWith('\\'));
}
