/**
 * Pieces every benchmark module shares: the measured figure of one case, the table row
 * comparing Commune with the reference server, and a small deterministic PRNG so both servers
 * get the same data and request sequence. (No default export: bench/run.ts skips this file.)
 */

import net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { BenchRow } from './run.ts';

/** One case measured on one server. */
export interface Measured {
  readonly rate: number;
  readonly errors: number;
}

/** The row of one throughput case: Commune's rate, the reference's when it ran, errors. */
export function throughputRow(options: {
  name: string;
  unit: string;
  ours: Measured | undefined;
  theirs: Measured | undefined;
  referenceName: string;
}): BenchRow {
  const { name, unit, ours, theirs, referenceName } = options;
  const errors = (ours?.errors ?? 0) + (theirs?.errors ?? 0);
  return {
    case: name,
    unit,
    commune: ours?.rate ?? 0,
    ...(theirs === undefined ? {} : { reference: theirs.rate }),
    higherIsBetter: true,
    ...(errors > 0
      ? { note: `errors: Commune ${ours?.errors ?? 0}, ${referenceName} ${theirs?.errors ?? 0}` }
      : {}),
  };
}

/** xorshift32: a deterministic PRNG in [0, 1). */
export function prng(seed: number): () => number {
  let x = seed || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x100000000;
  };
}

/** A TCP port free on the loopback interface now (for servers that cannot take port 0). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Run `concurrency` lanes of `op(lane)(n)` until `seconds` pass or `maxOps` operations have
 * started; n counts operations across lanes. A lane stops after `maxErrors` errors in all;
 * throws the first error when nothing succeeded.
 */
export async function runBounded(
  limits: { concurrency: number; seconds: number; maxOps: number; maxErrors: number },
  op: (lane: number) => (n: number) => Promise<unknown>,
): Promise<Measured> {
  let done = 0;
  let started = 0;
  let errors = 0;
  let firstError: unknown;
  const begin = performance.now();
  const end = begin + limits.seconds * 1000;
  await Promise.all(
    Array.from({ length: limits.concurrency }, async (_, lane) => {
      const run = op(lane);
      while (performance.now() < end && started < limits.maxOps) {
        const n = started++;
        try {
          await run(n);
          done++;
        } catch (err) {
          errors++;
          firstError ??= err;
          if (errors > limits.maxErrors) break;
        }
      }
    }),
  );
  if (done === 0 && errors > 0) throw firstError;
  return { rate: done / ((performance.now() - begin) / 1000), errors };
}
