/**
 * CalDAV/CardDAV interoperability with real clients from Debian against an in-process server
 * (level store, loopback, ephemeral port, plain HTTP):
 *   python3-caldav  a scripted session: discovery from /dav/, MKCALENDAR, events (one weekly),
 *                   date search with server-side expand (RFC 4791 §9.6.5), a todo completed
 *   vdirsyncer      two-way sync of a calendar and an address book with changes on both sides
 *                   and a conflict resolved by `conflict_resolution = "b wins"`
 *   khal, khard     read what vdirsyncer wrote
 * Each test skips when its program is not installed
 * (apt-get install python3-caldav vdirsyncer khal khard).
 */

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startDavFixture, type DavFixture } from '../protocols/dav/dav-fixture.ts';

const SCRIPT = fileURLToPath(new URL('./scripts/caldav-client.py', import.meta.url));
const XML = { 'content-type': 'application/xml; charset=utf-8' };
const ICS = { 'content-type': 'text/calendar; charset=utf-8' };
const VCF = { 'content-type': 'text/vcard; charset=utf-8' };

function installed(program: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${program}`], { stdio: 'ignore' }).status === 0;
}

/** A python3 with the Debian caldav module (the pyenv python3 on PATH lacks it). */
function python(): string | undefined {
  for (const bin of ['/usr/bin/python3', 'python3']) {
    if (spawnSync(bin, ['-c', 'import caldav'], { stdio: 'ignore' }).status === 0) return bin;
  }
  return undefined;
}

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Run a program without blocking the event loop (the server lives in this process). */
function run(
  program: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {},
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { env: { ...process.env, ...options.env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

function ical(uid: string, ...props: string[]): string {
  return [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'PRODID:-//commune interop//EN',
    'BEGIN:VEVENT',
    `UID:${uid}`,
    'DTSTAMP:20250101T000000Z',
    ...props,
    'END:VEVENT',
    'END:VCALENDAR',
    '',
  ].join('\r\n');
}

function vcard(uid: string, given: string, family: string, email: string): string {
  return [
    'BEGIN:VCARD',
    'VERSION:3.0',
    `UID:${uid}`,
    `FN:${given} ${family}`,
    `N:${family};${given};;;`,
    `EMAIL;TYPE=INTERNET:${email}`,
    'END:VCARD',
    '',
  ].join('\r\n');
}

function uidOf(text: string): string {
  return /^UID:(.*?)\r?$/m.exec(text)?.[1] ?? '';
}

/** One line's value ("SUMMARY", "FN", ...) of an iCalendar or vCard text. */
function valueOf(text: string, name: string): string | undefined {
  return new RegExp(`^${name}(?:;[^:\\r\\n]*)?:(.*?)\\r?$`, 'm').exec(text)?.[1];
}

describe('CalDAV/CardDAV interop (python3-caldav, vdirsyncer, khal, khard)', function () {
  this.timeout(300_000);
  let f: DavFixture;
  let work: string;

  before(async () => {
    f = await startDavFixture({ backend: 'level' });
    work = mkdtempSync(join(tmpdir(), 'commune-caldav-interop-'));
  });
  after(async () => {
    await f.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('runs a python3-caldav session: discovery, calendar, weekly event, expand, todo', async function () {
    const bin = python();
    if (!bin) this.skip();
    const out = await run(bin, [SCRIPT, `${f.base}/dav/`, f.alice.address, f.alice.password]);
    assert.equal(out.code, 0, out.stderr);
    const seen = JSON.parse(out.stdout) as Record<string, unknown>;
    const user = encodeURIComponent(f.alice.address);
    const home = `${f.base}/dav/calendars/${user}/`;
    // Discovery: principal from the DAV root, calendar home from the principal
    assert.match(String(seen.principal), /\/dav\/principals\/alice(@|%40)example\.test\/$/);
    assert.equal(seen.home, home);
    assert.deepEqual(seen.calendars_before, [`${home}default/`]);
    // MKCALENDAR with a display name
    assert.equal(seen.calendar, `${home}interop/`);
    assert.equal(seen.calendar_name, 'Interop');
    assert.deepEqual(seen.calendars_after, [`${home}default/`, `${home}interop/`]);
    assert.deepEqual(seen.events, [
      'py-outside@example.test',
      'py-single@example.test',
      'py-weekly@example.test',
    ]);
    // January: four expanded weekly instances (no RRULE left, each with a RECURRENCE-ID) and
    // the single event; the June event is outside the range
    assert.deepEqual(seen.january, [
      ['py-weekly@example.test', '20250106T090000Z', false, true],
      ['py-weekly@example.test', '20250113T090000Z', false, true],
      ['py-single@example.test', '20250115T140000Z', false, false],
      ['py-weekly@example.test', '20250120T090000Z', false, true],
      ['py-weekly@example.test', '20250127T090000Z', false, true],
    ]);
    // The todo is listed while open, hidden once completed, and stored as COMPLETED
    assert.deepEqual(seen.todos_open, ['Write the report']);
    assert.deepEqual(seen.todos_open_after, []);
    assert.deepEqual(seen.todos_all, [['Write the report', 'COMPLETED']]);
    assert.equal(seen.todo_completed_stamp, true);
    // What the script did is in the store
    const res = await f.request('PROPFIND', `/dav/calendars/${user}/interop/`, {
      headers: { ...XML, depth: '1' },
      body: '<d:propfind xmlns:d="DAV:"><d:prop><d:getetag/></d:prop></d:propfind>',
    });
    assert.equal(res.status, 207);
    assert.equal((await res.text()).match(/<d:href>[^<]*\.ics<\/d:href>/g)?.length, 4);
  });

  describe('vdirsyncer two-way sync with khal and khard on top', () => {
    const user = (): string => encodeURIComponent(f.bob.address);
    const calPath = (): string => `/dav/calendars/${user()}/default/`;
    const abPath = (): string => `/dav/addressbooks/${user()}/default/`;
    let dir = '';
    let config = '';
    let synced = false;

    /** The items of a server collection, by UID. */
    const serverItems = async (collection: string): Promise<Map<string, string>> => {
      const res = await f.request('PROPFIND', collection, {
        as: f.bob,
        headers: { ...XML, depth: '1' },
        body: '<d:propfind xmlns:d="DAV:"><d:prop><d:getetag/></d:prop></d:propfind>',
      });
      assert.equal(res.status, 207);
      const hrefs = [...(await res.text()).matchAll(/<d:href>([^<]+)<\/d:href>/g)]
        .map((m) => m[1] ?? '')
        .filter((h) => !h.endsWith('/'));
      const items = new Map<string, string>();
      for (const href of hrefs) {
        const get = await f.request('GET', href, { as: f.bob });
        assert.equal(get.status, 200, href);
        const text = await get.text();
        items.set(uidOf(text), text);
      }
      return items;
    };

    /** The files of a local vdir collection, by UID. */
    const localItems = (sub: string): Map<string, { path: string; text: string }> => {
      const folder = join(dir, sub, 'default');
      const items = new Map<string, { path: string; text: string }>();
      for (const name of readdirSync(folder)) {
        const path = join(folder, name);
        const text = readFileSync(path, 'utf8');
        items.set(uidOf(text), { path, text });
      }
      return items;
    };

    const localFile = (sub: string, uid: string): { path: string; text: string } => {
      const item = localItems(sub).get(uid);
      assert.ok(item, `${uid} missing in local ${sub}`);
      return item;
    };

    const serverHref = async (collection: string, uid: string): Promise<string> => {
      const res = await f.request('PROPFIND', collection, {
        as: f.bob,
        headers: { ...XML, depth: '1' },
        body: '<d:propfind xmlns:d="DAV:"><d:prop><d:getetag/></d:prop></d:propfind>',
      });
      for (const m of (await res.text()).matchAll(/<d:href>([^<]+)<\/d:href>/g)) {
        const href = m[1] ?? '';
        if (href.endsWith('/')) continue;
        const get = await f.request('GET', href, { as: f.bob });
        if (uidOf(await get.text()) === uid) return href;
      }
      assert.fail(`${uid} not on the server`);
    };

    const vdirsyncer = async (...args: string[]): Promise<string> => {
      const out = await run('vdirsyncer', ['-c', config, ...args], {
        env: { HOME: dir },
        input: 'y\n'.repeat(8),
      });
      const text = out.stdout + out.stderr;
      assert.equal(out.code, 0, text);
      assert.doesNotMatch(text, /^error:/im, text);
      return text;
    };

    const assertConverged = async (): Promise<void> => {
      for (const [sub, collection] of [
        ['calendars', calPath()],
        ['contacts', abPath()],
      ] as const) {
        const server = await serverItems(collection);
        const local = localItems(sub);
        assert.deepEqual([...local.keys()].sort(), [...server.keys()].sort(), sub);
        for (const [uid, text] of server) {
          for (const name of ['SUMMARY', 'FN', 'EMAIL'])
            assert.equal(valueOf(local.get(uid)?.text ?? '', name), valueOf(text, name), uid);
        }
      }
    };

    before(() => {
      dir = join(work, 'vdirsyncer');
      mkdirSync(dir);
      config = join(dir, 'config');
      const remote = (type: string, path: string): string =>
        [
          `type = "${type}"`,
          `url = "${f.base}${path}"`,
          `username = "${f.bob.address}"`,
          `password = "${f.bob.password}"`,
        ].join('\n');
      writeFileSync(
        config,
        [
          '[general]',
          `status_path = "${join(dir, 'status')}/"`,
          '',
          '[pair cal]',
          'a = "cal_local"',
          'b = "cal_remote"',
          'collections = ["from b"]',
          'conflict_resolution = "b wins"',
          '',
          '[storage cal_local]',
          'type = "filesystem"',
          `path = "${join(dir, 'calendars')}/"`,
          'fileext = ".ics"',
          '',
          '[storage cal_remote]',
          remote('caldav', `/dav/calendars/${user()}/`),
          '',
          '[pair card]',
          'a = "card_local"',
          'b = "card_remote"',
          'collections = ["from b"]',
          'conflict_resolution = "b wins"',
          '',
          '[storage card_local]',
          'type = "filesystem"',
          `path = "${join(dir, 'contacts')}/"`,
          'fileext = ".vcf"',
          '',
          '[storage card_remote]',
          remote('carddav', `/dav/addressbooks/${user()}/`),
          '',
        ].join('\n'),
      );
    });

    it('discovers both homes and syncs items from both sides', async function () {
      if (!installed('vdirsyncer')) this.skip();
      const found = await vdirsyncer('discover');
      assert.match(found, /cal_remote:\s*\n\s*- "default"/);
      assert.match(found, /card_remote:\s*\n(\s*- .*\n)*\s*- "default"/);
      // the read-only directory address book is discovered too, and synced down
      assert.match(found, /card_remote:\s*\n(\s*- .*\n)*\s*- "directory"/);
      assert.ok(existsSync(join(dir, 'calendars', 'default')));
      assert.ok(existsSync(join(dir, 'contacts', 'default')));
      // Items on the server
      const put = async (path: string, body: string, headers: Record<string, string>) => {
        const res = await f.request('PUT', path, { as: f.bob, body, headers });
        assert.equal(res.status, 201, await res.text());
      };
      await put(
        `${calPath()}srv-weekly.ics`,
        ical(
          'srv-weekly',
          'DTSTART:20250106T100000Z',
          'DTEND:20250106T110000Z',
          'RRULE:FREQ=WEEKLY;COUNT=4',
          'SUMMARY:Server weekly',
        ),
        ICS,
      );
      await put(
        `${calPath()}srv-conflict.ics`,
        ical(
          'srv-conflict',
          'DTSTART:20250109T120000Z',
          'DTEND:20250109T130000Z',
          'SUMMARY:Conflict base',
        ),
        ICS,
      );
      await put(`${abPath()}srv-ann.vcf`, vcard('srv-ann', 'Ann', 'Server', 'ann@srv.test'), VCF);
      await put(`${abPath()}srv-gone.vcf`, vcard('srv-gone', 'Gus', 'Gone', 'gus@srv.test'), VCF);
      // Items on the local side
      writeFileSync(
        join(dir, 'calendars', 'default', 'loc-1.ics'),
        ical(
          'loc-1',
          'DTSTART:20250108T080000Z',
          'DTEND:20250108T090000Z',
          'SUMMARY:Local breakfast',
        ),
      );
      writeFileSync(
        join(dir, 'contacts', 'default', 'loc-bert.vcf'),
        vcard('loc-bert', 'Bert', 'Local', 'bert@loc.test'),
      );
      await vdirsyncer('sync');
      await assertConverged();
      assert.deepEqual([...localItems('calendars').keys()].sort(), [
        'loc-1',
        'srv-conflict',
        'srv-weekly',
      ]);
      assert.deepEqual([...localItems('contacts').keys()].sort(), [
        'loc-bert',
        'srv-ann',
        'srv-gone',
      ]);
      synced = true;
    });

    it('propagates edits, additions and deletions made on both sides', async function () {
      if (!synced) this.skip();
      // Server side: edit the item that came from the local side, add one, edit a contact
      const loc1 = await serverHref(calPath(), 'loc-1');
      const edit = await f.request('PUT', loc1, {
        as: f.bob,
        headers: ICS,
        body: ical(
          'loc-1',
          'DTSTART:20250108T080000Z',
          'DTEND:20250108T090000Z',
          'SUMMARY:Edited on server',
        ),
      });
      assert.equal(edit.status, 204);
      const added = await f.request('PUT', `${calPath()}srv-2.ics`, {
        as: f.bob,
        headers: ICS,
        body: ical('srv-2', 'DTSTART;VALUE=DATE:20250120', 'SUMMARY:Server all-day'),
      });
      assert.equal(added.status, 201);
      const bert = await serverHref(abPath(), 'loc-bert');
      const editCard = await f.request('PUT', bert, {
        as: f.bob,
        headers: VCF,
        body: vcard('loc-bert', 'Bert', 'Local', 'bert@new.test'),
      });
      assert.equal(editCard.status, 204);
      // Local side: edit the server's weekly event and contact, add an event, delete a contact
      const weekly = localFile('calendars', 'srv-weekly');
      writeFileSync(weekly.path, weekly.text.replace('Server weekly', 'Edited locally'));
      const ann = localFile('contacts', 'srv-ann');
      writeFileSync(ann.path, ann.text.replace('ann@srv.test', 'ann@loc.test'));
      writeFileSync(
        join(dir, 'calendars', 'default', 'loc-2.ics'),
        ical('loc-2', 'DTSTART:20250122T150000Z', 'DURATION:PT1H', 'SUMMARY:Local tea'),
      );
      unlinkSync(localFile('contacts', 'srv-gone').path);

      const changes = await vdirsyncer('sync');
      assert.match(changes, /Copying \(uploading\) item/);
      assert.match(changes, /Copying \(updating\) item/);
      assert.match(changes, /Deleting item/);
      await assertConverged();
      const cal = await serverItems(calPath());
      assert.deepEqual([...cal.keys()].sort(), [
        'loc-1',
        'loc-2',
        'srv-2',
        'srv-conflict',
        'srv-weekly',
      ]);
      assert.equal(valueOf(cal.get('srv-weekly') ?? '', 'SUMMARY'), 'Edited locally');
      assert.equal(valueOf(localFile('calendars', 'loc-1').text, 'SUMMARY'), 'Edited on server');
      const cards = await serverItems(abPath());
      assert.deepEqual([...cards.keys()].sort(), ['loc-bert', 'srv-ann']);
      assert.equal(valueOf(cards.get('srv-ann') ?? '', 'EMAIL'), 'ann@loc.test');
      assert.equal(valueOf(localFile('contacts', 'loc-bert').text, 'EMAIL'), 'bert@new.test');
      // A second sync has nothing left to do
      const again = await vdirsyncer('sync');
      assert.doesNotMatch(again, /Copying|Updating|Deleting/, again);
    });

    it('resolves a conflict with conflict_resolution = "b wins" (the server)', async function () {
      if (!synced) this.skip();
      // The same event and the same contact changed on both sides
      const href = await serverHref(calPath(), 'srv-conflict');
      const server = await f.request('PUT', href, {
        as: f.bob,
        headers: ICS,
        body: ical(
          'srv-conflict',
          'DTSTART:20250109T120000Z',
          'DTEND:20250109T130000Z',
          'SUMMARY:Server side wins',
        ),
      });
      assert.equal(server.status, 204);
      const local = localFile('calendars', 'srv-conflict');
      writeFileSync(local.path, local.text.replace('Conflict base', 'Local side loses'));
      const cardHref = await serverHref(abPath(), 'srv-ann');
      const card = await f.request('PUT', cardHref, {
        as: f.bob,
        headers: VCF,
        body: vcard('srv-ann', 'Ann', 'Server', 'ann@server-wins.test'),
      });
      assert.equal(card.status, 204);
      const ann = localFile('contacts', 'srv-ann');
      writeFileSync(ann.path, ann.text.replace('ann@loc.test', 'ann@local-loses.test'));

      const resolved = await vdirsyncer('sync');
      assert.match(resolved, /Doing conflict resolution for item/);
      await assertConverged();
      assert.equal(
        valueOf(localFile('calendars', 'srv-conflict').text, 'SUMMARY'),
        'Server side wins',
      );
      const onServer = await serverItems(calPath());
      assert.equal(valueOf(onServer.get('srv-conflict') ?? '', 'SUMMARY'), 'Server side wins');
      assert.equal(valueOf(localFile('contacts', 'srv-ann').text, 'EMAIL'), 'ann@server-wins.test');
      const cards = await serverItems(abPath());
      assert.equal(valueOf(cards.get('srv-ann') ?? '', 'EMAIL'), 'ann@server-wins.test');
    });

    it('khal lists the calendar vdirsyncer wrote, recurrences expanded', async function () {
      if (!synced || !installed('khal')) this.skip();
      const conf = join(dir, 'khal.conf');
      writeFileSync(
        conf,
        [
          '[calendars]',
          '[[bob]]',
          `path = ${join(dir, 'calendars', 'default')}/`,
          '',
          '[locale]',
          'timeformat = %H:%M',
          'dateformat = %Y-%m-%d',
          'longdateformat = %Y-%m-%d',
          'datetimeformat = %Y-%m-%d %H:%M',
          'longdatetimeformat = %Y-%m-%d %H:%M',
          'local_timezone = UTC',
          'default_timezone = UTC',
          '',
          '[sqlite]',
          `path = ${join(dir, 'khal.db')}`,
          '',
        ].join('\n'),
      );
      const out = await run(
        'khal',
        [
          '-c',
          conf,
          'list',
          '--format',
          '{start} {title}',
          '--day-format',
          '',
          '2025-01-01',
          '2025-02-01',
        ],
        { env: { HOME: dir } },
      );
      assert.equal(out.code, 0, out.stderr);
      const lines = out.stdout
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l !== '');
      assert.deepEqual(lines, [
        '2025-01-06 10:00 Edited locally',
        '2025-01-08 08:00 Edited on server',
        '2025-01-09 12:00 Server side wins',
        '2025-01-13 10:00 Edited locally',
        '2025-01-20 Server all-day',
        '2025-01-20 10:00 Edited locally',
        '2025-01-22 15:00 Local tea',
        '2025-01-27 10:00 Edited locally',
      ]);
    });

    it('khard lists the address book vdirsyncer wrote', async function () {
      if (!synced || !installed('khard')) this.skip();
      const conf = join(dir, 'khard.conf');
      writeFileSync(
        conf,
        [
          '[addressbooks]',
          '[[bob]]',
          `path = ${join(dir, 'contacts', 'default')}/`,
          '',
          '[general]',
          'editor = /bin/true',
          'merge_editor = /bin/true',
          '',
        ].join('\n'),
      );
      const out = await run('khard', ['-c', conf, 'email', '--parsable'], { env: { HOME: dir } });
      assert.equal(out.code, 0, out.stderr);
      const lines = out.stdout
        .split('\n')
        .filter((l) => l.includes('\t'))
        .sort();
      assert.deepEqual(lines, [
        'ann@server-wins.test\tAnn Server\tINTERNET',
        'bert@new.test\tBert Local\tINTERNET',
      ]);
    });
  });
});
