/**
 * Crash safety of the level backend: a child process commits in a loop and is SIGKILLed; the
 * store reopened afterwards must hold every acknowledged commit and no half-applied batch.
 */

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LevelStore } from '../../src/storage/backends/level-store.ts';
import { Subspace, decodeCounter, pack, prefixRange, unpack } from '../../src/storage/keys.ts';
import { currentChangeId, readChanges } from '../../src/storage/change-log.ts';

const CHILD = fileURLToPath(new URL('./crash-child.ts', import.meta.url));
// Keep in step with crash-child.ts.
const BATCH_KEYS = 4;
const counterKey = pack(Subspace.counter, 'crash');

interface Ack {
  readonly i: number;
  readonly counter: bigint;
  readonly changeId: bigint;
}

/** Run the child until it has acknowledged commits for `runMs`, then SIGKILL it. */
async function runAndKill(dir: string, runMs: number): Promise<{ acks: Ack[]; stderr: string }> {
  const child = spawn(process.execPath, [CHILD, dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  const acks: Ack[] = [];
  let stderr = '';
  let buffered = '';
  let timer: NodeJS.Timeout | undefined;
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  child.stdout.setEncoding('utf8').on('data', (s: string) => {
    buffered += s;
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) {
      const [i, counter, changeId] = line.split(' ');
      acks.push({ i: Number(i), counter: BigInt(counter ?? ''), changeId: BigInt(changeId ?? '') });
    }
    timer ??= setTimeout(() => child.kill('SIGKILL'), runMs);
  });
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.on('exit', (c, s) => resolve([c, s])),
  );
  clearTimeout(timer);
  assert.equal(signal, 'SIGKILL', `child exited by itself (code ${code}): ${stderr}`);
  return { acks, stderr };
}

describe('LevelStore crash safety', function () {
  this.timeout(20000);

  for (let run = 1; run <= 3; run++) {
    it(`keeps every acknowledged commit and no half batch after SIGKILL (run ${run})`, async () => {
      const dir = await mkdtemp(join(tmpdir(), 'commune-crash-'));
      try {
        const { acks } = await runAndKill(dir, 900 + run * 70);
        assert.ok(acks.length > 0, 'no commit was acknowledged');
        // What the child reported matches FIFO commit order: batch i got counter/change id i+1.
        for (const ack of acks) {
          assert.equal(ack.counter, BigInt(ack.i + 1));
          assert.equal(ack.changeId, BigInt(ack.i + 1));
        }

        const store = await LevelStore.open(dir);
        try {
          // Group the batch keys by batch number.
          const keysPerBatch = new Map<number, number>();
          for await (const [key, value] of store.scan(prefixRange(pack(Subspace.meta, 'crash')))) {
            const [, i, j] = unpack(key).elements as [string, number, number];
            assert.ok(j >= 0 && j < BATCH_KEYS);
            assert.equal(decodeCounter(value), BigInt(i));
            keysPerBatch.set(i, (keysPerBatch.get(i) ?? 0) + 1);
          }
          const applied = keysPerBatch.size;
          // No half-applied batch, and applied batches are exactly the first `applied` ones.
          for (const [i, count] of keysPerBatch) {
            assert.equal(count, BATCH_KEYS, `batch ${i} is half-applied`);
            assert.ok(i < applied, `batch ${i} applied but an earlier one is missing`);
          }
          // Every acknowledged commit survived.
          for (const ack of acks) assert.ok(keysPerBatch.has(ack.i), `acked batch ${ack.i} lost`);
          // The counter and the change log moved exactly once per applied batch.
          assert.equal(decodeCounter(await store.get(counterKey)), BigInt(applied));
          assert.equal(await currentChangeId(store, 1), BigInt(applied));
          const { changes } = await readChanges(store, 1, 0n);
          assert.equal(changes.length, applied);
          for (const [n, change] of changes.entries()) {
            assert.equal(change.changeId, BigInt(n + 1));
            assert.deepEqual(change.entries, [
              { collection: 'crash', id: String(n), kind: 'created' },
            ]);
          }
        } finally {
          await store.close();
        }
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  }
});
