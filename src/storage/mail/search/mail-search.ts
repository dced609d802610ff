/**
 * Running a SEARCH over a mailbox: builds one lazily-loading SearchTarget per message of the
 * session's view (email records batch-loaded only when a key needs them; header and body
 * text read from the blob only for messages that get that far) and collects the matches.
 */

import type { SearchKey } from '../../../protocols/imap/parser/commands/search.ts';
import type { BlobStore } from '../../blob-store.ts';
import type { HeaderField } from '../mime/header-block.ts';
import { parseHeaderBlock } from '../mime/header-block.ts';
import { extractBodyText, headerText } from '../mime/text-extractor.ts';
import type { EmailRecord, MessageSummary, SearchResult } from '../mail-types.ts';
import { foldText, matchesAll, searchCost } from './search-evaluator.ts';
import type { SearchScope, SearchTarget } from './search-evaluator.ts';

/** Messages at most this large are read whole for BODY/TEXT; larger ones part by part. */
const WHOLE_READ = 8 * 1024 * 1024;

export interface SearchInput {
  readonly criteria: readonly SearchKey[];
  /** The mailbox's index, uid order. */
  readonly summaries: readonly MessageSummary[];
  /** UIDs in sequence order. */
  readonly view: readonly number[];
  readonly now: number;
  readonly loadEmails: (emailIds: readonly string[]) => Promise<Map<string, EmailRecord>>;
  readonly blobs: BlobStore;
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
  summary: MessageSummary,
  seq: number,
  email: () => Promise<EmailRecord | undefined>,
  blobs: BlobStore,
): SearchTarget {
  const whole = lazy(async () => {
    const e = await email();
    if (e === undefined || e.size > WHOLE_READ) return undefined;
    return blobs.getBytes(e.blob);
  });
  const read = async (start: number, end: number): Promise<Uint8Array> => {
    const bytes = await whole();
    if (bytes !== undefined) return bytes.subarray(start, end);
    const e = await email();
    return e === undefined ? new Uint8Array(0) : readRange(blobs, e.blob, start, end);
  };
  const headerBytes = lazy(async () => {
    const e = await email();
    return e === undefined ? new Uint8Array(0) : read(e.parts.h, e.parts.b);
  });
  const headers = lazy(async (): Promise<readonly HeaderField[]> =>
    parseHeaderBlock(await headerBytes()),
  );
  return {
    summary,
    seq,
    email,
    headers,
    headerText: lazy(async () => foldText(headerText(await headerBytes()))),
    bodyText: lazy(async () => {
      const e = await email();
      return e === undefined ? '' : foldText(await extractBodyText(e.body, e.parts, read));
    }),
  };
}

export async function runSearch(input: SearchInput): Promise<SearchResult> {
  const byUid = new Map(input.summaries.map((s) => [s.uid, s]));
  const scope: SearchScope = {
    maxUid: input.view.reduce((max, uid) => Math.max(max, uid), 0),
    maxSeq: input.view.length,
    now: input.now,
  };
  const candidates: { summary: MessageSummary; seq: number }[] = [];
  input.view.forEach((uid, i) => {
    const summary = byUid.get(uid);
    if (summary !== undefined) candidates.push({ summary, seq: i + 1 });
  });
  // Email records: one batch for all candidates, when any key needs them.
  const needsEmail = input.criteria.some((k) => searchCost(k) > 0);
  const emails = needsEmail
    ? await input.loadEmails([...new Set(candidates.map((c) => c.summary.emailId))])
    : new Map<string, EmailRecord>();
  const uids: number[] = [];
  let highest: bigint | null = null;
  for (const { summary, seq } of candidates) {
    const email = async () => emails.get(summary.emailId);
    if (!(await matchesAll(input.criteria, target(summary, seq, email, input.blobs), scope)))
      continue;
    uids.push(summary.uid);
    if (highest === null || summary.modseq > highest) highest = summary.modseq;
  }
  uids.sort((a, b) => a - b);
  return { uids, highestModseq: highest };
}
