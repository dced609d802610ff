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
