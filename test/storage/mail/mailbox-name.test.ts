import assert from 'node:assert/strict';
import { isCommuneError } from '../../../src/core/errors.ts';
import {
  isDescendant,
  normalizeMailboxName,
  parentNames,
} from '../../../src/storage/mail/mailbox-name.ts';

describe('mailbox names', () => {
  it('normalises INBOX in any case, also as the first level', () => {
    assert.equal(normalizeMailboxName('inbox'), 'INBOX');
    assert.equal(normalizeMailboxName('Inbox/Sub'), 'INBOX/Sub');
    assert.equal(normalizeMailboxName('Inboxes'), 'Inboxes');
    assert.equal(normalizeMailboxName('Café'), 'Café');
    assert.equal(normalizeMailboxName('Cafe\u0301'), 'Café', 'NFC');
  });

  it('refuses empty levels, wildcards and control characters', () => {
    for (const bad of ['', '/', 'a/', '/a', 'a//b', 'a*', '%', 'a\tb', 'x'.repeat(1025)]) {
      assert.throws(
        () => normalizeMailboxName(bad),
        (e: unknown) => isCommuneError(e, 'invalid-argument'),
        bad,
      );
    }
  });

  it('lists parents and tests descent', () => {
    assert.deepEqual(parentNames('a/b/c'), ['a', 'a/b']);
    assert.deepEqual(parentNames('a'), []);
    assert.ok(isDescendant('a/b', 'a'));
    assert.ok(!isDescendant('ab', 'a'));
    assert.ok(!isDescendant('a', 'a'));
  });
});
