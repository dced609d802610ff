/**
 * The two servers of the CalDAV/CardDAV benchmark (bench/caldav.ts): Commune in-process on the
 * level store, and Radicale (Debian's radicale package) configured here in a temp dir on a
 * loopback port, no authentication (the Basic user name is the owner), filesystem storage
 * with its default fsync. Radicale's big calendar and address book are written into its
 * folder before it starts: its PUT checks UID uniqueness by reading every item of the
 * collection, so uploading 10,000 events one by one would take many minutes.
 * (No default export: bench/run.ts skips this file.)
 */

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { cardName, cardText, eventName, eventText } from './caldav-data.ts';
import type { CaldavSizes, CaldavTarget } from './caldav-load.ts';
import { startCommuneDav } from './commune-dav.ts';
import { freePort } from './bench-support.ts';

const USER = 'bench@example.test';
const PASSWORD = 'bench-password-1';
const basic = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;

export interface RunningServer {
  readonly target: CaldavTarget;
  stop(): Promise<void>;
}

export async function startCommune(dir: string): Promise<RunningServer> {
  const { davBase, stop } = await startCommuneDav(dir, USER, PASSWORD);
  return {
    target: {
      calendar: `${davBase}/calendars/${USER}/bench/`,
      putCalendar: `${davBase}/calendars/${USER}/put/`,
      addressBook: `${davBase}/addressbooks/${USER}/bench/`,
      authorization: basic,
      upload: true,
    },
    stop,
  };
}

/** Why Radicale cannot run here, or undefined. */
export function radicaleMissing(): string | undefined {
  const probe = spawnSync('radicale', ['--version'], { encoding: 'utf8' });
  if (probe.error !== undefined || probe.status !== 0) {
    return 'radicale not found (apt-get install radicale)';
  }
  return undefined;
}

/** Radicale's version line, e.g. "3.1.8". */
export function radicaleVersion(): string {
  return spawnSync('radicale', ['--version'], { encoding: 'utf8' }).stdout.trim();
}

async function waitForPort(port: number, child: ChildProcess, log: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`radicale exited (${child.exitCode}); see ${log}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('radicale did not start listening');
}

/** A collection in Radicale's folder layout: the props file and one file per item. */
function writeCollection(
  folder: string,
  tag: 'VCALENDAR' | 'VADDRESSBOOK',
  items: Iterable<[string, string]>,
): void {
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, '.Radicale.props'), JSON.stringify({ tag, 'D:displayname': 'Bench' }));
  for (const [name, text] of items) writeFileSync(join(folder, name), text);
}

function* numbered(count: number, item: (i: number) => [string, string]) {
  for (let i = 0; i < count; i++) yield item(i);
}

export async function startRadicale(dir: string, sizes: CaldavSizes): Promise<RunningServer> {
  const root = join(dir, 'radicale');
  const home = join(root, 'collections', 'collection-root', 'bench');
  writeCollection(
    join(home, 'calendar'),
    'VCALENDAR',
    numbered(sizes.events, (i) => [eventName(i), eventText(i, sizes.anchor)]),
  );
  writeCollection(join(home, 'put'), 'VCALENDAR', []);
  writeCollection(
    join(home, 'contacts'),
    'VADDRESSBOOK',
    numbered(sizes.contacts, (i) => [cardName(i), cardText(i)]),
  );
  const port = await freePort();
  const conf = join(root, 'config');
  const log = join(root, 'radicale.log');
  writeFileSync(
    conf,
    [
      '[server]',
      `hosts = 127.0.0.1:${port}`,
      'max_connections = 32',
      '[auth]',
      'type = none',
      '[rights]',
      'type = owner_only',
      '[storage]',
      `filesystem_folder = ${join(root, 'collections')}`,
      '[web]',
      'type = none',
      '[logging]',
      'level = warning',
      '',
    ].join('\n'),
  );
  const child = spawn('radicale', ['--config', conf], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const errors: Buffer[] = [];
  child.stderr?.on('data', (c: Buffer) => {
    if (errors.length < 100) errors.push(c);
  });
  child.once('exit', () => writeFileSync(log, Buffer.concat(errors)));
  await waitForPort(port, child, log);
  const base = `http://127.0.0.1:${port}/bench`;
  return {
    target: {
      calendar: `${base}/calendar/`,
      putCalendar: `${base}/put/`,
      addressBook: `${base}/contacts/`,
      authorization: `Basic ${Buffer.from('bench:bench').toString('base64')}`,
      upload: false,
    },
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
