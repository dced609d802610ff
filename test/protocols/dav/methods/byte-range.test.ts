import assert from 'node:assert/strict';
import { resolveRange } from '../../../../src/protocols/dav/methods/byte-range.ts';

describe('resolveRange', () => {
  it('resolves single byte ranges (RFC 9110 §14.1.2)', () => {
    assert.deepEqual(resolveRange('bytes=0-4', 10), { kind: 'partial', start: 0, end: 4 });
    assert.deepEqual(resolveRange('bytes=5-', 10), { kind: 'partial', start: 5, end: 9 });
    assert.deepEqual(resolveRange('bytes=-3', 10), { kind: 'partial', start: 7, end: 9 });
    assert.deepEqual(resolveRange('bytes=-30', 10), { kind: 'partial', start: 0, end: 9 });
    assert.deepEqual(resolveRange('bytes=8-100', 10), { kind: 'partial', start: 8, end: 9 });
  });

  it('serves the whole representation for no, invalid or multiple ranges', () => {
    for (const h of [undefined, 'items=0-1', 'bytes=0-1,3-4', 'bytes=5-2', 'bytes=-']) {
      assert.deepEqual(resolveRange(h, 10), { kind: 'full' }, String(h));
    }
  });

  it('finds unsatisfiable ranges', () => {
    assert.deepEqual(resolveRange('bytes=10-', 10), { kind: 'unsatisfiable' });
    assert.deepEqual(resolveRange('bytes=-0', 10), { kind: 'unsatisfiable' });
    assert.deepEqual(resolveRange('bytes=0-', 0), { kind: 'unsatisfiable' });
  });
});
