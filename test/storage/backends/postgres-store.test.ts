/**
 * PostgresStore beyond the contract suite (which store-contract.test.ts runs on it): several
 * processes on one database, crash safety, schema versions. Needs PG_URL; skips without it.
 */

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { PostgresStore } from '../../../src/storage/backends/postgres-store.ts';
import { isHealthCheckable } from '../../../src/storage/store.ts';
import {
  Subspace,
  decodeCounter,
  pack,
  prefixRange,
  stampOffset,
  unpack,
} from '../../../src/storage/keys.ts';
import { currentChangeId, readChanges } from '../../../src/storage/change-log.ts';
import { PG_URL, freshSchema, pgQuery, requirePostgres } from '../pg-test-db.ts';

const CHILD = fileURLToPath(new URL('./postgres-child.ts', import.meta.url));
// Keep in step with postgres-child.ts.
const INCRS = 150;
const CAS_ROUNDS = 40;
const CAS_INCRS = 40;
const BATCH_KEYS = 4;

interface RaceReport {
  readonly name: string;
  readonly counters: string[];
  readonly changeIds: string[][];
  readonly wins: number[];
  readonly casDone: number;
  readonly casConflicts: number;
}

function child(args: string[]): {
  proc: ChildProcessWithoutNullStreams;
  lines: AsyncIterator<string>;
  stderr: () => string;
  exit: Promise<[number | null, NodeJS.Signals | null]>;
} {
  const proc = spawn(process.execPath, [CHILD, ...args], { stdio: 'pipe' });
  let stderr = '';
  proc.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const exit = new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    proc.on('exit', (c, s) => resolve([c, s])),
  );
  async function* split(): AsyncIterable<string> {
    let buffered = '';
    for await (const chunk of proc.stdout.setEncoding('utf8')) {
      buffered += chunk as string;
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      yield* lines;
    }
  }
  return { proc, lines: split()[Symbol.asyncIterator](), stderr: () => stderr, exit };
}

const sortBig = (xs: bigint[]): bigint[] => [...xs].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
const range = (n: number): bigint[] => Array.from({ length: n }, (_, i) => BigInt(i + 1));

describe('PostgresStore (PG_URL)', function () {
  this.timeout(60000);
  requirePostgres();

  let schema: string;
  let drop: () => Promise<void>;
  beforeEach(() => {
    ({ schema, drop } = freshSchema());
  });
  afterEach(async () => {
    await drop();
  });

  it('two processes: exact counter totals, one CAS winner per round, no lost update', async () => {
    // Create the schema first, so the children race on data, not on migrations.
    await (await PostgresStore.open({ url: PG_URL, schema })).close();
    const kids = ['a', 'b'].map((name) => child(['race', PG_URL, schema, name]));
    for (const kid of kids) {
      const first = await kid.lines.next();
      assert.equal(first.value, 'ready', kid.stderr());
    }
    for (const kid of kids) kid.proc.stdin.end('go\n');
    const reports: RaceReport[] = [];
    for (const kid of kids) {
      const line = await kid.lines.next();
      assert.ok(!line.done, `child failed: ${kid.stderr()}`);
      reports.push(JSON.parse(line.value) as RaceReport);
      assert.deepEqual(await kid.exit, [0, null], kid.stderr());
    }

    // Every increment got a distinct value; together exactly 1..2N.
    const counters = reports.flatMap((r) => r.counters.map(BigInt));
    assert.deepEqual(sortBig(counters), range(2 * INCRS));
    // Change ids: no duplicates, no gaps, strictly increasing within each writer.
    const ids = reports.flatMap((r) => r.changeIds.flat().map(BigInt));
    assert.deepEqual(sortBig(ids), range(2 * INCRS));
    for (const r of reports) {
      for (const seq of r.changeIds) {
        const big = seq.map(BigInt);
        for (let i = 1; i < big.length; i++) assert.ok((big[i] as bigint) > (big[i - 1] as bigint));
      }
    }
    // The racers really raced: some read-compare-and-set attempts lost.
    assert.ok(reports.reduce((n, r) => n + r.casConflicts, 0) > 0);
    // First writer wins: each round exactly one winner over both processes.
    const wins = reports.flatMap((r) => r.wins).sort((a, b) => a - b);
    assert.deepEqual(
      wins,
      Array.from({ length: CAS_ROUNDS }, (_, i) => i),
    );

    const store = await PostgresStore.open({ url: PG_URL, schema });
    try {
      assert.equal(
        decodeCounter(await store.get(pack(Subspace.counter, 'race'))),
        2n * BigInt(INCRS),
      );
      assert.equal(await currentChangeId(store, 1), 2n * BigInt(INCRS));
      const log = await readChanges(store, 1, 0n);
      assert.deepEqual(
        log.changes.map((c) => c.changeId),
        range(2 * INCRS),
      );
      for (const r of reports) {
        for (const round of r.wins) {
          assert.deepEqual(
            await store.get(pack(Subspace.meta, 'cas', round)),
            new TextEncoder().encode(r.name),
          );
        }
      }
      // Read-compare-and-set increments: exactly the successful ones, none lost.
      for (const r of reports) assert.ok(r.casDone >= CAS_INCRS);
      assert.equal(
        decodeCounter(await store.get(pack(Subspace.meta, 'version'))),
        BigInt(reports.reduce((n, r) => n + r.casDone, 0)),
      );
    } finally {
      await store.close();
    }
  });

  for (let run = 1; run <= 2; run++) {
    it(`keeps every acknowledged commit and no half batch after SIGKILL (run ${run})`, async () => {
      await (await PostgresStore.open({ url: PG_URL, schema })).close();
      const kid = child(['crash', PG_URL, schema]);
      const acks: { i: number; counter: bigint; changeId: bigint }[] = [];
      const killAfter = 600 + run * 150;
      let timer: NodeJS.Timeout | undefined;
      for (;;) {
        const line = await kid.lines.next();
        if (line.done) break;
        const [i, counter, changeId] = line.value.split(' ');
        acks.push({
          i: Number(i),
          counter: BigInt(counter ?? ''),
          changeId: BigInt(changeId ?? ''),
        });
        timer ??= setTimeout(() => kid.proc.kill('SIGKILL'), killAfter);
      }
      clearTimeout(timer);
      const [code, signal] = await kid.exit;
      assert.equal(signal, 'SIGKILL', `child exited by itself (code ${code}): ${kid.stderr()}`);
      assert.ok(acks.length > 0, 'no commit was acknowledged');
      assert.equal(new Set(acks.map((a) => a.counter)).size, acks.length);
      assert.equal(new Set(acks.map((a) => a.changeId)).size, acks.length);

      const store = await PostgresStore.open({ url: PG_URL, schema });
      try {
        const keysPerBatch = new Map<number, number>();
        for await (const [key, value] of store.scan(prefixRange(pack(Subspace.meta, 'crash')))) {
          const [, i] = unpack(key).elements as [string, number, number];
          assert.equal(decodeCounter(value), BigInt(i));
          keysPerBatch.set(i, (keysPerBatch.get(i) ?? 0) + 1);
        }
        for (const [i, count] of keysPerBatch) assert.equal(count, BATCH_KEYS, `batch ${i} half`);
        for (const ack of acks) assert.ok(keysPerBatch.has(ack.i), `acked batch ${ack.i} lost`);
        const applied = BigInt(keysPerBatch.size);
        assert.equal(decodeCounter(await store.get(pack(Subspace.counter, 'race'))), applied);
        assert.equal(await currentChangeId(store, 1), applied);
        const { changes } = await readChanges(store, 1, 0n);
        assert.deepEqual(
          changes.map((c) => c.changeId),
          range(Number(applied)),
        );
        assert.deepEqual(
          new Set(changes.map((c) => Number(c.entries[0]?.id))),
          new Set(keysPerBatch.keys()),
        );
        // No placeholder row of the killed transactions became visible.
        const tables = await pgQuery<{ n: string }>(
          `SELECT count(*) AS n FROM "${schema}"."kv_43" WHERE v IS NULL`,
        );
        assert.equal(tables[0]?.n, '0');
      } finally {
        await store.close();
      }
    });
  }

  it('records its schema version, migrates once, and refuses a newer schema', async () => {
    const stores = await Promise.all(
      Array.from({ length: 4 }, () => PostgresStore.open({ url: PG_URL, schema })),
    );
    for (const s of stores) await s.close();
    const rows = await pgQuery<{ component: string; version: number }>(
      `SELECT component, version FROM "${schema}".commune_schema_version`,
    );
    assert.deepEqual(rows, [{ component: 'store', version: 1 }]);
    await pgQuery(`UPDATE "${schema}".commune_schema_version SET version = 99`);
    await assert.rejects(PostgresStore.open({ url: PG_URL, schema }), {
      name: 'CommuneError',
      code: 'unavailable',
      message: `database schema ${schema} has store version 99, newer than this build (1)`,
    });
  });

  it('creates a table per subspace on demand, also for a stamped key', async () => {
    const store = await PostgresStore.open({ url: PG_URL, schema });
    try {
      const elements = [0n, 'x'] as const;
      const keyOffset = stampOffset(Subspace.mail, elements, 0);
      const r = await store.commit({
        ops: [
          {
            type: 'put',
            key: pack(Subspace.mail, ...elements),
            value: Uint8Array.of(1),
            stamp: { account: 3, keyOffset },
          },
        ],
        changes: [{ account: 3, collection: 'c', id: '1', kind: 'created' }],
      });
      assert.ok(r.ok);
      assert.deepEqual(await store.get(pack(Subspace.mail, 1n, 'x')), Uint8Array.of(1));
      const tables = await pgQuery<{ tablename: string }>(
        `SELECT tablename FROM pg_tables WHERE schemaname = $1 ORDER BY tablename`,
        [schema],
      );
      assert.deepEqual(
        tables.map((t) => t.tablename),
        ['commune_schema_version', 'commune_subspaces', 'kv_4c', 'kv_4d', 'kv_63'],
      );
      // A second store (another node) scans the tables the first one created.
      const other = await PostgresStore.open({ url: PG_URL, schema });
      let n = 0;
      for await (const _entry of other.scan({})) n++;
      assert.equal(n, 3);
      await other.close();
    } finally {
      await store.close();
    }
  });

  it('reports health, and fails to open an unreachable database with one line', async () => {
    const store = await PostgresStore.open({ url: PG_URL, schema });
    assert.ok(isHealthCheckable(store));
    assert.equal(await store.healthCheck(), true);
    await store.close();
    assert.equal(await store.healthCheck(), false);
    await assert.rejects(
      PostgresStore.open({ url: 'postgres://nobody@127.0.0.1:1/none', schema }),
      (err: Error & { code?: string }) => {
        assert.equal(err.code, 'unavailable');
        assert.match(err.message, /^cannot open postgres store: [^\n]+$/);
        return true;
      },
    );
  });
});
