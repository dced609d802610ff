/**
 * Running a SEARCH over a mailbox's view, reading as little as the keys allow:
 *
 * 1. Keys on the index entry alone (flags, sizes, dates, UIDs, MODSEQ ...) are compiled
 *    (fast-search.ts) and filter the view first, with no read beyond the summaries (which a
 *    caller with an in-memory index passes in: then there is no read at all).
 * 2. When the other keys need only header digests (FROM, TO, CC, BCC, SUBJECT, SENT*), the
 *    digests of the remaining messages come from the caller's cache, else from the email
 *    records (read in one batch, then cached), and the compiled keys decide in memory.
 * 3. Otherwise (HEADER, BODY, TEXT) the general evaluator (search-evaluator.ts) runs over the
 *    remaining messages with lazily loading targets: a header is read as its byte range; the
 *    blob is read whole only for body text of messages that pass every cheaper key.
 */

import type { SearchKey } from '../../../protocols/imap/parser/commands/search.ts';
import type { BlobStore } from '../../blob-store.ts';
import type { HeaderField } from '../mime/header-block.ts';
import { parseHeaderBlock } from '../mime/header-block.ts';
import { extractBodyText, headerText } from '../mime/text-extractor.ts';
import type { EmailRecord, MessageSummary, SearchResult } from '../mail-types.ts';
import { compileFastSearch, compileIndexFilter } from './fast-search.ts';
import type { FastTest } from './fast-search.ts';
import type { SearchDigest, SearchDigestCache } from './search-digest.ts';
import { searchDigestOf } from './search-digest.ts';
import { matchesAll, searchCost } from './search-evaluator.ts';
import type { SearchScope, SearchTarget } from './search-evaluator.ts';
import { foldText } from './search-primitives.ts';

/** Messages at most this large are read whole for BODY/TEXT; larger ones part by part. */
const WHOLE_READ = 8 * 1024 * 1024;

/** What a caller that keeps the mailbox in memory (the IMAP server) lends a search. */
export interface SearchSources {
  /**
   * The index entry of a UID of the view, from the caller's in-memory index (used together
   * with the view: the index is then not read from the store).
   */
  readonly summaryOf?: (uid: number) => MessageSummary | undefined;
  /** Digests kept between searches; this search adds the ones it computes. */
  readonly digests?: SearchDigestCache;
  /** An EmailRecord the caller already holds, if any. */
  readonly cachedEmail?: (emailId: string) => EmailRecord | undefined;
}

export interface SearchInput {
  readonly criteria: readonly SearchKey[];
  /** UIDs in sequence order. */
  readonly view: readonly number[];
  /** The index entry of a UID of the view; undefined for messages that are gone. */
  readonly summaryOf: (uid: number) => MessageSummary | undefined;
  readonly now: number;
  readonly loadEmails: (emailIds: readonly string[]) => Promise<Map<string, EmailRecord>>;
  readonly blobs: BlobStore;
  readonly digests?: SearchDigestCache | undefined;
  readonly cachedEmail?: ((emailId: string) => EmailRecord | undefined) | undefined;
}

interface Candidate {
  readonly summary: MessageSummary;
  readonly seq: number;
}

function lazy<T>(load: () => Promise<T>): () => Promise<T> {
  let value: Promise<T> | undefined;
  return () => (value ??= load());
}

async function readRange(
  blobs: BlobStore,
  hash: string,
  start: number,
  end: number,
): Promise<Uint8Array> {
  if (end <= start) return new Uint8Array(0);
  const stream = await blobs.get(hash, { start, end });
  if (stream === undefined) return new Uint8Array(0);
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return new Uint8Array(Buffer.concat(chunks));
}

function target(
  candidate: Candidate,
  email: EmailRecord | undefined,
  digest: () => SearchDigest | undefined,
  blobs: BlobStore,
  wantsBody: boolean,
): SearchTarget {
  // step: with BODY/TEXT keys the blob is read whole, once; headers alone read their range
  let whole: Promise<Uint8Array | undefined> | undefined;
  const read = async (start: number, end: number): Promise<Uint8Array> => {
    if (email === undefined) return new Uint8Array(0);
    if (wantsBody && email.size <= WHOLE_READ) whole ??= blobs.getBytes(email.blob);
    const bytes = await whole;
    if (bytes !== undefined) return bytes.subarray(start, end);
    return readRange(blobs, email.blob, start, end);
  };
  const headerBytes = lazy(async () =>
    email === undefined ? new Uint8Array(0) : read(email.parts.h, email.parts.b),
  );
  const headers = lazy(async (): Promise<readonly HeaderField[]> =>
    parseHeaderBlock(await headerBytes()),
  );
  return {
    summary: candidate.summary,
    seq: candidate.seq,
    digest: async () => digest(),
    headers,
    headerText: lazy(async () => foldText(headerText(await headerBytes()))),
    bodyText: lazy(async () =>
      email === undefined ? '' : foldText(await extractBodyText(email.body, email.parts, read)),
    ),
  };
}

/** Email records of `candidates`: the caller's first, the rest read in one batch. */
async function emailsOf(
  input: SearchInput,
  candidates: readonly Candidate[],
): Promise<Map<string, EmailRecord>> {
  const out = new Map<string, EmailRecord>();
  const missing = new Set<string>();
  for (const { summary } of candidates) {
    const cached = input.cachedEmail?.(summary.emailId);
    if (cached !== undefined) out.set(summary.emailId, cached);
    else missing.add(summary.emailId);
  }
  if (missing.size > 0) {
    for (const [id, email] of await input.loadEmails([...missing])) out.set(id, email);
  }
  return out;
}

/** Digests of `candidates` by email id: cached ones, the rest from their email records. */
async function digestsOf(
  input: SearchInput,
  candidates: readonly Candidate[],
): Promise<Map<string, SearchDigest>> {
  const out = new Map<string, SearchDigest>();
  const missing: Candidate[] = [];
  for (const c of candidates) {
    const digest = input.digests?.get(c.summary.emailId);
    if (digest !== undefined) out.set(c.summary.emailId, digest);
    else missing.push(c);
  }
  if (missing.length > 0) {
    const emails = await emailsOf(input, missing);
    for (const [id, email] of emails) {
      const digest = searchDigestOf(email);
      out.set(id, digest);
      input.digests?.set(id, digest);
    }
  }
  return out;
}

/** The result: matching UIDs ascending and their highest modseq. */
function resultOf(matched: readonly MessageSummary[]): SearchResult {
  const uids: number[] = [];
  let highest: bigint | null = null;
  for (const summary of matched) {
    uids.push(summary.uid);
    if (highest === null || summary.modseq > highest) highest = summary.modseq;
  }
  uids.sort((a, b) => a - b);
  return { uids, highestModseq: highest };
}

/** Keys of cost 0 and 1: one pass over the view, reading only digests not yet cached. */
async function searchInMemory(
  input: SearchInput,
  index: FastTest,
  digestTest: FastTest | undefined,
): Promise<SearchResult> {
  const { view } = input;
  const matched: MessageSummary[] = [];
  const uncached: Candidate[] = [];
  for (let i = 0; i < view.length; i++) {
    const summary = input.summaryOf(view[i] as number);
    if (summary === undefined || !index(summary, i + 1, undefined)) continue;
    if (digestTest === undefined) {
      matched.push(summary);
      continue;
    }
    const digest = input.digests?.get(summary.emailId);
    if (digest === undefined) uncached.push({ summary, seq: i + 1 });
    else if (digestTest(summary, i + 1, digest)) matched.push(summary);
  }
  if (digestTest !== undefined && uncached.length > 0) {
    const digests = await digestsOf(input, uncached);
    for (const { summary, seq } of uncached) {
      if (digestTest(summary, seq, digests.get(summary.emailId))) matched.push(summary);
    }
  }
  return resultOf(matched);
}

export async function runSearch(input: SearchInput): Promise<SearchResult> {
  const { criteria, view } = input;
  let maxUid = 0;
  for (const uid of view) if (uid > maxUid) maxUid = uid;
  const scope: SearchScope = { maxUid, maxSeq: view.length, now: input.now };
  // 1-2. Index and digest keys: in memory.
  const fast = compileFastSearch(criteria, scope);
  if (fast !== undefined) return searchInMemory(input, fast.index, fast.digest);
  // 3. The general evaluator over what the index keys let through.
  const indexTest = compileIndexFilter(criteria, scope);
  const candidates: Candidate[] = [];
  view.forEach((uid, i) => {
    const summary = input.summaryOf(uid);
    if (summary !== undefined && indexTest(summary, i + 1, undefined)) {
      candidates.push({ summary, seq: i + 1 });
    }
  });
  const emails = await emailsOf(input, candidates);
  const wantsBody = criteria.some((k) => searchCost(k) === 3);
  const matched: MessageSummary[] = [];
  for (const c of candidates) {
    const email = emails.get(c.summary.emailId);
    let digest: SearchDigest | undefined;
    const digestOf = (): SearchDigest | undefined =>
      email === undefined
        ? undefined
        : (digest ??= input.digests?.get(email.emailId) ?? searchDigestOf(email));
    if (await matchesAll(criteria, target(c, email, digestOf, input.blobs, wantsBody), scope)) {
      matched.push(c.summary);
    }
  }
  return resultOf(matched);
}
