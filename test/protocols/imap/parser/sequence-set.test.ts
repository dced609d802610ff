import assert from 'node:assert/strict';
import {
  expandSequenceSet,
  formatSequenceSet,
  normalizeSequenceSet,
  parseSequenceSet,
  sequenceSetContains,
  sequenceSetFromNumbers,
  sequenceSetHasStar,
  sequenceSetMaxNumber,
  withSavedResult,
} from '../../../../src/protocols/imap/parser/sequence-set.ts';
import type { SequenceSet } from '../../../../src/protocols/imap/parser/sequence-set.ts';

function set(text: string): SequenceSet {
  const s = parseSequenceSet(text);
  assert.ok(s !== undefined, text);
  return s;
}

describe('imap sequence sets', () => {
  it('parses ranges, "*" and "$"', () => {
    assert.deepEqual(set('1:*,3,5:7'), {
      ranges: [
        { start: 1, end: '*' },
        { start: 3, end: 3 },
        { start: 5, end: 7 },
      ],
      saved: false,
    });
    assert.deepEqual(set('$'), { ranges: [], saved: true });
    assert.deepEqual(set('*:4,$'), { ranges: [{ start: '*', end: 4 }], saved: true });
    assert.deepEqual(set('4294967295'), {
      ranges: [{ start: 4294967295, end: 4294967295 }],
      saved: false,
    });
  });

  it('rejects what is not a sequence set', () => {
    for (const bad of [
      '',
      '0',
      '1:0',
      ',',
      '1,',
      ':1',
      '1:',
      '1::2',
      'a',
      '4294967296',
      '1:2:3',
      '$$',
    ]) {
      assert.equal(parseSequenceSet(bad), undefined, bad);
    }
  });

  it('formats back to the wire form', () => {
    for (const text of ['1:*', '1,3:5,7', '*', '$', '2:1'])
      assert.equal(formatSequenceSet(set(text)), text);
  });

  it('normalizes with "*" as the largest value, in either order, clamped and merged', () => {
    assert.deepEqual(normalizeSequenceSet(set('1:*'), 5), [[1, 5]]);
    assert.deepEqual(normalizeSequenceSet(set('7:*'), 5), [[5, 5]]);
    assert.deepEqual(normalizeSequenceSet(set('9:3,1,2,20'), 10), [[1, 9]]);
    assert.deepEqual(normalizeSequenceSet(set('1:4294967295'), 3), [[1, 3]]);
    assert.deepEqual(normalizeSequenceSet(set('1:*'), 0), []);
    assert.deepEqual(normalizeSequenceSet(set('1,3,5'), 5), [
      [1, 1],
      [3, 3],
      [5, 5],
    ]);
  });

  it('tests membership and expands', () => {
    const s = set('2:4,*');
    assert.equal(sequenceSetContains(s, 3, 10), true);
    assert.equal(sequenceSetContains(s, 10, 10), true);
    assert.equal(sequenceSetContains(s, 5, 10), false);
    assert.deepEqual(expandSequenceSet(s, 10), [2, 3, 4, 10]);
    assert.deepEqual(expandSequenceSet(set('3:*'), 2), [2]);
  });

  it('compresses numbers into ranges', () => {
    assert.equal(formatSequenceSet(sequenceSetFromNumbers([5, 1, 2, 3, 9, 10, 3])), '1:3,5,9:10');
    assert.deepEqual(sequenceSetFromNumbers([]), { ranges: [], saved: false });
  });

  it('substitutes the saved search result for "$"', () => {
    const saved = sequenceSetFromNumbers([4, 5]);
    assert.equal(formatSequenceSet(withSavedResult(set('1,$'), saved)), '1,4:5');
    assert.deepEqual(withSavedResult(set('1'), saved), set('1'));
  });

  it('reports "*" and the largest explicit number', () => {
    assert.equal(sequenceSetHasStar(set('1:*')), true);
    assert.equal(sequenceSetHasStar(set('1:5')), false);
    assert.equal(sequenceSetMaxNumber(set('3:*,9,2')), 9);
  });
});
