/** LIST patterns (RFC 9051 §6.3.9): `*`, `%`, the reference, and INBOX in any case. */

import assert from 'node:assert/strict';
import {
  ancestors,
  canonicalPattern,
  compareMailboxNames,
  patternMatcher,
} from '../../../src/protocols/imap/mailbox-pattern.ts';

const NAMES = ['INBOX', 'INBOX/Lists', 'Archive', 'Archive/2025', 'Archive/2025/Q1', 'a.b', 'a+b'];

function matching(reference: string, pattern: string): string[] {
  const matches = patternMatcher(reference, pattern);
  return NAMES.filter(matches);
}

describe('mailbox-pattern', () => {
  it('matches * across levels and % within one', () => {
    assert.deepEqual(matching('', '*'), NAMES);
    assert.deepEqual(matching('', '%'), ['INBOX', 'Archive', 'a.b', 'a+b']);
    assert.deepEqual(matching('', 'Archive/%'), ['Archive/2025']);
    assert.deepEqual(matching('', 'Archive/*'), ['Archive/2025', 'Archive/2025/Q1']);
    assert.deepEqual(matching('', '%/%'), ['INBOX/Lists', 'Archive/2025']);
  });

  it('joins the reference and treats regex characters literally', () => {
    assert.deepEqual(matching('Archive/', '%'), ['Archive/2025']);
    assert.deepEqual(matching('', 'a.b'), ['a.b']);
    assert.deepEqual(matching('', 'a+b'), ['a+b']);
    assert.deepEqual(matching('', 'archive'), [], 'other names are case-sensitive');
  });

  it('matches INBOX in any case', () => {
    assert.equal(canonicalPattern('', 'inbox'), 'INBOX');
    assert.equal(canonicalPattern('', 'Inbox/%'), 'INBOX/%');
    assert.equal(canonicalPattern('', 'inboxes'), 'inboxes');
    assert.deepEqual(matching('', 'inbox*'), ['INBOX', 'INBOX/Lists']);
  });

  it('lists ancestors and sorts INBOX first', () => {
    assert.deepEqual(ancestors('a/b/c'), ['a', 'a/b']);
    assert.deepEqual(ancestors('a'), []);
    assert.deepEqual(['b', 'INBOX', 'a'].sort(compareMailboxNames), ['INBOX', 'a', 'b']);
  });
});
