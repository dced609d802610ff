/**
 * The in-memory SEARCH fast path (fast-search.ts) must answer exactly as the general
 * evaluator (search-evaluator.ts): compared over random mailboxes and random criteria, in
 * memory and through MailService.search with and without the caller's in-memory sources.
 */

import assert from 'node:assert/strict';
import type { SearchKey } from '../../../../src/protocols/imap/parser/commands/search.ts';
import type {
  EmailRecord,
  HeaderDigest,
  MailboxRecord,
  MessageSummary,
} from '../../../../src/storage/mail/mail-types.ts';
import { compileFastSearch } from '../../../../src/storage/mail/search/fast-search.ts';
import type { SearchDigest } from '../../../../src/storage/mail/search/search-digest.ts';
import { searchDigestOf } from '../../../../src/storage/mail/search/search-digest.ts';
import { matchesAll } from '../../../../src/storage/mail/search/search-evaluator.ts';
import type { SearchScope } from '../../../../src/storage/mail/search/search-evaluator.ts';
import { makeMail } from '../mail-fixture.ts';
import type { MailFixture } from '../mail-fixture.ts';
import {
  pick,
  prng,
  randomCriteria,
  randomDigest,
  randomFlags,
  randomSummaries,
  randomText,
} from './random-search.ts';
import type { Rand } from './random-search.ts';

const show = (criteria: readonly SearchKey[]): string =>
  JSON.stringify(criteria, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));

function digestOf(header: HeaderDigest): SearchDigest {
  return searchDigestOf({ digest: header } as EmailRecord);
}

/** The general evaluator on one message (byte loaders must not be needed). */
async function general(
  criteria: readonly SearchKey[],
  summary: MessageSummary,
  seq: number,
  digest: SearchDigest | undefined,
  scope: SearchScope,
): Promise<boolean> {
  const unused = (): Promise<never> => Promise.reject(new Error('bytes read by a digest key'));
  return matchesAll(
    criteria,
    {
      summary,
      seq,
      digest: async () => digest,
      headers: unused,
      headerText: unused,
      bodyText: unused,
    },
    scope,
  );
}

describe('SEARCH fast path', () => {
  it('leaves keys that need the message bytes to the general evaluator', () => {
    const scope = { maxUid: 10, maxSeq: 10, now: 0 };
    const needsBytes: SearchKey[][] = [
      [{ key: 'BODY', value: 'x' }],
      [{ key: 'SEEN' }, { key: 'TEXT', value: 'x' }],
      [{ key: 'NOT', operand: { key: 'HEADER', field: 'X-A', value: '' } }],
      [{ key: 'OR', left: { key: 'SEEN' }, right: { key: 'BODY', value: 'x' } }],
      [{ key: 'AND', operands: [{ key: 'ALL' }, { key: 'TEXT', value: 'x' }] }],
    ];
    for (const criteria of needsBytes) assert.equal(compileFastSearch(criteria, scope), undefined);
    const split = compileFastSearch([{ key: 'SEEN' }, { key: 'SUBJECT', value: 'x' }], scope);
    assert.ok(split !== undefined && split.digest !== undefined);
    assert.equal(compileFastSearch([{ key: 'SEEN' }], scope)?.digest, undefined);
  });

  it('answers like the general evaluator over random mailboxes and criteria', async () => {
    for (let seed = 1; seed <= 12; seed++) {
      const rand = prng(seed * 7919);
      const summaries = randomSummaries(rand, 120);
      const digests = new Map<string, SearchDigest>();
      // step: some email ids have no record (digest undefined), as for a message being expunged
      for (const s of summaries) {
        if (rand() < 0.95 && !digests.has(s.emailId))
          digests.set(s.emailId, digestOf(randomDigest(rand)));
      }
      // step: a view with a message that is gone (no summary) in the middle
      const view = summaries.map((s) => s.uid);
      view.splice(60, 0, (summaries[59]?.uid ?? 0) + 1);
      const byUid = new Map(summaries.map((s) => [s.uid, s]));
      const scope: SearchScope = {
        maxUid: Math.max(...view),
        maxSeq: view.length,
        now: Date.UTC(2026, 3, 1),
      };
      const options = {
        bytes: false,
        maxUid: scope.maxUid,
        maxSeq: scope.maxSeq,
        emailIds: [...digests.keys(), 'Mnone'],
      };
      for (let n = 0; n < 150; n++) {
        const criteria = randomCriteria(rand, options);
        const fast = compileFastSearch(criteria, scope);
        assert.ok(fast !== undefined, show(criteria));
        const expected: number[] = [];
        const actual: number[] = [];
        for (const [i, uid] of view.entries()) {
          const s = byUid.get(uid);
          if (s === undefined) continue;
          const d = digests.get(s.emailId);
          if (await general(criteria, s, i + 1, d, scope)) expected.push(uid);
          if (fast.index(s, i + 1, undefined) && (fast.digest?.(s, i + 1, d) ?? true))
            actual.push(uid);
        }
        assert.deepEqual(actual, expected, `seed ${seed}: ${show(criteria)}`);
      }
    }
  });
});

/** An RFC 5322 message from a random digest: non-ASCII text as RFC 2047 encoded words. */
function randomMessage(rand: Rand, header: HeaderDigest): Uint8Array {
  const encode = (text: string): string => {
    if (/^[\x20-\x7e]*$/.test(text)) return text;
    const form = pick(rand, ['NFC', 'NFD']);
    return `=?UTF-8?B?${Buffer.from(text.normalize(form), 'utf8').toString('base64')}?=`;
  };
  const lines = [
    `From: ${encode(header.from)} <a@example.test>`,
    `To: ${encode(header.to)} <b@example.test>`,
  ];
  if (header.cc !== '') lines.push(`Cc: ${encode(header.cc)}`);
  if (header.bcc !== '') lines.push(`Bcc: ${encode(header.bcc)}`);
  lines.push(`Subject: ${encode(header.subject)}`);
  if (header.sentDate !== null) {
    const [y, m, d] = header.sentDate.split('-').map(Number);
    const date = new Date(Date.UTC(y ?? 0, (m ?? 1) - 1, d ?? 1, 12));
    lines.push(`Date: ${date.toUTCString().replace('GMT', '+0000')}`);
  }
  if (rand() < 0.5) lines.push(`X-Tag: ${encode(randomText(rand))}`);
  lines.push('Content-Type: text/plain; charset=utf-8', '', randomText(rand), randomText(rand), '');
  return new Uint8Array(Buffer.from(lines.join('\r\n'), 'utf8'));
}

describe('MailService search with in-memory sources', () => {
  let f: MailFixture;
  let box: MailboxRecord;

  before(async () => {
    f = await makeMail();
    await f.mail.ensureDefaults(f.alice, f.aliceId);
    box = (await f.mail.findMailbox(f.alice, f.aliceId, 'INBOX')) as MailboxRecord;
    const rand = prng(4242);
    for (let i = 0; i < 40; i++) {
      const d = { month: 2 + Math.floor(rand() * 3), day: 1 + Math.floor(rand() * 28) };
      await f.mail.append(f.alice, f.aliceId, box.id, randomMessage(rand, randomDigest(rand)), {
        flags: randomFlags(rand),
        internalDate: new Date(Date.UTC(2026, d.month - 1, d.day, Math.floor(rand() * 24))),
        zone: pick(rand, [0, 120, -600]),
      });
    }
    // step: some flag changes and an expunge, so modseqs and UIDs vary
    await f.mail.store(f.alice, f.aliceId, box.id, [3, 7, 11], { op: 'add', flags: ['$Work'] });
    await f.mail.store(f.alice, f.aliceId, box.id, [5, 6], { op: 'add', flags: ['\\Deleted'] });
    await f.mail.expunge(f.alice, f.aliceId, box.id, [5]);
    f.clock.ms = Date.UTC(2026, 3, 2);
  });

  after(async () => {
    await f.storage.close();
  });

  it('finds the same messages from the store, from memory and by the general evaluator', async () => {
    const summaries = await f.mail.listMessages(f.alice, f.aliceId, box.id);
    const byUid = new Map(summaries.map((s) => [s.uid, s]));
    // step: a session view: every message plus one expunged but not yet announced (UID 5)
    const view = [...byUid.keys(), 5].sort((a, b) => a - b);
    const records = await f.mail.getMessages(
      f.alice,
      f.aliceId,
      box.id,
      summaries.filter((_, i) => i % 2 === 0).map((s) => s.uid),
    );
    const cached = new Map(records.map((r) => [r.emailId, r]));
    const digests = new Map<string, SearchDigest>();
    const sources = {
      summaryOf: (uid: number) => byUid.get(uid),
      digests,
      cachedEmail: (id: string) => cached.get(id),
    };
    // step: a key every message matches that only the general evaluator can answer
    const forceGeneral: SearchKey = { key: 'NOT', operand: { key: 'BODY', value: 'never-there' } };
    const rand = prng(99);
    const options = {
      bytes: true,
      maxUid: Math.max(...view),
      maxSeq: view.length,
      emailIds: [...new Set(summaries.map((s) => s.emailId))],
    };
    let nonEmpty = 0;
    for (let n = 0; n < 150; n++) {
      const criteria = randomCriteria(rand, options);
      const search = async (keys: readonly SearchKey[], more = {}) =>
        (await f.mail.search(f.alice, f.aliceId, box.id, keys, { view, ...more })).uids;
      const fromStore = await search(criteria);
      assert.deepEqual(await search(criteria, sources), fromStore, show(criteria));
      assert.deepEqual(await search([...criteria, forceGeneral]), fromStore, show(criteria));
      if (fromStore.length > 0 && fromStore.length < byUid.size) nonEmpty++;
    }
    // step: the criteria really discriminate (not all empty or all matching)
    assert.ok(nonEmpty > 30, `only ${nonEmpty} selective searches`);
    assert.ok(digests.size > 0 && digests.size <= byUid.size);
  });
});
