/**
 * CalDAV/CardDAV throughput: Commune's `/dav/calendars/` and `/dav/addressbooks/` against
 * Radicale (Debian's radicale package) in the same run, same data, same client (node:http over
 * keep-alive connections, from a worker thread), each case bounded in time and operation
 * count. The calendar has 10,000 events over a year, some recurring (weekly for 20 weeks,
 * weekly and daily without end), some in Europe/Berlin time, some all-day.
 *
 * Cases (ops/s):
 *   calendar-query 1 week      VEVENTs overlapping a week, etag + calendar-data, and etag only
 *   calendar-multiget 100      100 random events with calendar-data
 *   sync-collection initial    every member's etag (empty token)
 *   sync-collection incr.      the events changed after a token (20)
 *   PROPFIND Depth 1           the 10,000-event calendar, three properties
 *   addressbook-query          FN contains a family name (2% of the cards), with address-data
 *   addressbook-multiget 100   100 random cards with address-data
 *   PUT event                  new events into an empty calendar, 4 in flight
 *
 * Two requests are in flight (one for the whole-calendar cases, four for PUT).
 *
 * Before measuring, both servers answer the same fixed requests (time ranges, one three years
 * ahead where only endless rules are left, a card query, an incremental sync); differing
 * answers are printed in the notes.
 *
 * Environment: BENCH_SECONDS per case and server (5), BENCH_CALDAV_EVENTS (10000),
 * BENCH_CARDDAV_CONTACTS (5000).
 */

import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Measured } from './bench-support.ts';
import { throughputRow } from './bench-support.ts';
import { anchorDay } from './caldav-data.ts';
import { runCaldavCases, type CaldavSizes, type CaseSpec, type Prepared } from './caldav-load.ts';
import {
  radicaleMissing,
  radicaleVersion,
  startCommune,
  startRadicale,
  type RunningServer,
} from './caldav-servers.ts';
import type { BenchModule, BenchResult } from './run.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const EVENTS = Number(process.env.BENCH_CALDAV_EVENTS ?? 10_000);
const CONTACTS = Number(process.env.BENCH_CARDDAV_CONTACTS ?? 5000);

const n = (x: number): string => x.toLocaleString('en-US');

const CASES: readonly CaseSpec[] = [
  {
    name: `calendar-query 1 week of ${n(EVENTS)}, etag+data`,
    kind: 'query-data',
    concurrency: 2,
    maxOps: 20_000,
  },
  {
    name: `calendar-query 1 week of ${n(EVENTS)}, etag`,
    kind: 'query-etag',
    concurrency: 2,
    maxOps: 20_000,
  },
  { name: 'calendar-multiget 100', kind: 'multiget', concurrency: 2, maxOps: 20_000 },
  {
    name: `sync-collection initial (${n(EVENTS)})`,
    kind: 'sync-initial',
    concurrency: 1,
    maxOps: 5000,
  },
  {
    name: 'sync-collection incremental (20 changed)',
    kind: 'sync-incremental',
    concurrency: 2,
    maxOps: 20_000,
  },
  { name: `PROPFIND Depth 1 (${n(EVENTS)})`, kind: 'propfind', concurrency: 1, maxOps: 5000 },
  {
    name: `addressbook-query FN of ${n(CONTACTS)}`,
    kind: 'card-query',
    concurrency: 2,
    maxOps: 20_000,
  },
  { name: 'addressbook-multiget 100', kind: 'card-multiget', concurrency: 2, maxOps: 20_000 },
  { name: 'PUT event', kind: 'put', concurrency: 4, maxOps: 2000 },
];

async function runOn(
  start: () => Promise<RunningServer>,
  sizes: CaldavSizes,
): Promise<{ prepared: Prepared; measured: Map<string, Measured> }> {
  const server = await start();
  try {
    return await runCaldavCases(server.target, sizes, CASES, SECONDS);
  } finally {
    await server.stop();
  }
}

/** How the two servers answered the fixed requests (responses each), differences first. */
function compareChecks(ours: Prepared, theirs: Prepared | undefined): string[] {
  const entries = Object.entries(ours.checks);
  const counts = entries.map(([name, count]) => `${name} ${count}`).join(', ');
  if (!theirs) return [`answers of Commune (responses): ${counts}`];
  const out: string[] = [];
  for (const [name, count] of entries) {
    const other = theirs.checks[name];
    if (other !== count) out.push(`answers differ: ${name}: Commune ${count}, Radicale ${other}`);
  }
  if (out.length === 0) out.push(`same answers from both (responses): ${counts}`);
  return out;
}

const caldavBench: BenchModule = {
  name: 'caldav',
  async run(): Promise<BenchResult> {
    const dir = mkdtempSync(join(tmpdir(), 'commune-bench-caldav-'));
    chmodSync(dir, 0o700);
    const sizes: CaldavSizes = {
      events: EVENTS,
      contacts: CONTACTS,
      changes: 20,
      anchor: anchorDay(),
    };
    try {
      const ours = await runOn(() => startCommune(dir), sizes);
      rmSync(join(dir, 'commune'), { recursive: true, force: true });
      const skipped = radicaleMissing();
      let theirs: Awaited<ReturnType<typeof runOn>> | undefined;
      let radicaleError: string | undefined;
      if (skipped === undefined) {
        try {
          theirs = await runOn(() => startRadicale(dir, sizes), sizes);
        } catch (err) {
          radicaleError = err instanceof Error ? err.message : String(err);
        }
      }
      const why = skipped ?? radicaleError;
      return {
        reference: `Radicale ${skipped === undefined ? radicaleVersion() : ''}`.trim(),
        ...(why !== undefined ? { referenceSkipped: why } : {}),
        rows: CASES.map((c) =>
          throughputRow({
            name: c.name,
            unit: 'ops/s',
            ours: ours.measured.get(c.name),
            theirs: theirs?.measured.get(c.name),
            referenceName: 'Radicale',
          }),
        ),
        notes: [
          `${SECONDS} s per case and server (an operation started before the end is waited for); 2 requests in flight (whole-calendar cases: 1, PUT: 4); client in a worker thread`,
          `data: ${n(EVENTS)} events, ${n(CONTACTS)} vCards; Commune loaded them by PUT in ${ours.prepared.loadSeconds.toFixed(1)} s (16 in flight), Radicale's were written to its folder (its item cache warmed before measuring)`,
          'Commune: level store (fsynced group commits, contents inline), its text cache written through by the PUTs; Radicale: multifilesystem (fsynced), no auth',
          ...compareChecks(ours.prepared, theirs?.prepared),
        ],
      };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

export default caldavBench;
