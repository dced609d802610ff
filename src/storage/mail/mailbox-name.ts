/**
 * Mailbox names (RFC 9051 §5.1): '/' is the hierarchy separator, names are case-sensitive
 * except INBOX (any case, also as the first level of a longer name, is stored "INBOX").
 * Names are Unicode (the IMAP layer decodes modified UTF-7 or UTF-8 first).
 */

import { CommuneError } from '../../core/errors.ts';

export const SEPARATOR = '/';
export const INBOX = 'INBOX';

const MAX_NAME = 1024;
const MAX_LEVELS = 64;

/** The canonical form of `name`; 'invalid-argument' for a name that cannot exist. */
export function normalizeMailboxName(name: string): string {
  const levels = name.normalize('NFC').split(SEPARATOR);
  if (levels[0]?.toUpperCase() === INBOX) levels[0] = INBOX;
  const out = levels.join(SEPARATOR);
  if (
    out.length === 0 ||
    out.length > MAX_NAME ||
    levels.length > MAX_LEVELS ||
    levels.some((level) => level.length === 0) ||
    /[\p{Cc}*%]/u.test(out)
  ) {
    throw new CommuneError('invalid-argument', 'invalid mailbox name');
  }
  return out;
}

/** Superior names of `name`, outermost first: "a/b/c" -> ["a", "a/b"]. */
export function parentNames(name: string): string[] {
  const levels = name.split(SEPARATOR);
  const out: string[] = [];
  for (let i = 1; i < levels.length; i++) out.push(levels.slice(0, i).join(SEPARATOR));
  return out;
}

/** Whether `name` is strictly below `ancestor` in the hierarchy. */
export function isDescendant(name: string, ancestor: string): boolean {
  return name.startsWith(ancestor + SEPARATOR);
}
