import assert from 'node:assert/strict';
import { esearchResponse } from '../../../../src/protocols/imap/compose/esearch-response.ts';
import { sequenceSetFromNumbers } from '../../../../src/protocols/imap/parser/sequence-set.ts';
import { wireText } from './wire-text.ts';

describe('imap ESEARCH response composition', () => {
  it('writes the correlator, UID and the requested results', () => {
    assert.equal(
      wireText(
        esearchResponse({
          tag: 'A282',
          uid: true,
          min: 2,
          max: 882,
          all: sequenceSetFromNumbers([2, 10, 11, 12, 882]),
          count: 5,
        }),
      ),
      '* ESEARCH (TAG "A282") UID MIN 2 MAX 882 ALL 2,10:12,882 COUNT 5\r\n',
    );
  });

  it('omits MIN, MAX and ALL when nothing matched', () => {
    assert.equal(
      wireText(
        esearchResponse({ tag: 'a', uid: false, all: sequenceSetFromNumbers([]), count: 0 }),
      ),
      '* ESEARCH (TAG "a") COUNT 0\r\n',
    );
    assert.equal(wireText(esearchResponse({ tag: 'a', uid: false })), '* ESEARCH (TAG "a")\r\n');
  });

  it('writes MODSEQ and can omit the correlator', () => {
    assert.equal(
      wireText(esearchResponse({ tag: null, uid: true, count: 3, modSeq: 12345n })),
      '* ESEARCH UID COUNT 3 MODSEQ 12345\r\n',
    );
  });
});
