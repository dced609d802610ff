/**
 * The Store contract suite: every backend runs it (store-contract.test.ts). It checks the
 * contract of store.ts, not any backend's internals.
 */

import assert from 'node:assert/strict';
import type { Batch, CommitResult, KeyRange, Store } from '../../src/storage/store.ts';
import {
  Subspace,
  changeCounterKey,
  compareKeys,
  decodeCounter,
  encodeCounter,
  pack,
  prefixRange,
  stampOffset,
  unpack,
} from '../../src/storage/keys.ts';
import { currentChangeId, readChanges } from '../../src/storage/change-log.ts';

export interface StoreFixture {
  readonly store: Store;
  /** Close the store and open it again on the same data (persistent backends only). */
  readonly reopen?: () => Promise<Store>;
  /** Close the current store (idempotent) and remove its data. */
  readonly cleanup: () => Promise<void>;
}

const b = (...bytes: number[]): Uint8Array => Uint8Array.from(bytes);
const text = (s: string): Uint8Array => new TextEncoder().encode(s);

async function collect(
  store: Store,
  range: KeyRange,
): Promise<(readonly [Uint8Array, Uint8Array])[]> {
  const out: (readonly [Uint8Array, Uint8Array])[] = [];
  for await (const entry of store.scan(range)) out.push(entry);
  return out;
}

function ok(result: CommitResult): Extract<CommitResult, { ok: true }> {
  assert.ok(result.ok, 'commit failed');
  return result;
}

/** The entries `range` must yield from `sorted`, computed independently of any backend. */
function expectedScan(sorted: readonly Uint8Array[], range: KeyRange): Uint8Array[] {
  let out = sorted.filter((k) => {
    if (range.gte ? compareKeys(k, range.gte) < 0 : range.gt && compareKeys(k, range.gt) <= 0) {
      return false;
    }
    if (range.lt ? compareKeys(k, range.lt) >= 0 : range.lte && compareKeys(k, range.lte) > 0) {
      return false;
    }
    return true;
  });
  if (range.reverse) out = out.reverse();
  if (range.limit !== undefined) out = out.slice(0, Math.max(0, range.limit));
  return out;
}

export function storeContract(name: string, makeStore: () => Promise<StoreFixture>): void {
  describe(`Store contract: ${name}`, () => {
    let fixture: StoreFixture;
    let store: Store;

    beforeEach(async () => {
      fixture = await makeStore();
      store = fixture.store;
    });
    afterEach(async () => {
      await fixture.cleanup();
    });

    describe('get, getMany, put, del', () => {
      it('reads what was put and nothing else', async () => {
        assert.equal(await store.get(b(1)), undefined);
        ok(
          await store.commit({
            ops: [
              { type: 'put', key: b(1), value: text('one') },
              { type: 'put', key: b(2), value: new Uint8Array(0) },
            ],
          }),
        );
        assert.deepEqual(await store.get(b(1)), text('one'));
        assert.deepEqual(await store.get(b(2)), new Uint8Array(0));
        assert.deepEqual(await store.getMany([b(3), b(2), b(1), b(1)]), [
          undefined,
          new Uint8Array(0),
          text('one'),
          text('one'),
        ]);
        assert.deepEqual(await store.getMany([]), []);
      });

      it('overwrites, deletes, and ignores deleting an absent key', async () => {
        ok(await store.commit({ ops: [{ type: 'put', key: b(1), value: text('a') }] }));
        ok(await store.commit({ ops: [{ type: 'put', key: b(1), value: text('b') }] }));
        assert.deepEqual(await store.get(b(1)), text('b'));
        const r = ok(
          await store.commit({
            ops: [
              { type: 'del', key: b(1) },
              { type: 'del', key: b(9) },
            ],
          }),
        );
        assert.deepEqual(r.counters, []);
        assert.equal(r.changeIds.size, 0);
        assert.equal(await store.get(b(1)), undefined);
        assert.equal(await store.get(b(9)), undefined);
      });

      it('applies ops in order: later ops see earlier ones', async () => {
        ok(
          await store.commit({
            ops: [
              { type: 'put', key: b(1), value: text('x') },
              { type: 'del', key: b(1) },
              { type: 'put', key: b(2), value: text('x') },
              { type: 'expect', key: b(2), value: text('x') },
              { type: 'put', key: b(2), value: text('y') },
            ],
          }),
        );
        assert.equal(await store.get(b(1)), undefined);
        assert.deepEqual(await store.get(b(2)), text('y'));
      });

      it('copies bytes in and out: callers cannot mutate stored values', async () => {
        const value = text('abc');
        const key = b(5);
        ok(await store.commit({ ops: [{ type: 'put', key, value }] }));
        value[0] = 0x7a;
        key[0] = 6;
        const got = await store.get(b(5));
        assert.deepEqual(got, text('abc'));
        (got as Uint8Array)[0] = 0x7a;
        assert.deepEqual(await store.get(b(5)), text('abc'));
        assert.equal(await store.get(b(6)), undefined);
      });
    });

    describe('atomicity', () => {
      it('a batch with a failing expect applies nothing, change entries included', async () => {
        ok(await store.commit({ ops: [{ type: 'put', key: b(9), value: text('v1') }] }));
        const batch: Batch = {
          ops: [
            { type: 'put', key: b(1), value: text('a') },
            { type: 'del', key: b(9) },
            { type: 'incr', key: b(2), delta: 5n },
            { type: 'expect', key: b(9), value: text('v1') }, // fails: deleted earlier in batch
            { type: 'put', key: b(3), value: text('c') },
          ],
          changes: [{ account: 1, collection: 'c', id: 'x', kind: 'created' }],
        };
        const r = await store.commit(batch);
        assert.equal(r.ok, false);
        assert.deepEqual(!r.ok && r.conflict, b(9));
        assert.deepEqual(await store.getMany([b(1), b(2), b(3), b(9)]), [
          undefined,
          undefined,
          undefined,
          text('v1'),
        ]);
        assert.equal(await currentChangeId(store, 1), 0n);
        assert.deepEqual((await readChanges(store, 1, 0n)).changes, []);
        assert.deepEqual(await collect(store, {}), [[b(9), text('v1')]]);
      });

      it('a batch touching many keys is all visible at once', async () => {
        const ops = Array.from({ length: 100 }, (_, i) => ({
          type: 'put' as const,
          key: pack(Subspace.meta, 'k', i),
          value: encodeCounter(BigInt(i)),
        }));
        ok(await store.commit({ ops }));
        assert.equal((await collect(store, {})).length, 100);
      });
    });

    describe('scan', () => {
      // Unsigned bytewise order, with 0x00 and 0xff bytes and keys that prefix others.
      const keys = [
        b(0x00),
        b(0x00, 0x00),
        b(0x00, 0xff),
        b(0x01),
        b(0x01, 0x00),
        b(0x7f),
        b(0x7f, 0xff, 0xff),
        b(0x80),
        b(0x80, 0x00),
        b(0xfe, 0xff),
        b(0xff),
        b(0xff, 0x00),
        b(0xff, 0xff),
        b(0xff, 0xff, 0xff),
      ];
      const sorted = [...keys].sort(compareKeys);

      beforeEach(async () => {
        // Insert in a scrambled order, over two commits.
        const scrambled = keys
          .map((k, i) => ({ k, i }))
          .sort((x, y) => ((x.i * 7) % 11) - ((y.i * 7) % 11));
        const half = Math.floor(scrambled.length / 2);
        for (const part of [scrambled.slice(0, half), scrambled.slice(half)]) {
          ok(
            await store.commit({
              ops: part.map(({ k, i }) => ({ type: 'put' as const, key: k, value: b(i) })),
            }),
          );
        }
      });

      it('yields every entry in unsigned bytewise order, values attached', async () => {
        const all = await collect(store, {});
        assert.deepEqual(
          all.map(([k]) => k),
          sorted,
        );
        for (const [k, v] of all)
          assert.deepEqual(v, b(keys.findIndex((x) => compareKeys(x, k) === 0)));
        assert.ok(compareKeys(b(0x7f), b(0x80)) < 0);
      });

      it('honours gte/gt/lte/lt, limit and reverse', async () => {
        const bounds = [
          b(0x00),
          b(0x00, 0x00),
          b(0x01, 0x00),
          b(0x50),
          b(0x80),
          b(0xff),
          b(0xff, 0xff),
        ];
        const ranges: KeyRange[] = [];
        for (const lo of [undefined, ...bounds]) {
          for (const hi of [undefined, ...bounds]) {
            for (const loKind of ['gte', 'gt'] as const) {
              for (const hiKind of ['lt', 'lte'] as const) {
                ranges.push({
                  ...(lo ? { [loKind]: lo } : {}),
                  ...(hi ? { [hiKind]: hi } : {}),
                });
              }
            }
          }
        }
        let checked = 0;
        for (const [n, base] of ranges.entries()) {
          // Vary limit and direction across the ranges.
          const range: KeyRange = {
            ...base,
            ...(n % 3 === 1 ? { limit: 2 } : n % 3 === 2 ? { limit: 100 } : {}),
            ...(n % 2 === 1 ? { reverse: true } : {}),
          };
          assert.deepEqual(
            (await collect(store, range)).map(([k]) => k),
            expectedScan(sorted, range),
            JSON.stringify(range, (_k, v: unknown) => (v instanceof Uint8Array ? [...v] : v)),
          );
          checked++;
        }
        assert.ok(checked > 200);
      });

      it('returns nothing for empty ranges and limit 0', async () => {
        const empty: KeyRange[] = [
          { gte: b(0x80), lt: b(0x80) },
          { gt: b(0x80), lte: b(0x80) },
          { gt: b(0x80), lt: b(0x80, 0x00) },
          { gte: b(0xff), lt: b(0x01) },
          { gte: b(0xff), lt: b(0x01), reverse: true },
          { gt: b(0xff, 0xff, 0xff) },
          { lt: b(0x00) },
          { lt: b(0x00), reverse: true },
          { limit: 0 },
          { limit: 0, reverse: true },
        ];
        for (const range of empty) assert.deepEqual(await collect(store, range), []);
        assert.deepEqual(
          (await collect(store, { gte: b(0x80), lte: b(0x80) })).map(([k]) => k),
          [b(0x80)],
        );
      });

      it('scans tuple keys by prefix, in tuple order', async () => {
        const ops = [3, 1, 20, 2].map((uid) => ({
          type: 'put' as const,
          key: pack(Subspace.mail, 'box', uid),
          value: b(uid),
        }));
        ok(await store.commit({ ops }));
        const got = await collect(store, {
          gte: pack(Subspace.mail, 'box'),
          lt: pack(Subspace.mail, 'box\0'),
          reverse: true,
        });
        assert.deepEqual(
          got.map(([, v]) => v[0]),
          [20, 3, 2, 1],
        );
      });

      it('an early break closes the scan: commits and close still work', async () => {
        ok(
          await store.commit({
            ops: Array.from({ length: 600 }, (_, i) => ({
              type: 'put' as const,
              key: pack(Subspace.meta, 'many', i),
              value: b(1),
            })),
          }),
        );
        for (let round = 0; round < 20; round++) {
          let seen = 0;
          for await (const _entry of store.scan({ gte: pack(Subspace.meta, 'many') })) {
            if (++seen === 3) break;
          }
          assert.equal(seen, 3);
        }
        // A scan abandoned through its iterator's return(), without for-await.
        const it = store.scan({})[Symbol.asyncIterator]();
        assert.ok(!(await it.next()).done);
        await it.return?.();
        ok(await store.commit({ ops: [{ type: 'put', key: b(0x42), value: b(1) }] }));
        await store.close();
      });

      it('a scan is not disturbed by commits made while it runs', async () => {
        const seen: Uint8Array[] = [];
        for await (const [k] of store.scan({})) {
          seen.push(k);
          if (seen.length === 1) {
            ok(await store.commit({ ops: [{ type: 'put', key: b(0x00, 0x01), value: b(0) }] }));
          }
        }
        // Each key at most once, in order.
        for (let i = 1; i < seen.length; i++) {
          assert.ok(compareKeys(seen[i - 1] as Uint8Array, seen[i] as Uint8Array) < 0);
        }
      });
    });

    describe('incr', () => {
      it('adds signed deltas to an absent-means-zero counter, in op order', async () => {
        const r1 = ok(
          await store.commit({
            ops: [
              { type: 'incr', key: b(1), delta: 5n },
              { type: 'incr', key: b(2), delta: -3n },
              { type: 'incr', key: b(1), delta: -7n },
              { type: 'incr', key: b(1), delta: 0n },
            ],
          }),
        );
        assert.deepEqual(r1.counters, [5n, -3n, -2n, -2n]);
        assert.equal(decodeCounter(await store.get(b(1))), -2n);
        assert.deepEqual(await store.get(b(2)), encodeCounter(-3n));
        const r2 = ok(await store.commit({ ops: [{ type: 'incr', key: b(1), delta: 1n << 40n }] }));
        assert.deepEqual(r2.counters, [(1n << 40n) - 2n]);
      });

      it('an incr sees an earlier put of the same key in the batch', async () => {
        const r = ok(
          await store.commit({
            ops: [
              { type: 'put', key: b(1), value: encodeCounter(100n) },
              { type: 'incr', key: b(1), delta: 1n },
            ],
          }),
        );
        assert.deepEqual(r.counters, [101n]);
      });

      it('200 concurrent commits on one counter: exact total, distinct values', async () => {
        const results = await Promise.all(
          Array.from({ length: 200 }, () =>
            store.commit({ ops: [{ type: 'incr', key: b(7), delta: 1n }] }),
          ),
        );
        const values = results.map((r) => ok(r).counters[0] as bigint);
        assert.equal(new Set(values).size, 200);
        assert.deepEqual(
          [...values].sort((x, y) => (x < y ? -1 : 1)),
          Array.from({ length: 200 }, (_, i) => BigInt(i + 1)),
        );
        assert.equal(decodeCounter(await store.get(b(7))), 200n);
      });
    });

    describe('expect', () => {
      it('checks absent, present and exact value', async () => {
        ok(await store.commit({ ops: [{ type: 'expect', key: b(1), value: undefined }] }));
        ok(await store.commit({ ops: [{ type: 'put', key: b(1), value: text('v') }] }));

        const cases: [Uint8Array | undefined, boolean][] = [
          [undefined, false], // expected absent, is present
          [text('v'), true],
          [text('w'), false],
          [text('vv'), false],
          [new Uint8Array(0), false],
        ];
        for (const [value, wanted] of cases) {
          const r = await store.commit({
            ops: [
              { type: 'expect', key: b(1), value },
              { type: 'put', key: b(2), value: text('side effect') },
            ],
          });
          assert.equal(r.ok, wanted);
          if (!r.ok) assert.deepEqual(r.conflict, b(1));
        }
        // Expected present but absent.
        const r = await store.commit({ ops: [{ type: 'expect', key: b(3), value: text('v') }] });
        assert.equal(r.ok, false);
        assert.deepEqual(!r.ok && r.conflict, b(3));
        // An empty value is present, not absent.
        ok(await store.commit({ ops: [{ type: 'put', key: b(4), value: new Uint8Array(0) }] }));
        assert.equal(
          (await store.commit({ ops: [{ type: 'expect', key: b(4), value: undefined }] })).ok,
          false,
        );
        ok(await store.commit({ ops: [{ type: 'expect', key: b(4), value: new Uint8Array(0) }] }));
      });

      it('reports the first failing expectation', async () => {
        const r = await store.commit({
          ops: [
            { type: 'expect', key: b(1), value: undefined },
            { type: 'expect', key: b(2), value: text('x') },
            { type: 'expect', key: b(3), value: text('y') },
          ],
        });
        assert.deepEqual(!r.ok && r.conflict, b(2));
      });

      it('compare-and-set: exactly one of N concurrent racers wins', async () => {
        for (let round = 0; round < 3; round++) {
          const before = await store.get(b(1));
          const racers = Array.from({ length: 25 }, (_, i) =>
            store.commit({
              ops: [
                { type: 'expect', key: b(1), value: before },
                { type: 'put', key: b(1), value: text(`racer ${round}.${i}`) },
              ],
              changes: [{ account: 9, collection: 'cas', id: String(i), kind: 'updated' }],
            }),
          );
          const results = await Promise.all(racers);
          const winners = results.flatMap((r, i) => (r.ok ? [i] : []));
          assert.equal(winners.length, 1);
          assert.deepEqual(await store.get(b(1)), text(`racer ${round}.${winners[0]}`));
          assert.equal(await currentChangeId(store, 9), BigInt(round + 1));
        }
      });
    });

    describe('stamp', () => {
      it('writes the commit change id into keys and values, 8 bytes big-endian', async () => {
        const account = 77;
        const elements = [account, 'mod', 0n, 'x'] as const;
        const keyOffset = stampOffset(Subspace.mail, elements, 2);
        const placeholder = new Uint8Array(12); // 8-byte stamp + 4 bytes of payload
        placeholder.set(text('tail'), 8);
        const first = ok(
          await store.commit({
            ops: [
              {
                type: 'put',
                key: pack(Subspace.mail, ...elements),
                value: placeholder,
                stamp: { account, keyOffset, valueOffset: 0 },
              },
            ],
            changes: [{ account, collection: 'c', id: '1', kind: 'created' }],
          }),
        );
        const changeId = first.changeIds.get(account);
        assert.equal(changeId, 1n);
        const stampedKey = pack(Subspace.mail, account, 'mod', changeId as bigint, 'x');
        const value = await store.get(stampedKey);
        assert.ok(value, 'stamped key present');
        assert.equal(new DataView(value.buffer, value.byteOffset).getBigUint64(0), 1n);
        assert.deepEqual(value.subarray(8), text('tail'));
        assert.equal(await store.get(pack(Subspace.mail, ...elements)), undefined);

        const second = ok(
          await store.commit({
            ops: [
              {
                type: 'put',
                key: b(5),
                value: new Uint8Array(8),
                stamp: { account, valueOffset: 0 },
              },
            ],
            changes: [{ account, collection: 'c', id: '2', kind: 'updated' }],
          }),
        );
        assert.equal(second.changeIds.get(account), 2n);
        assert.deepEqual(await store.get(b(5)), encodeCounter(2n));
      });

      it('refuses a stamp for an account without change entries, applying nothing', async () => {
        await assert.rejects(
          (async () =>
            store.commit({
              ops: [
                { type: 'put', key: b(1), value: b(1) },
                {
                  type: 'put',
                  key: b(2),
                  value: new Uint8Array(8),
                  stamp: { account: 5, valueOffset: 0 },
                },
              ],
            }))(),
        );
        assert.equal(await store.get(b(1)), undefined);
        await assert.rejects(
          (async () =>
            store.commit({
              ops: [
                {
                  type: 'put',
                  key: b(3),
                  value: new Uint8Array(4),
                  stamp: { account: 5, valueOffset: 0 },
                },
              ],
              changes: [{ account: 5, collection: 'c', id: '1', kind: 'created' }],
            }))(),
        );
        assert.equal(await currentChangeId(store, 5), 0n);
      });

      it('stamps numbers allocated by an incr of the same batch (counter stamps)', async () => {
        const counter = pack(Subspace.mail, 'last', 1);
        const elements = [1, 'item', 0] as const;
        const keyOffset = stampOffset(Subspace.mail, elements, 2);
        const allocate = async (n: number, tag: string) =>
          ok(
            await store.commit({
              ops: [
                { type: 'incr', key: counter, delta: BigInt(n) },
                ...Array.from({ length: n }, (_, i) => ({
                  type: 'put' as const,
                  key: pack(Subspace.mail, ...elements),
                  value: new Uint8Array([...new Uint8Array(8), ...text(`${tag}${i}`)]),
                  counterStamp: { key: counter, add: BigInt(i - n + 1), keyOffset, valueOffset: 0 },
                })),
              ],
            }),
          );
        assert.deepEqual((await allocate(3, 'a')).counters, [3n]);
        const logged = ok(
          await store.commit({
            ops: [{ type: 'incr', key: counter, delta: 0n }],
            changes: [
              {
                account: 31,
                collection: 'c',
                id: '',
                kind: 'created',
                idCounter: { key: counter, add: -1n },
              },
              { account: 31, collection: 'c', id: 'plain', kind: 'updated' },
            ],
          }),
        );
        assert.equal(logged.changeIds.get(31), 1n);
        const { changes } = await readChanges(store, 31, 0n);
        assert.deepEqual(
          changes.flatMap((c) => c.entries.map((e) => e.id)),
          ['2', 'plain'],
        );
        // concurrent allocations never conflict and never overlap
        await Promise.all([allocate(2, 'b'), allocate(2, 'c'), allocate(1, 'd')]);
        assert.deepEqual(await store.get(counter), encodeCounter(8n));
        const items: [bigint, string][] = [];
        for await (const [key, value] of store.scan(prefixRange(pack(Subspace.mail, 1, 'item')))) {
          const n = unpack(key).elements[2] as bigint | number;
          const stamped = new DataView(value.buffer, value.byteOffset).getBigUint64(0);
          assert.equal(BigInt(n), stamped, 'key and value carry the same number');
          items.push([stamped, Buffer.from(value.subarray(8)).toString()]);
        }
        assert.deepEqual(
          items.map(([n]) => n),
          [1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n],
        );
        assert.deepEqual(
          items.slice(0, 3).map(([, t]) => t),
          ['a0', 'a1', 'a2'],
        );
        const later = items.slice(3).map(([, t]) => t);
        assert.deepEqual([...later].sort(), ['b0', 'b1', 'c0', 'c1', 'd0']);
        for (const tag of ['b', 'c']) {
          assert.equal(
            later.indexOf(`${tag}1`),
            later.indexOf(`${tag}0`) + 1,
            'a batch is contiguous',
          );
        }
      });

      it('gives an account one change id per step of a commit, each stamped and logged', async () => {
        const account = 41;
        const put = (n: number, step: number) => ({
          type: 'put' as const,
          key: b(100 + n),
          value: new Uint8Array(8),
          stamp: { account, step, valueOffset: 0 },
        });
        const r = ok(
          await store.commit({
            ops: [put(0, 0), put(1, 2), put(2, 1)],
            changes: [
              { account, collection: 'c', id: 'a', kind: 'updated', step: 0 },
              { account, collection: 'c', id: 'b', kind: 'updated', step: 1 },
              { account, collection: 'c', id: 'c', kind: 'updated', step: 2 },
              { account, collection: 'c', id: 'd', kind: 'updated', step: 2 },
              { account: 42, collection: 'x', id: 'y', kind: 'created' },
            ],
          }),
        );
        assert.equal(r.changeIds.get(account), 3n, 'the last of the three');
        assert.equal(r.changeIds.get(42), 1n);
        assert.deepEqual(await store.get(b(100)), encodeCounter(1n));
        assert.deepEqual(await store.get(b(101)), encodeCounter(3n));
        assert.deepEqual(await store.get(b(102)), encodeCounter(2n));
        const { changes } = await readChanges(store, account, 0n);
        assert.deepEqual(
          changes.map((c) => [c.changeId, c.entries.map((e) => e.id)]),
          [
            [1n, ['a']],
            [2n, ['b']],
            [3n, ['c', 'd']],
          ],
        );
        const next = ok(
          await store.commit({
            ops: [],
            changes: [{ account, collection: 'c', id: 'e', kind: 'created' }],
          }),
        );
        assert.equal(next.changeIds.get(account), 4n);
        await assert.rejects(
          (async () =>
            store.commit({
              ops: [{ type: 'put', key: b(110), value: b(1) }],
              changes: [
                { account, collection: 'c', id: 'f', kind: 'created', step: 0 },
                { account, collection: 'c', id: 'g', kind: 'created', step: 2 },
              ],
            }))(),
        );
        assert.equal(await store.get(b(110)), undefined);
        assert.equal(await currentChangeId(store, account), 4n);
      });

      it('refuses a counter stamp without an earlier incr of its key, applying nothing', async () => {
        const counter = pack(Subspace.mail, 'last', 2);
        await assert.rejects(
          (async () =>
            store.commit({
              ops: [
                { type: 'put', key: b(1), value: b(1) },
                {
                  type: 'put',
                  key: b(2),
                  value: new Uint8Array(8),
                  counterStamp: { key: counter, add: 0n, valueOffset: 0 },
                },
                { type: 'incr', key: counter, delta: 1n },
              ],
            }))(),
        );
        assert.equal(await store.get(b(1)), undefined);
        assert.equal(await store.get(counter), undefined);
      });
    });

    describe('change log', () => {
      it('gives one strictly increasing change id per account per commit', async () => {
        const r1 = ok(
          await store.commit({
            ops: [],
            changes: [
              { account: 1, collection: 'inbox', id: 'a', kind: 'created' },
              { account: 1, collection: 'inbox', id: 'b', kind: 'created' },
              { account: 2, collection: 'cal', id: 'e', kind: 'created' },
            ],
          }),
        );
        assert.deepEqual(
          [...r1.changeIds],
          [
            [1, 1n],
            [2, 1n],
          ],
        );
        const r2 = ok(
          await store.commit({
            ops: [],
            changes: [{ account: 1, collection: 'inbox', id: 'a', kind: 'updated' }],
          }),
        );
        assert.deepEqual([...r2.changeIds], [[1, 2n]]);
        const r3 = ok(
          await store.commit({
            ops: [],
            changes: [{ account: 2, collection: 'cal', id: 'e', kind: 'destroyed' }],
          }),
        );
        assert.deepEqual([...r3.changeIds], [[2, 2n]]);
        const r4 = ok(await store.commit({ ops: [{ type: 'put', key: b(1), value: b(1) }] }));
        assert.equal(r4.changeIds.size, 0);
        assert.equal(await currentChangeId(store, 1), 2n);
        assert.equal(await currentChangeId(store, 2), 2n);
        assert.equal(await currentChangeId(store, 3), 0n);
        assert.deepEqual(await store.get(changeCounterKey(1)), encodeCounter(2n));
      });

      it('concurrent commits get distinct, gap-free change ids per account', async () => {
        const results = await Promise.all(
          Array.from({ length: 60 }, (_, i) =>
            store.commit({
              ops: [],
              changes: [{ account: 1 + (i % 3), collection: 'c', id: String(i), kind: 'created' }],
            }),
          ),
        );
        for (const account of [1, 2, 3]) {
          const ids = results
            .map((r) => ok(r).changeIds.get(account))
            .filter((id) => id !== undefined)
            .sort((x, y) => (x < y ? -1 : 1));
          assert.deepEqual(
            ids,
            Array.from({ length: 20 }, (_, i) => BigInt(i + 1)),
          );
        }
      });

      it('entries are readable with readChanges, by cursor and limit', async () => {
        for (let i = 1; i <= 5; i++) {
          ok(
            await store.commit({
              ops: [{ type: 'put', key: pack(Subspace.mail, 'msg', i), value: b(i) }],
              changes: [
                { account: 4, collection: 'mailbox:1', id: String(i), kind: 'created' },
                ...(i === 3
                  ? [{ account: 4, collection: 'mailbox:2', id: 'x', kind: 'destroyed' as const }]
                  : []),
                { account: 5, collection: 'other', id: String(i), kind: 'updated' },
              ],
            }),
          );
        }
        const all = await readChanges(store, 4, 0n);
        assert.deepEqual(
          all.changes.map((c) => c.changeId),
          [1n, 2n, 3n, 4n, 5n],
        );
        assert.equal(all.lastChangeId, 5n);
        assert.deepEqual(all.changes[2], {
          changeId: 3n,
          entries: [
            { collection: 'mailbox:1', id: '3', kind: 'created' },
            { collection: 'mailbox:2', id: 'x', kind: 'destroyed' },
          ],
        });

        const page1 = await readChanges(store, 4, 1n, 2);
        assert.deepEqual(
          page1.changes.map((c) => c.changeId),
          [2n, 3n],
        );
        assert.equal(page1.lastChangeId, 3n);
        const page2 = await readChanges(store, 4, page1.lastChangeId, 2);
        assert.deepEqual(
          page2.changes.map((c) => c.changeId),
          [4n, 5n],
        );
        const done = await readChanges(store, 4, page2.lastChangeId, 2);
        assert.deepEqual(done, { changes: [], lastChangeId: 5n });
        assert.deepEqual(await readChanges(store, 4, 99n), { changes: [], lastChangeId: 99n });

        // Another account's log is separate; an account with none is empty.
        const other = await readChanges(store, 5, 3n);
        assert.deepEqual(other.changes, [
          { changeId: 4n, entries: [{ collection: 'other', id: '4', kind: 'updated' }] },
          { changeId: 5n, entries: [{ collection: 'other', id: '5', kind: 'updated' }] },
        ]);
        assert.deepEqual(await readChanges(store, 6, 0n), { changes: [], lastChangeId: 0n });
        await assert.rejects(readChanges(store, 4, -1n), { code: 'invalid-argument' });
      });

      it('large account numbers and change ids do not bleed into neighbours', async () => {
        ok(
          await store.commit({
            ops: [],
            changes: [{ account: 0, collection: 'dir', id: 'p', kind: 'created' }],
          }),
        );
        ok(
          await store.commit({
            ops: [],
            changes: [
              { account: Number.MAX_SAFE_INTEGER, collection: 'x', id: 'y', kind: 'created' },
            ],
          }),
        );
        assert.equal((await readChanges(store, 0, 0n)).changes.length, 1);
        assert.equal((await readChanges(store, Number.MAX_SAFE_INTEGER, 0n)).changes.length, 1);
        assert.equal((await readChanges(store, 1, 0n)).changes.length, 0);
      });
    });

    describe('lifecycle', () => {
      it('persists everything across close and reopen', async function () {
        if (!fixture.reopen) this.skip();
        ok(
          await store.commit({
            ops: [
              { type: 'put', key: b(1, 0, 0xff), value: text('kept') },
              { type: 'incr', key: b(2), delta: -41n },
            ],
            changes: [{ account: 1, collection: 'c', id: 'a', kind: 'created' }],
          }),
        );
        ok(await store.commit({ ops: [{ type: 'del', key: b(3) }] }));
        store = await fixture.reopen();
        assert.deepEqual(await store.get(b(1, 0, 0xff)), text('kept'));
        assert.equal(decodeCounter(await store.get(b(2))), -41n);
        assert.equal(await currentChangeId(store, 1), 1n);
        const r = ok(
          await store.commit({
            ops: [{ type: 'incr', key: b(2), delta: 1n }],
            changes: [{ account: 1, collection: 'c', id: 'a', kind: 'updated' }],
          }),
        );
        assert.deepEqual(r.counters, [-40n]);
        assert.deepEqual([...r.changeIds], [[1, 2n]]);
        assert.deepEqual(
          (await readChanges(store, 1, 0n)).changes.map((c) => c.entries[0]?.kind),
          ['created', 'updated'],
        );
      });

      it('finishes queued commits before close, and rejects use after close', async () => {
        const pending = Array.from({ length: 10 }, (_, i) =>
          store.commit({ ops: [{ type: 'incr', key: b(1), delta: BigInt(i) }] }),
        );
        await store.close();
        const settled = await Promise.allSettled(pending);
        // Whatever was accepted before close completed whole; nothing hangs.
        assert.equal(settled.length, 10);
        await assert.rejects(async () => store.get(b(1)));
        await assert.rejects(async () => store.commit({ ops: [] }));
        await assert.rejects(async () => {
          for await (const _entry of store.scan({})) break;
        });
        await store.close(); // idempotent
      });
    });
  });
}
