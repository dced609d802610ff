/**
 * The client side of the CalDAV/CardDAV benchmark (bench/caldav.ts), run in a worker thread so
 * the client does not share the event loop of the in-process Commune: preparing the data
 * (collections, 10,000 events, the contacts, a sync token and changes after it) and measuring
 * one case, bounded in time and operation count, over keep-alive connections (node:http).
 * (No default export: bench/run.ts skips this file.)
 */

import { Agent, request as httpRequest } from 'node:http';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { prng, runBounded, type Measured } from './bench-support.ts';
import {
  DAY_MS,
  MKADDRESSBOOK_BODY,
  MKCALENDAR_BODY,
  PROPFIND_MEMBERS,
  SPREAD_DAYS,
  addressbookMultiget,
  addressbookQuery,
  calendarMultiget,
  cardName,
  cardText,
  eventName,
  eventText,
  familyName,
  syncCollection,
  timeRangeQuery,
} from './caldav-data.ts';

export interface CaldavTarget {
  /** URLs with a trailing slash: the big calendar, the calendar PUT writes into, contacts. */
  readonly calendar: string;
  readonly putCalendar: string;
  readonly addressBook: string;
  readonly authorization: string;
  /** True: make the collections and PUT the data; false: they are already on disk. */
  readonly upload: boolean;
}

export interface CaldavSizes {
  readonly events: number;
  readonly contacts: number;
  /** Events changed after the sync token of the incremental case. */
  readonly changes: number;
  readonly anchor: number;
}

export type CaseKind =
  | 'put'
  | 'query-data'
  | 'query-etag'
  | 'multiget'
  | 'sync-initial'
  | 'sync-incremental'
  | 'propfind'
  | 'card-query'
  | 'card-multiget';

export interface CaseSpec {
  readonly name: string;
  readonly kind: CaseKind;
  readonly concurrency: number;
  readonly maxOps: number;
}

/** What preparing a server gave: the sync token before the changes, check counts. */
export interface Prepared {
  readonly token: string;
  /** Seconds to upload the data (0 when it was on disk). */
  readonly loadSeconds: number;
  /** Responses of fixed requests, to compare the servers' answers. */
  readonly checks: Readonly<Record<string, number>>;
}

const MULTIGET = 100;
const QUERY_DAYS = 7;

interface Reply {
  readonly status: number;
  readonly text: string;
}

const agents = new Map<string, Agent>();

function agentOf(url: URL): Agent {
  let a = agents.get(url.host);
  if (!a) {
    a = new Agent({ keepAlive: true, maxSockets: 16 });
    agents.set(url.host, a);
  }
  return a;
}

function send(
  t: CaldavTarget,
  method: string,
  href: string,
  body?: string,
  headers: Record<string, string> = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const url = new URL(href);
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method,
        agent: agentOf(url),
        headers: { authorization: t.authorization, ...headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const XML = { 'content-type': 'application/xml; charset=utf-8' };
const ICS = { 'content-type': 'text/calendar; charset=utf-8' };
const VCF = { 'content-type': 'text/vcard; charset=utf-8' };

function expect(res: Reply, ok: readonly number[], what: string): void {
  if (!ok.includes(res.status)) {
    throw new Error(`${what}: HTTP ${res.status} ${res.text.slice(0, 300)}`);
  }
}

function responses(xml: string): number {
  return (xml.match(/<\/([A-Za-z0-9]+:)?response>/g) ?? []).length;
}

async function report(t: CaldavTarget, url: string, body: string, depth = '1'): Promise<Reply> {
  const res = await send(t, 'REPORT', url, body, { ...XML, depth });
  expect(res, [207], `REPORT ${url}`);
  return res;
}

async function parallel(count: number, width: number, work: (i: number) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < count) await work(next++);
    }),
  );
}

function syncToken(xml: string): string {
  const m = /<(?:[A-Za-z0-9]+:)?sync-token>([^<]+)</.exec(xml);
  if (!m?.[1]) throw new Error('no sync-token in the answer');
  return m[1];
}

/** Path part of a member URL, as multiget sends it. */
function hrefOf(collection: string, name: string): string {
  return new URL(name, collection).pathname;
}

/** Window start of query n: a deterministic day inside the spread of the events. */
function queryStart(n: number, anchor: number): number {
  const r = prng(n * 31 + 5)();
  return anchor - (SPREAD_DAYS / 2) * DAY_MS + Math.floor(r * (SPREAD_DAYS - QUERY_DAYS)) * DAY_MS;
}

async function prepare(t: CaldavTarget, sizes: CaldavSizes): Promise<Prepared> {
  const began = performance.now();
  if (t.upload) {
    for (const url of [t.calendar, t.putCalendar]) {
      expect(await send(t, 'MKCALENDAR', url, MKCALENDAR_BODY, XML), [201], `MKCALENDAR ${url}`);
    }
    expect(
      await send(t, 'MKCOL', t.addressBook, MKADDRESSBOOK_BODY, XML),
      [201],
      'MKCOL address book',
    );
    await parallel(sizes.events, 16, async (i) => {
      const res = await send(
        t,
        'PUT',
        `${t.calendar}${eventName(i)}`,
        eventText(i, sizes.anchor),
        ICS,
      );
      expect(res, [201], `PUT ${eventName(i)}`);
    });
    await parallel(sizes.contacts, 16, async (i) => {
      const res = await send(t, 'PUT', `${t.addressBook}${cardName(i)}`, cardText(i), VCF);
      expect(res, [201], `PUT ${cardName(i)}`);
    });
  }
  const loadSeconds = t.upload ? (performance.now() - began) / 1000 : 0;
  // Warm-up (Radicale builds its item cache on first read) and the answers to compare
  const checks: Record<string, number> = {};
  for (const [url, expected] of [
    [t.calendar, sizes.events],
    [t.addressBook, sizes.contacts],
  ] as const) {
    const res = await send(t, 'PROPFIND', url, PROPFIND_MEMBERS, { ...XML, depth: '1' });
    expect(res, [207], 'PROPFIND');
    if (responses(res.text) !== expected + 1) {
      throw new Error(
        `PROPFIND ${url}: ${responses(res.text)} responses, ${expected + 1} expected`,
      );
    }
  }
  for (let n = 0; n < 3; n++) {
    const res = await report(
      t,
      t.calendar,
      timeRangeQuery(queryStart(n, sizes.anchor), QUERY_DAYS, false),
    );
    checks[`calendar-query ${n}`] = responses(res.text);
  }
  const far = await report(
    t,
    t.calendar,
    timeRangeQuery(sizes.anchor + 3 * 366 * DAY_MS, QUERY_DAYS, false),
  );
  checks['calendar-query 3 years ahead'] = responses(far.text);
  checks['addressbook-query'] = responses(
    (await report(t, t.addressBook, addressbookQuery(familyName(7, sizes.contacts)))).text,
  );
  // A token, then changes after it for the incremental sync
  const initial = await report(t, t.calendar, syncCollection(''), '0');
  const token = syncToken(initial.text);
  for (let k = 0; k < sizes.changes; k++) {
    const i = (k * 487) % sizes.events;
    const res = await send(
      t,
      'PUT',
      `${t.calendar}${eventName(i)}`,
      eventText(i, sizes.anchor, 1),
      ICS,
    );
    expect(res, [201, 204], `PUT change ${eventName(i)}`);
  }
  const after = await report(t, t.calendar, syncCollection(token), '0');
  checks['sync-collection incremental'] = responses(after.text);
  return { token, loadSeconds, checks };
}

function operation(
  spec: CaseSpec,
  t: CaldavTarget,
  sizes: CaldavSizes,
  token: string,
  worker: number,
): (n: number) => Promise<void> {
  const pick = prng(worker * 104_729 + 11);
  // Distinct members (a server may answer a repeated href once)
  const names = (count: number, of: number, name: (i: number) => string, url: string) => {
    const chosen = new Set<number>();
    while (chosen.size < Math.min(count, of)) chosen.add(Math.floor(pick() * of));
    return [...chosen].map((i) => hrefOf(url, name(i)));
  };
  const atLeast = (res: Reply, min: number, what: string): void => {
    const got = responses(res.text);
    if (got < min) throw new Error(`${what}: ${got} responses, at least ${min} expected`);
  };
  switch (spec.kind) {
    case 'put':
      return async (n) => {
        const i = 1_000_000 + worker * 100_000 + n;
        const res = await send(
          t,
          'PUT',
          `${t.putCalendar}${eventName(i)}`,
          eventText(i, sizes.anchor),
          ICS,
        );
        expect(res, [201], spec.name);
      };
    case 'query-data':
    case 'query-etag':
      return async (n) => {
        const start = queryStart(n * 2 + worker, sizes.anchor);
        const res = await report(
          t,
          t.calendar,
          timeRangeQuery(start, QUERY_DAYS, spec.kind === 'query-data'),
        );
        atLeast(res, 1, spec.name);
      };
    case 'multiget':
      return async () => {
        const body = calendarMultiget(names(MULTIGET, sizes.events, eventName, t.calendar));
        atLeast(await report(t, t.calendar, body), MULTIGET, spec.name);
      };
    case 'sync-initial':
      return async () => {
        atLeast(await report(t, t.calendar, syncCollection(''), '0'), sizes.events, spec.name);
      };
    case 'sync-incremental':
      return async () => {
        const res = await report(t, t.calendar, syncCollection(token), '0');
        atLeast(res, 1, spec.name);
        if (responses(res.text) > sizes.changes) throw new Error(`${spec.name}: too many answers`);
      };
    case 'propfind':
      return async () => {
        const res = await send(t, 'PROPFIND', t.calendar, PROPFIND_MEMBERS, { ...XML, depth: '1' });
        expect(res, [207], spec.name);
        atLeast(res, sizes.events + 1, spec.name);
      };
    case 'card-query':
      return async (n) => {
        const res = await report(
          t,
          t.addressBook,
          addressbookQuery(familyName(n * 3 + worker, sizes.contacts)),
        );
        atLeast(res, 1, spec.name);
      };
    case 'card-multiget':
      return async () => {
        const body = addressbookMultiget(names(MULTIGET, sizes.contacts, cardName, t.addressBook));
        atLeast(await report(t, t.addressBook, body), MULTIGET, spec.name);
      };
  }
}

async function measure(
  t: CaldavTarget,
  sizes: CaldavSizes,
  token: string,
  spec: CaseSpec,
  seconds: number,
): Promise<Measured> {
  return runBounded({ ...spec, seconds, maxErrors: 20 }, (lane) =>
    operation(spec, t, sizes, token, lane),
  );
}

type Job =
  | { role: 'caldav-bench-load'; target: CaldavTarget; sizes: CaldavSizes; task: 'prepare' }
  | {
      role: 'caldav-bench-load';
      target: CaldavTarget;
      sizes: CaldavSizes;
      task: 'measure';
      spec: CaseSpec;
      token: string;
      seconds: number;
    };

const job = workerData as Job | null;
if (!isMainThread && job?.role === 'caldav-bench-load') {
  const work: Promise<Measured | Prepared> =
    job.task === 'prepare'
      ? prepare(job.target, job.sizes)
      : measure(job.target, job.sizes, job.token, job.spec, job.seconds);
  work.then(
    (m) => parentPort?.postMessage(m),
    (err: unknown) =>
      parentPort?.postMessage({ error: err instanceof Error ? err.message : String(err) }),
  );
}

type JobData = Job extends infer J ? (J extends Job ? Omit<J, 'role'> : never) : never;

function inWorker<T>(data: JobData): Promise<T> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL(import.meta.url), {
      workerData: { role: 'caldav-bench-load', ...data },
    });
    worker.once('message', (m: T | { error: string }) => {
      // Its keep-alive sockets would hold the thread open
      void worker.terminate();
      if (typeof m === 'object' && m !== null && 'error' in m) reject(new Error(m.error));
      else resolve(m as T);
    });
    worker.once('error', reject);
  });
}

/** Prepare a server, then measure every case on it, each in a fresh worker thread. */
export async function runCaldavCases(
  target: CaldavTarget,
  sizes: CaldavSizes,
  cases: readonly CaseSpec[],
  seconds: number,
): Promise<{ prepared: Prepared; measured: Map<string, Measured> }> {
  const prepared = await inWorker<Prepared>({ target, sizes, task: 'prepare' });
  const measured = new Map<string, Measured>();
  for (const spec of cases) {
    measured.set(
      spec.name,
      await inWorker<Measured>({
        target,
        sizes,
        task: 'measure',
        spec,
        token: prepared.token,
        seconds,
      }),
    );
  }
  return { prepared, measured };
}
