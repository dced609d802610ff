import assert from 'node:assert/strict';
import { vanishedResponse } from '../../../../src/protocols/imap/compose/vanished-response.ts';
import { sequenceSetFromNumbers } from '../../../../src/protocols/imap/parser/sequence-set.ts';
import { wireText } from './wire-text.ts';

describe('imap VANISHED response composition', () => {
  it('writes VANISHED and VANISHED (EARLIER) with a compressed UID set', () => {
    const uids = sequenceSetFromNumbers([41, 43, 44, 45, 100]);
    assert.equal(wireText(vanishedResponse(uids, false)), '* VANISHED 41,43:45,100\r\n');
    assert.equal(wireText(vanishedResponse(uids, true)), '* VANISHED (EARLIER) 41,43:45,100\r\n');
  });

  it('writes nothing for an empty set', () => {
    assert.deepEqual(vanishedResponse(sequenceSetFromNumbers([]), true), []);
  });
});
