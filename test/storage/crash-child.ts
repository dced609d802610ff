/**
 * Child process of crash.test.ts: opens a LevelStore in the directory given as argv[2] and
 * commits batches until it is killed. Batch i puts BATCH_KEYS keys, increments one counter
 * and appends one change entry for account 1. "i counter changeId" is written to stdout only
 * after the commit has resolved (i.e. was acknowledged as durable).
 */

import { LevelStore } from '../../src/storage/backends/level-store.ts';
import { Subspace, encodeCounter, pack } from '../../src/storage/keys.ts';

// Keep in step with crash.test.ts.
const BATCH_KEYS = 4;
const crashCounterKey = pack(Subspace.counter, 'crash');
const crashKey = (i: number, j: number): Uint8Array => pack(Subspace.meta, 'crash', i, j);

async function main(dir: string): Promise<void> {
  const store = await LevelStore.open(dir);
  let next = 0;
  // Several writers keep a commit queued at all times, so the kill lands mid-commit.
  const writer = async (): Promise<never> => {
    for (;;) {
      const i = next++;
      const result = await store.commit({
        ops: [
          ...Array.from({ length: BATCH_KEYS }, (_, j) => ({
            type: 'put' as const,
            key: crashKey(i, j),
            value: encodeCounter(BigInt(i)),
          })),
          { type: 'incr', key: crashCounterKey, delta: 1n },
        ],
        changes: [{ account: 1, collection: 'crash', id: String(i), kind: 'created' }],
      });
      if (!result.ok) throw new Error(`commit ${i} reported a conflict`);
      process.stdout.write(`${i} ${result.counters[0]} ${result.changeIds.get(1)}\n`);
    }
  };
  await Promise.all([writer(), writer(), writer(), writer()]);
}

main(process.argv[2] ?? '').catch((err: unknown) => {
  process.stderr.write(`crash-child: ${String(err)}\n`);
  process.exit(1);
});
