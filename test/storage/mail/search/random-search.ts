/**
 * Random mailboxes and SEARCH criteria for the tests that compare the in-memory fast path
 * (fast-search.ts) with the general evaluator (search-evaluator.ts): a seeded PRNG, so a
 * failure names the seed that reproduces it.
 */

import type { SearchKey } from '../../../../src/protocols/imap/parser/commands/search.ts';
import type { SequenceSet } from '../../../../src/protocols/imap/parser/sequence-set.ts';
import type { HeaderDigest, MessageSummary } from '../../../../src/storage/mail/mail-types.ts';

export { prng } from '../../../support/prng.ts';

export type Rand = () => number;

export function pick<T>(rand: Rand, items: readonly T[]): T {
  return items[Math.floor(rand() * items.length)] as T;
}

function int(rand: Rand, lo: number, hi: number): number {
  return lo + Math.floor(rand() * (hi - lo + 1));
}

/** Words with case, accents (composed and decomposed) and non-ASCII, so folding matters. */
export const WORDS = [
  'budget',
  'Meeting',
  'INVOICE',
  'café',
  'CAFÉ',
  'cafe\u0301',
  'Straße',
  'résumé',
  'Ölkanne',
  'naïve',
  'release',
  'Roadmap',
  'hello world',
  'x',
];

const FLAGS = ['\\Seen', '\\Answered', '\\Flagged', '\\Deleted', '\\Draft', '$Work', '$Later'];

/** Random text of one to three words (sometimes empty). */
export function randomText(rand: Rand): string {
  if (rand() < 0.1) return '';
  return Array.from({ length: int(rand, 1, 3) }, () => pick(rand, WORDS)).join(' ');
}

/** A piece of text to look for: a word in some case, a part of one, or something absent. */
export function randomNeedle(rand: Rand): string {
  const word = pick(rand, WORDS);
  const r = rand();
  if (r < 0.3) return word.toUpperCase();
  if (r < 0.5) return word.slice(0, Math.max(1, Math.floor(word.length / 2)));
  if (r < 0.6) return 'absent';
  return word;
}

function randomDate(rand: Rand): { year: number; month: number; day: number } {
  return { year: 2026, month: int(rand, 2, 4), day: int(rand, 1, 28) };
}

export function randomDigest(rand: Rand): HeaderDigest {
  const d = randomDate(rand);
  return {
    from: randomText(rand),
    to: randomText(rand),
    cc: randomText(rand),
    bcc: randomText(rand),
    subject: randomText(rand),
    sentDate:
      rand() < 0.2
        ? null
        : `${d.year}-${String(d.month).padStart(2, '0')}-${String(d.day).padStart(2, '0')}`,
  };
}

export function randomFlags(rand: Rand): string[] {
  return FLAGS.filter(() => rand() < 0.35);
}

/** `count` summaries with ascending UIDs (gaps included), random flags, sizes and dates. */
export function randomSummaries(rand: Rand, count: number): MessageSummary[] {
  const out: MessageSummary[] = [];
  let uid = 0;
  for (let i = 0; i < count; i++) {
    uid += int(rand, 1, 3);
    const d = randomDate(rand);
    out.push({
      uid,
      modseq: BigInt(int(rand, 1, 200)),
      flags: randomFlags(rand),
      size: int(rand, 100, 5000),
      internalDate: Date.UTC(d.year, d.month - 1, d.day, int(rand, 0, 23), int(rand, 0, 59)),
      zone: pick(rand, [0, 60, -300, 330, 840, -720]),
      emailId: `M${String(int(rand, 1, count))}`,
      threadId: `T${String(int(rand, 1, 5))}`,
    });
  }
  return out;
}

function randomSet(rand: Rand, max: number): SequenceSet {
  const n = (): number | '*' => (rand() < 0.15 ? '*' : int(rand, 1, max + 2));
  return {
    ranges: Array.from({ length: int(rand, 1, 3) }, () => {
      const start = n();
      return { start, end: rand() < 0.5 ? start : n() };
    }),
    saved: false,
  };
}

export interface KeyOptions {
  /** Include HEADER, BODY and TEXT (keys that need the message's bytes). */
  readonly bytes: boolean;
  readonly maxUid: number;
  readonly maxSeq: number;
  readonly emailIds: readonly string[];
}

/** One random key; `depth` bounds NOT / OR / AND nesting. */
export function randomKey(rand: Rand, options: KeyOptions, depth = 2): SearchKey {
  const r = rand();
  if (depth > 0 && r < 0.2) {
    const which = rand();
    if (which < 0.35) return { key: 'NOT', operand: randomKey(rand, options, depth - 1) };
    if (which < 0.7) {
      return {
        key: 'OR',
        left: randomKey(rand, options, depth - 1),
        right: randomKey(rand, options, depth - 1),
      };
    }
    return {
      key: 'AND',
      operands: Array.from({ length: int(rand, 1, 3) }, () => randomKey(rand, options, depth - 1)),
    };
  }
  const leaves: (() => SearchKey)[] = [
    () =>
      ({
        key: pick(rand, [
          'ALL',
          'ANSWERED',
          'DELETED',
          'DRAFT',
          'FLAGGED',
          'NEW',
          'OLD',
          'RECENT',
          'SEEN',
          'UNANSWERED',
          'UNDELETED',
          'UNDRAFT',
          'UNFLAGGED',
          'UNSEEN',
        ] as const),
      }) as SearchKey,
    () => ({
      key: pick(rand, ['KEYWORD', 'UNKEYWORD'] as const),
      flag: pick(rand, ['$Work', '$work', '$LATER', '$None']),
    }),
    () => ({
      key: pick(rand, ['FROM', 'TO', 'CC', 'BCC', 'SUBJECT'] as const),
      value: randomNeedle(rand),
    }),
    () => ({
      key: pick(rand, ['FROM', 'TO', 'CC', 'BCC', 'SUBJECT'] as const),
      value: randomNeedle(rand),
    }),
    () => ({
      key: pick(rand, ['BEFORE', 'ON', 'SINCE', 'SENTBEFORE', 'SENTON', 'SENTSINCE'] as const),
      date: randomDate(rand),
    }),
    () => ({ key: pick(rand, ['LARGER', 'SMALLER'] as const), size: int(rand, 50, 5100) }),
    () => ({
      key: pick(rand, ['OLDER', 'YOUNGER'] as const),
      seconds: int(rand, 1, 60) * 86_400,
    }),
    () => ({ key: 'UID', set: randomSet(rand, options.maxUid) }),
    () => ({ key: 'SEQUENCE', set: randomSet(rand, options.maxSeq) }),
    () => ({ key: 'MODSEQ', modSeq: BigInt(int(rand, 1, 220)), entry: null }),
    () => ({ key: 'EMAILID', id: pick(rand, options.emailIds) }),
    () => ({ key: 'THREADID', id: `T${String(int(rand, 1, 6))}` }),
  ];
  if (options.bytes) {
    leaves.push(
      () => ({ key: pick(rand, ['BODY', 'TEXT'] as const), value: randomNeedle(rand) }),
      () => ({
        key: 'HEADER',
        field: pick(rand, ['Subject', 'X-Tag', 'from']),
        value: rand() < 0.2 ? '' : randomNeedle(rand),
      }),
    );
  }
  return pick(rand, leaves)();
}

/** One to three random top-level keys (an implicit AND). */
export function randomCriteria(rand: Rand, options: KeyOptions): SearchKey[] {
  return Array.from({ length: int(rand, 1, 3) }, () => randomKey(rand, options));
}
