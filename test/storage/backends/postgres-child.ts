/**
 * Child process of postgres-store.test.ts: `postgres-child.ts <mode> <url> <schema> <name>`.
 *   race:  waits for "go" on stdin, then races the other child: INCRS counter increments (with
 *          a change entry each), CAS_ROUNDS first-writer-wins puts, and CAS_INCRS successful
 *          read-compare-and-set increments; prints one JSON line with what it was told.
 *   crash: commits batches until killed, printing "i counter changeId" after each
 *          acknowledged commit.
 */

import { createInterface } from 'node:readline';
import { PostgresStore } from '../../../src/storage/backends/postgres-store.ts';
import { Subspace, decodeCounter, encodeCounter, pack } from '../../../src/storage/keys.ts';

// Keep in step with postgres-store.test.ts.
const INCRS = 150;
const CAS_ROUNDS = 40;
const CAS_INCRS = 40;
const BATCH_KEYS = 4;
const WRITERS = 4;
const counterKey = pack(Subspace.counter, 'race');
const casKey = (round: number): Uint8Array => pack(Subspace.meta, 'cas', round);
const versionKey = pack(Subspace.meta, 'version');
const crashKey = (i: number, j: number): Uint8Array => pack(Subspace.meta, 'crash', i, j);

async function race(store: PostgresStore, name: string): Promise<void> {
  await new Promise<void>((resolve) => {
    const rl = createInterface({ input: process.stdin });
    rl.on('line', () => {
      rl.close();
      process.stdin.destroy();
      resolve();
    });
    process.stdout.write('ready\n');
  });
  const counters: string[] = [];
  const changeIds: string[][] = Array.from({ length: WRITERS }, () => []);
  const wins: number[] = [];
  let next = 0;
  let round = 0;
  let casDone = 0;
  let casConflicts = 0;
  const writer = async (w: number): Promise<void> => {
    // Incrs: each writer's change ids must come back strictly increasing.
    while (next < INCRS) {
      next++;
      const r = await store.commit({
        ops: [{ type: 'incr', key: counterKey, delta: 1n }],
        changes: [{ account: 1, collection: 'race', id: name, kind: 'updated' }],
      });
      if (!r.ok) throw new Error('incr conflicted');
      counters.push(String(r.counters[0]));
      (changeIds[w] as string[]).push(String(r.changeIds.get(1)));
    }
    // First writer wins: expect absent, put our name.
    while (round < CAS_ROUNDS) {
      const mine = round++;
      const r = await store.commit({
        ops: [
          { type: 'expect', key: casKey(mine), value: undefined },
          { type: 'put', key: casKey(mine), value: new TextEncoder().encode(name) },
        ],
      });
      if (r.ok) wins.push(mine);
    }
    // Read-compare-and-set increments, retried on conflict: no update may be lost (the
    // writers stop once CAS_INCRS succeeded, so a few more may succeed in flight).
    while (casDone < CAS_INCRS) {
      const before = await store.get(versionKey);
      const r = await store.commit({
        ops: [
          { type: 'expect', key: versionKey, value: before },
          { type: 'put', key: versionKey, value: encodeCounter(decodeCounter(before) + 1n) },
        ],
      });
      if (r.ok) casDone++;
      else casConflicts++;
    }
  };
  await Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)));
  process.stdout.write(
    `${JSON.stringify({ name, counters, changeIds, wins, casDone, casConflicts })}\n`,
  );
}

async function crash(store: PostgresStore): Promise<never> {
  let next = 0;
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
          { type: 'incr', key: counterKey, delta: 1n },
        ],
        changes: [{ account: 1, collection: 'crash', id: String(i), kind: 'created' }],
      });
      if (!result.ok) throw new Error(`commit ${i} reported a conflict`);
      process.stdout.write(`${i} ${result.counters[0]} ${result.changeIds.get(1)}\n`);
    }
  };
  return Promise.all(Array.from({ length: WRITERS }, () => writer())).then(() => {
    throw new Error('unreachable');
  });
}

async function main(): Promise<void> {
  const [mode, url, schema, name] = process.argv.slice(2);
  const store = await PostgresStore.open({ url: url ?? '', schema: schema ?? '', poolSize: 4 });
  if (mode === 'race') await race(store, name ?? '');
  else await crash(store);
  await store.close();
}

main().catch((err: unknown) => {
  process.stderr.write(`postgres-child: ${String(err)}\n`);
  process.exit(1);
});
