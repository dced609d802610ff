import assert from 'node:assert/strict';
import { isCommuneError } from '../../../src/core/errors.ts';
import { applyFlags, normalizeFlags, sameFlags } from '../../../src/storage/mail/message-flags.ts';

describe('message flags', () => {
  it('recases system flags, drops \\Recent and duplicates in any case', () => {
    assert.deepEqual(normalizeFlags(['\\SEEN', '\\recent', '$Label', '$label', '\\seen', 'Junk']), [
      '\\Seen',
      '$Label',
      'Junk',
    ]);
  });

  it('refuses unknown system flags and keywords that are not atoms', () => {
    for (const bad of ['\\Bogus', 'two words', 'a(b', 'a]', 'é', '']) {
      assert.throws(
        () => normalizeFlags([bad]),
        (e: unknown) => isCommuneError(e, 'invalid-argument'),
        bad,
      );
    }
  });

  it('applies add, remove and replace', () => {
    const current = ['\\Seen', 'Work'];
    assert.deepEqual(applyFlags(current, 'add', ['\\Flagged', 'work']), [
      '\\Seen',
      'Work',
      '\\Flagged',
    ]);
    assert.deepEqual(applyFlags(current, 'remove', ['WORK']), ['\\Seen']);
    assert.deepEqual(applyFlags(current, 'replace', ['\\Draft']), ['\\Draft']);
    assert.ok(sameFlags(['a', '\\Seen'], ['\\seen', 'A']));
    assert.ok(!sameFlags(['a'], ['a', 'b']));
  });
});
