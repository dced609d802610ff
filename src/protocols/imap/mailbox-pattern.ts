/**
 * LIST / LSUB patterns (RFC 9051 §6.3.9): the reference name and the pattern are joined, `*`
 * matches anything and `%` anything but the hierarchy separator "/". Names are
 * case-sensitive, except a leading INBOX, which matches in any case.
 */

const SEPARATOR = '/';

/** Join reference and pattern; a first level spelled "inbox" in any case becomes INBOX. */
export function canonicalPattern(reference: string, pattern: string): string {
  const full = reference + pattern;
  const head = full.slice(0, 5);
  const next = full[5];
  if (head.toUpperCase() === 'INBOX' && (next === undefined || '/*%'.includes(next))) {
    return 'INBOX' + full.slice(5);
  }
  return full;
}

/** A predicate for the names `reference` + `pattern` matches. */
export function patternMatcher(reference: string, pattern: string): (name: string) => boolean {
  let source = '';
  for (const ch of canonicalPattern(reference, pattern)) {
    if (ch === '*') source += '.*';
    else if (ch === '%') source += `[^${SEPARATOR}]*`;
    else source += ch.replace(/[\\^$.*+?()[\]{}|/-]/g, (c) => `\\${c}`);
  }
  const regex = new RegExp(`^${source}$`, 'su');
  return (name) => regex.test(name);
}

/** Superior names of `name`, outermost first: "a/b/c" -> ["a", "a/b"]. */
export function ancestors(name: string): string[] {
  const levels = name.split(SEPARATOR);
  const out: string[] = [];
  for (let i = 1; i < levels.length; i++) out.push(levels.slice(0, i).join(SEPARATOR));
  return out;
}

/** INBOX first, then by name. */
export function compareMailboxNames(a: string, b: string): number {
  if (a === b) return 0;
  if (a === 'INBOX') return -1;
  if (b === 'INBOX') return 1;
  return a < b ? -1 : 1;
}
