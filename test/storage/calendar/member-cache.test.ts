import assert from 'node:assert/strict';
import type { ResourceRecord, Versioned } from '../../../src/storage/calendar/collection-store.ts';
import {
  MemberCache,
  type MemberRecords,
  type MemberSource,
} from '../../../src/storage/calendar/member-cache.ts';

/** A fake store: collections of named members, a change counter and a log per account. */
class FakeSource implements MemberSource {
  version_ = 0n;
  readonly data = new Map<string, Map<string, string>>();
  readonly log: { version: bigint; collection: string; name: string }[] = [];
  loadsAll = 0;
  loadsSome: string[][] = [];

  write(collection: string, name: string, value: string | undefined): void {
    this.version_++;
    const col = this.data.get(collection) ?? new Map<string, string>();
    this.data.set(collection, col);
    if (value === undefined) col.delete(name);
    else col.set(name, value);
    this.log.push({ version: this.version_, collection, name });
  }

  async version(): Promise<bigint> {
    return this.version_;
  }

  async changedSince(_a: number, collection: string, since: bigint, limit: number) {
    const after = this.log.filter((e) => e.version > since);
    if (after.length >= limit) return undefined;
    return [...new Set(after.filter((e) => e.collection === collection).map((e) => e.name))];
  }

  #records(collection: string, names?: readonly string[]): MemberRecords {
    const col = this.data.get(collection) ?? new Map<string, string>();
    const resources = new Map<string, Versioned<ResourceRecord>>();
    const indexes = new Map<string, unknown>();
    for (const [name, value] of col) {
      if (names && !names.includes(name)) continue;
      const record = { uid: name, blob: value } as ResourceRecord;
      resources.set(name, { name, record, version: this.version_, raw: new Uint8Array() });
      indexes.set(name, { value });
    }
    return { resources, indexes };
  }

  async loadAll(_a: number, collection: string): Promise<MemberRecords> {
    this.loadsAll++;
    return this.#records(collection);
  }

  async loadSome(_a: number, collection: string, names: readonly string[]) {
    this.loadsSome.push([...names]);
    return this.#records(collection, names);
  }
}

const values = async (cache: MemberCache, collection: string) =>
  (await cache.snapshot(1, collection)).sorted().map((r) => `${r.name}=${r.record.blob}`);

describe('MemberCache', () => {
  it('loads once, then re-reads only the members changed since', async () => {
    const src = new FakeSource();
    src.write('a', 'x', '1');
    src.write('a', 'y', '1');
    const cache = new MemberCache(src);
    assert.deepEqual(await values(cache, 'a'), ['x=1', 'y=1']);
    assert.deepEqual(await values(cache, 'a'), ['x=1', 'y=1']);
    assert.equal(src.loadsAll, 1);
    assert.equal(src.loadsSome.length, 0);
    const before = await cache.snapshot(1, 'a');
    src.write('a', 'x', '2');
    src.write('a', 'y', undefined);
    src.write('b', 'z', '1');
    assert.deepEqual(await values(cache, 'a'), ['x=2']);
    assert.deepEqual(src.loadsSome, [['x', 'y']]);
    assert.equal(src.loadsAll, 1);
    // A snapshot handed out earlier does not change
    assert.deepEqual(
      before.sorted().map((r) => r.name),
      ['x', 'y'],
    );
    assert.deepEqual(before.indexes.get('x'), { value: '1' });
  });

  it('reloads whole after too many changes, and runs one refresh at a time', async () => {
    const src = new FakeSource();
    src.write('a', 'x', '1');
    const cache = new MemberCache(src);
    await values(cache, 'a');
    for (let i = 0; i < 2500; i++) src.write('b', `n${i}`, '1');
    src.write('a', 'x', '3');
    const both = await Promise.all([values(cache, 'a'), values(cache, 'a')]);
    assert.deepEqual(both, [['x=3'], ['x=3']]);
    assert.equal(src.loadsAll, 2);
  });

  it('drops the least recently used collections past its bound', async () => {
    const src = new FakeSource();
    for (const c of ['a', 'b', 'c']) for (const n of ['1', '2', '3']) src.write(c, n, c);
    const cache = new MemberCache(src, { maxMembers: 6 });
    await values(cache, 'a');
    await values(cache, 'b');
    await values(cache, 'a');
    await values(cache, 'c');
    assert.equal(src.loadsAll, 3);
    await values(cache, 'a');
    assert.equal(src.loadsAll, 3, 'a was used recently and kept');
    await values(cache, 'b');
    assert.equal(src.loadsAll, 4, 'b was dropped');
  });
});
