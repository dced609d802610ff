import assert from 'node:assert/strict';
import { RESYNC_ALL_ACCOUNTS } from '../../../src/storage/change-bus.ts';
import { LocalChangeBus } from '../../../src/storage/local-change-bus.ts';
import { RecordCache } from '../../../src/storage/directory/record-cache.ts';

describe('RecordCache', () => {
  it('serves a record from memory until its account is nudged', async () => {
    const bus = new LocalChangeBus();
    const cache = new RecordCache<number, { n: number[] }>(bus, 0);
    let loads = 0;
    const load = async () => ({ n: [++loads] });
    assert.deepEqual(await cache.get(1, load), { n: [1] });
    assert.deepEqual(await cache.get(1, load), { n: [1] });
    bus.publish({ account: 7, changeId: 1n, collections: [] });
    assert.deepEqual(await cache.get(1, load), { n: [1] }, 'other accounts do not matter');
    bus.publish({ account: 0, changeId: 1n, collections: ['directory'] });
    assert.deepEqual(await cache.get(1, load), { n: [2] });
    bus.publish({ account: RESYNC_ALL_ACCOUNTS, changeId: 0n, collections: [] });
    assert.deepEqual(await cache.get(1, load), { n: [3] });
  });

  it('caches absent records, and shares frozen values', async () => {
    const cache = new RecordCache<string, { list: string[] }>(new LocalChangeBus(), 0);
    let loads = 0;
    assert.equal(await cache.get('x', async () => (loads++, undefined)), undefined);
    assert.equal(await cache.get('x', async () => (loads++, undefined)), undefined);
    assert.equal(loads, 1);
    const value = await cache.get('y', async () => ({ list: ['a'] }));
    assert.throws(() => (value as { list: string[] }).list.push('b'), TypeError);
  });

  it('does not keep a value read before an invalidation that happened meanwhile', async () => {
    const bus = new LocalChangeBus();
    const cache = new RecordCache<number, string>(bus, 0);
    let release: (v: string) => void = () => {};
    const slow = cache.get(1, () => new Promise<string>((r) => (release = r)));
    bus.publish({ account: 0, changeId: 2n, collections: [] });
    release('old');
    assert.equal(await slow, 'old');
    assert.equal(await cache.get(1, async () => 'new'), 'new');
  });
});
