/**
 * SEARCH without I/O: the keys answerable from a message's index entry and its search digest
 * (every key but HEADER, BODY and TEXT, RFC 9051 §6.4.4) compiled once per search into
 * synchronous tests, run over messages whose summaries and digests are in memory. The values
 * of the keys are folded, parsed and turned into numbers once, not once per message.
 *
 * It must answer exactly as the general evaluator (search-evaluator.ts) does; both share
 * search-primitives.ts, and a test compares them over random mailboxes and criteria.
 */

import type { SearchKey } from '../../../protocols/imap/parser/commands/search.ts';
import { sequenceSetContains } from '../../../protocols/imap/parser/sequence-set.ts';
import type { MessageSummary } from '../mail-types.ts';
import type { DigestField, SearchDigest } from './search-digest.ts';
import type { SearchScope } from './search-evaluator.ts';
import { searchCost } from './search-evaluator.ts';
import { FLAG_OF, compareDays, dayNumber, foldText, internalDay } from './search-primitives.ts';

/** One compiled key: does the message match? `digest` is undefined without an email record. */
export type FastTest = (
  summary: MessageSummary,
  seq: number,
  digest: SearchDigest | undefined,
) => boolean;

/** A search split for two passes: index keys first, then the keys that need the digest. */
export interface FastSearch {
  /** The cost-0 keys of the top-level AND (true when there are none). */
  readonly index: FastTest;
  /** The cost-1 keys of the top-level AND, or undefined when there are none. */
  readonly digest: FastTest | undefined;
}

const always: FastTest = () => true;
const never: FastTest = () => false;

function flagTest(flag: string, present: boolean): FastTest {
  const wanted = flag.toLowerCase();
  return (s) => s.flags.some((f) => f.toLowerCase() === wanted) === present;
}

function all(tests: readonly FastTest[]): FastTest {
  if (tests.length === 0) return always;
  if (tests.length === 1) return tests[0] as FastTest;
  return (s, seq, d) => {
    for (const test of tests) if (!test(s, seq, d)) return false;
    return true;
  };
}

/** The test of one key, or undefined when the key needs the message's bytes. */
export function compileKey(key: SearchKey, scope: SearchScope): FastTest | undefined {
  switch (key.key) {
    case 'ALL':
    case 'OLD':
      return always;
    case 'NEW':
    case 'RECENT':
      return never;
    case 'ANSWERED':
    case 'DELETED':
    case 'DRAFT':
    case 'FLAGGED':
    case 'SEEN':
      return flagTest(FLAG_OF[key.key] as string, true);
    case 'UNANSWERED':
    case 'UNDELETED':
    case 'UNDRAFT':
    case 'UNFLAGGED':
    case 'UNSEEN':
      return flagTest(FLAG_OF[key.key.slice(2)] as string, false);
    case 'KEYWORD':
      return flagTest(key.flag, true);
    case 'UNKEYWORD':
      return flagTest(key.flag, false);
    case 'BCC':
    case 'CC':
    case 'FROM':
    case 'TO':
    case 'SUBJECT': {
      const field = key.key.toLowerCase() as DigestField;
      const wanted = foldText(key.value);
      return (_s, _seq, d) => d !== undefined && d[field].includes(wanted);
    }
    case 'HEADER':
    case 'BODY':
    case 'TEXT':
      return undefined;
    case 'BEFORE':
    case 'ON':
    case 'SINCE': {
      const name = key.key;
      const wanted = dayNumber(key.date.year, key.date.month, key.date.day);
      return (s) => compareDays(name, internalDay(s), wanted);
    }
    case 'SENTBEFORE':
    case 'SENTON':
    case 'SENTSINCE': {
      const name = key.key;
      const wanted = dayNumber(key.date.year, key.date.month, key.date.day);
      return (s, _seq, d) => compareDays(name, d?.sentDay ?? internalDay(s), wanted);
    }
    case 'LARGER': {
      const size = key.size;
      return (s) => s.size > size;
    }
    case 'SMALLER': {
      const size = key.size;
      return (s) => s.size < size;
    }
    case 'OLDER': {
      const cutoff = scope.now - key.seconds * 1000;
      return (s) => s.internalDate < cutoff;
    }
    case 'YOUNGER': {
      const cutoff = scope.now - key.seconds * 1000;
      return (s) => s.internalDate >= cutoff;
    }
    case 'UID': {
      const { set } = key;
      return (s) => sequenceSetContains(set, s.uid, scope.maxUid);
    }
    case 'SEQUENCE': {
      const { set } = key;
      return (_s, seq) => sequenceSetContains(set, seq, scope.maxSeq);
    }
    case 'MODSEQ': {
      const modseq = key.modSeq;
      return (s) => s.modseq >= modseq;
    }
    case 'EMAILID': {
      const id = key.id;
      return (s) => s.emailId === id;
    }
    case 'THREADID': {
      const id = key.id;
      return (s) => s.threadId === id;
    }
    case 'NOT': {
      const operand = compileKey(key.operand, scope);
      return operand === undefined ? undefined : (s, seq, d) => !operand(s, seq, d);
    }
    case 'OR': {
      const left = compileKey(key.left, scope);
      const right = compileKey(key.right, scope);
      if (left === undefined || right === undefined) return undefined;
      return (s, seq, d) => left(s, seq, d) || right(s, seq, d);
    }
    case 'AND':
      return compileKeys(key.operands, scope);
  }
}

/** The test of every key together, or undefined when one needs the message's bytes. */
export function compileKeys(keys: readonly SearchKey[], scope: SearchScope): FastTest | undefined {
  const tests: FastTest[] = [];
  for (const key of keys) {
    const test = compileKey(key, scope);
    if (test === undefined) return undefined;
    tests.push(test);
  }
  return all(tests);
}

/**
 * The cost-0 keys of `criteria` as one test (a pre-filter that is exact for those keys, so a
 * slower evaluation of the rest need only look at the messages it lets through).
 */
export function compileIndexFilter(criteria: readonly SearchKey[], scope: SearchScope): FastTest {
  return compileKeys(
    criteria.filter((k) => searchCost(k) === 0),
    scope,
  ) as FastTest;
}

/** The whole search in memory, or undefined when a key needs the message's bytes. */
export function compileFastSearch(
  criteria: readonly SearchKey[],
  scope: SearchScope,
): FastSearch | undefined {
  if (criteria.some((k) => searchCost(k) > 1)) return undefined;
  const digestKeys = criteria.filter((k) => searchCost(k) === 1);
  return {
    index: compileIndexFilter(criteria, scope),
    digest: digestKeys.length === 0 ? undefined : compileKeys(digestKeys, scope),
  };
}
