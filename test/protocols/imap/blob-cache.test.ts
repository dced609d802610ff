/** BlobCache: small blobs kept by hash, bounded in bytes, least recently used evicted first. */

import assert from 'node:assert/strict';
import { BlobCache } from '../../../src/protocols/imap/blob-cache.ts';

const bytes = (n: number, fill: number): Uint8Array => new Uint8Array(n).fill(fill);

describe('BlobCache', () => {
  it('keeps blobs up to maxItem and evicts the least recently used beyond maxBytes', () => {
    const cache = new BlobCache({ maxBytes: 100, maxItem: 40 });
    cache.set('a', bytes(40, 1));
    cache.set('b', bytes(40, 2));
    cache.set('big', bytes(41, 3));
    assert.equal(cache.get('big'), undefined, 'larger than maxItem: not kept');
    assert.equal(cache.size, 80);
    // step: a is used, so b is the least recently used when c arrives
    assert.equal(cache.get('a')?.[0], 1);
    cache.set('c', bytes(40, 4));
    assert.equal(cache.get('b'), undefined);
    assert.equal(cache.get('a')?.[0], 1);
    assert.equal(cache.get('c')?.[0], 4);
    assert.equal(cache.size, 80);
  });

  it('keeps the first copy of a hash (content addressed: the same bytes)', () => {
    const cache = new BlobCache({ maxBytes: 100, maxItem: 40 });
    const first = bytes(10, 1);
    cache.set('a', first);
    cache.set('a', bytes(10, 1));
    assert.equal(cache.get('a'), first);
    assert.equal(cache.size, 10);
  });
});
