import assert from 'node:assert/strict';
import { Coalescer } from '../../../src/storage/mail/coalescer.ts';

/** A runner whose batches finish when the test says so. */
function controlled() {
  const batches: { items: number[]; finish: () => void }[] = [];
  const run = (_key: string, items: readonly number[]) =>
    new Promise<(number | Error)[]>((resolve) => {
      batches.push({
        items: [...items],
        finish: () => resolve(items.map((i) => (i < 0 ? new Error(`bad ${i}`) : i * 10))),
      });
    });
  return { batches, run };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('Coalescer', () => {
  it('runs one batch per key at a time, the waiting requests together next', async () => {
    const { batches, run } = controlled();
    const c = new Coalescer(run);
    const first = c.submit('a', 1);
    const rest = [c.submit('a', 2), c.submit('a', -3), c.submit('a', 4)];
    const other = c.submit('b', 5);
    await tick();
    assert.deepEqual(
      batches.map((b) => b.items),
      [[1], [5]],
    );
    batches[0]?.finish();
    assert.equal(await first, 10);
    await tick();
    assert.deepEqual(batches[2]?.items, [2, -3, 4]);
    batches[2]?.finish();
    const settled = await Promise.allSettled(rest);
    assert.deepEqual(
      settled.map((s) => s.status),
      ['fulfilled', 'rejected', 'fulfilled'],
    );
    batches[1]?.finish();
    assert.equal(await other, 50);
  });

  it('pipelines up to N batches, holding back a request that conflicts with one in flight', async () => {
    const { batches, run } = controlled();
    const c = new Coalescer(run, {
      pipeline: 2,
      conflicts: (x: number, y: number) => x % 10 === y % 10,
    });
    const p1 = c.submit('k', 1);
    await tick();
    const p2 = c.submit('k', 2);
    const p11 = c.submit('k', 11); // conflicts with 1, in flight: waits, and so does 3
    const p3 = c.submit('k', 3);
    await tick();
    assert.deepEqual(
      batches.map((b) => b.items),
      [[1], [2]],
    );
    batches[0]?.finish();
    assert.equal(await p1, 10);
    await tick();
    assert.deepEqual(batches[2]?.items, [11, 3]);
    batches[1]?.finish();
    batches[2]?.finish();
    assert.deepEqual(await Promise.all([p2, p11, p3]), [20, 110, 30]);
  });
});
