/**
 * SEARCH evaluation (RFC 9051 §6.4.4, RFC 3501 §6.4.4) for one message, over the parsed keys
 * of the IMAP parser, plus MODSEQ (RFC 7162 §3.1.5), OLDER/YOUNGER (RFC 5032) and
 * EMAILID/THREADID (RFC 8474 §6). Keys are tried cheapest first and everything beyond the
 * index entry is loaded lazily through the target, so BODY/TEXT read blobs only for messages
 * that pass every cheaper key. fast-search.ts answers the keys of cost 0 and 1 (searchCost)
 * synchronously from memory; both share search-primitives.ts and must agree on every key.
 *
 * String keys match a case-insensitive substring of the decoded text. Date keys compare
 * calendar dates, disregarding time and timezone: INTERNALDATE in the zone it was given in,
 * and the Date header as written (falling back to INTERNALDATE when it has none).
 * \Recent no longer exists: RECENT and NEW match nothing, OLD everything.
 */

import type { SearchKey } from '../../../protocols/imap/parser/commands/search.ts';
import { sequenceSetContains } from '../../../protocols/imap/parser/sequence-set.ts';
import { decodeEncodedWords } from '../mime/encoded-words.ts';
import type { HeaderField } from '../mime/header-block.ts';
import { hasFlag } from '../message-flags.ts';
import type { MessageSummary } from '../mail-types.ts';
import type { DigestField, SearchDigest } from './search-digest.ts';
import { FLAG_OF, compareDays, dayNumber, foldText, internalDay } from './search-primitives.ts';

/** One message being searched; loaders are memoised by the caller. */
export interface SearchTarget {
  readonly summary: MessageSummary;
  /** Sequence number in the session's view. */
  readonly seq: number;
  /** The folded header digest (FROM ... SUBJECT, SENT*); undefined without an email record. */
  digest(): Promise<SearchDigest | undefined>;
  /** Top-level header fields. */
  headers(): Promise<readonly HeaderField[]>;
  /** Decoded header text, folded (see foldText). */
  headerText(): Promise<string>;
  /** Decoded body text, folded. */
  bodyText(): Promise<string>;
}

export interface SearchScope {
  /** Value of `*` in UID sets. */
  readonly maxUid: number;
  /** Value of `*` in sequence sets. */
  readonly maxSeq: number;
  /** Now, UTC milliseconds (OLDER / YOUNGER). */
  readonly now: number;
}

/** 0 index entry only, 1 header digest, 2 header from the blob, 3 body text. */
export function searchCost(key: SearchKey): number {
  switch (key.key) {
    case 'BCC':
    case 'CC':
    case 'FROM':
    case 'SUBJECT':
    case 'TO':
    case 'SENTBEFORE':
    case 'SENTON':
    case 'SENTSINCE':
      return 1;
    case 'HEADER':
      return 2;
    case 'BODY':
    case 'TEXT':
      return 3;
    case 'NOT':
      return searchCost(key.operand);
    case 'OR':
      return Math.max(searchCost(key.left), searchCost(key.right));
    case 'AND':
      return Math.max(0, ...key.operands.map(searchCost));
    default:
      return 0;
  }
}

async function sentDay(t: SearchTarget): Promise<number> {
  return (await t.digest())?.sentDay ?? internalDay(t.summary);
}

async function digestMatch(t: SearchTarget, field: DigestField, value: string): Promise<boolean> {
  const digest = await t.digest();
  return digest !== undefined && digest[field].includes(foldText(value));
}

/** Whether the message matches `key`. */
export async function matchesKey(
  key: SearchKey,
  t: SearchTarget,
  scope: SearchScope,
): Promise<boolean> {
  const s = t.summary;
  switch (key.key) {
    case 'ALL':
    case 'OLD':
      return true;
    case 'NEW':
    case 'RECENT':
      return false;
    case 'ANSWERED':
    case 'DELETED':
    case 'DRAFT':
    case 'FLAGGED':
    case 'SEEN':
      return hasFlag(s.flags, FLAG_OF[key.key] as string);
    case 'UNANSWERED':
    case 'UNDELETED':
    case 'UNDRAFT':
    case 'UNFLAGGED':
    case 'UNSEEN':
      return !hasFlag(s.flags, FLAG_OF[key.key.slice(2)] as string);
    case 'KEYWORD':
      return hasFlag(s.flags, key.flag);
    case 'UNKEYWORD':
      return !hasFlag(s.flags, key.flag);
    case 'BCC':
    case 'CC':
    case 'FROM':
    case 'TO':
    case 'SUBJECT':
      return digestMatch(t, key.key.toLowerCase() as DigestField, key.value);
    case 'BODY':
      return (await t.bodyText()).includes(foldText(key.value));
    case 'TEXT': {
      const wanted = foldText(key.value);
      return (await t.headerText()).includes(wanted) || (await t.bodyText()).includes(wanted);
    }
    case 'HEADER': {
      const name = key.field.toLowerCase();
      const wanted = foldText(key.value);
      return (await t.headers()).some(
        (f) =>
          f.name.toLowerCase() === name && foldText(decodeEncodedWords(f.value)).includes(wanted),
      );
    }
    case 'BEFORE':
    case 'ON':
    case 'SINCE':
      return compareDays(
        key.key,
        internalDay(s),
        dayNumber(key.date.year, key.date.month, key.date.day),
      );
    case 'SENTBEFORE':
    case 'SENTON':
    case 'SENTSINCE':
      return compareDays(
        key.key,
        await sentDay(t),
        dayNumber(key.date.year, key.date.month, key.date.day),
      );
    case 'LARGER':
      return s.size > key.size;
    case 'SMALLER':
      return s.size < key.size;
    case 'OLDER':
      return s.internalDate < scope.now - key.seconds * 1000;
    case 'YOUNGER':
      return s.internalDate >= scope.now - key.seconds * 1000;
    case 'UID':
      return sequenceSetContains(key.set, s.uid, scope.maxUid);
    case 'SEQUENCE':
      return sequenceSetContains(key.set, t.seq, scope.maxSeq);
    case 'MODSEQ':
      return s.modseq >= key.modSeq;
    case 'EMAILID':
      return s.emailId === key.id;
    case 'THREADID':
      return s.threadId === key.id;
    case 'NOT':
      return !(await matchesKey(key.operand, t, scope));
    case 'OR':
      return (await matchesKey(key.left, t, scope)) || (await matchesKey(key.right, t, scope));
    case 'AND':
      return matchesAll(key.operands, t, scope);
  }
}

/** Whether the message matches every key (cheapest keys first). */
export async function matchesAll(
  keys: readonly SearchKey[],
  t: SearchTarget,
  scope: SearchScope,
): Promise<boolean> {
  const ordered = [...keys].sort((a, b) => searchCost(a) - searchCost(b));
  for (const key of ordered) if (!(await matchesKey(key, t, scope))) return false;
  return true;
}
