/**
 * Interoperability of the IMAP server with real third-party clients from Debian packages:
 * mbsync (isync) two-way sync of a 1,000-message mailbox with flags changed on both sides, a
 * move and a delete; offlineimap one-way sync; a python3 imaplib script; curl imap:// and
 * imaps://. Each is skipped (with the reason) only when its program is not installed.
 *
 * The server runs in this process, so every client runs asynchronously (never spawnSync).
 */

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ImapFlow } from 'imapflow';
import type { MailboxRecord } from '../../src/storage/mail/mail-types.ts';
import { message, PASSWORDS, startImap } from '../protocols/imap/imap-fixture.ts';
import type { ImapFixture } from '../protocols/imap/imap-fixture.ts';

const SCRIPT = fileURLToPath(new URL('./scripts/imaplib-client.py', import.meta.url));
const MESSAGES = 1000;

function installed(command: string, args: readonly string[]): boolean {
  const r = spawnSync(command, args, { stdio: 'ignore' });
  return r.error === undefined;
}

function python(): string | undefined {
  for (const bin of ['/usr/bin/python3', 'python3']) {
    if (spawnSync(bin, ['-c', 'import imaplib, ssl'], { stdio: 'ignore' }).status === 0) return bin;
  }
  return undefined;
}

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function run(
  command: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 120_000,
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** One message file of a maildir folder. */
interface MaildirFile {
  readonly path: string;
  readonly folder: string;
  /** File name without the ":2,FLAGS" info. */
  readonly base: string;
  /** Maildir flag letters (D F P R S T). */
  readonly flags: string;
  readonly messageId: string;
}

function readMaildir(folder: string): MaildirFile[] {
  const out: MaildirFile[] = [];
  for (const sub of ['new', 'cur']) {
    let names: string[];
    try {
      names = readdirSync(join(folder, sub));
    } catch {
      continue;
    }
    for (const name of names) {
      const path = join(folder, sub, name);
      const head = readFileSync(path, 'latin1').split('\r\n\r\n')[0] ?? '';
      const id = /^Message-ID:\s*(\S+)/im.exec(head)?.[1] ?? '';
      const info = name.indexOf(':2,');
      out.push({
        path,
        folder,
        base: info < 0 ? name : name.slice(0, info),
        flags: info < 0 ? '' : name.slice(info + 3),
        messageId: id,
      });
    }
  }
  return out;
}

/** Set maildir flags on a file (moving it to cur/). */
function setMaildirFlags(file: MaildirFile, flags: string): void {
  const sorted = [...new Set(flags)].sort().join('');
  renameSync(file.path, join(file.folder, 'cur', `${file.base}:2,${sorted}`));
}

const idOf = (n: number): string => `<m${n}@example.test>`;

describe('interop: IMAP clients', function () {
  this.timeout(300_000);
  let fx: ImapFixture;
  let dir: string;
  let ca: string;

  before(async () => {
    fx = await startImap();
    dir = mkdtempSync(join(tmpdir(), 'commune-imap-interop-'));
    ca = join(dir, 'ca.pem');
    writeFileSync(ca, fx.cert);
  });

  after(async () => {
    await fx?.stop();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  /** Message-ID -> IMAP flags of a mailbox, read through the mail service. */
  async function remote(name: string): Promise<Map<string, string[]>> {
    const { access, id } = fx.alice;
    const box = (await fx.mail.findMailbox(access, id, name)) as MailboxRecord;
    assert.ok(box, name);
    const summaries = await fx.mail.listMessages(access, id, box.id);
    const records = await fx.mail.getMessages(
      access,
      id,
      box.id,
      summaries.map((s) => s.uid),
    );
    return new Map(records.map((r) => [r.envelope.messageId ?? '', [...r.flags].sort()]));
  }

  it('mbsync: two-way sync of 1,000 messages, flags on both sides, a move and a delete', async function () {
    if (!installed('mbsync', ['--version'])) this.skip(); // apt-get install isync
    for (let i = 0; i < MESSAGES; i++) {
      await fx.mail.deliver(fx.alice.id, message(`m${i}`, `Message number ${i}.`));
    }
    const mail = join(dir, 'mbsync');
    mkdirSync(mail, { recursive: true });
    const rc = join(dir, 'mbsyncrc');
    writeFileSync(
      rc,
      [
        'IMAPAccount commune',
        'Host 127.0.0.1',
        `Port ${fx.port}`,
        'User alice',
        `Pass ${PASSWORDS.alice ?? ''}`,
        'SSLType STARTTLS',
        `CertificateFile ${ca}`,
        '',
        'IMAPStore remote',
        'Account commune',
        '',
        'MaildirStore local',
        `Path ${mail}/`,
        `Inbox ${mail}/INBOX`,
        'SubFolders Verbatim',
        '',
        'Channel sync',
        'Far :remote:',
        'Near :local:',
        'Patterns *',
        'Create Both',
        'Expunge Both',
        'SyncState *',
        '',
      ].join('\n'),
    );
    const sync = async (): Promise<void> => {
      const r = await run('mbsync', ['-c', rc, '-a'], { HOME: dir });
      assert.equal(r.code, 0, `mbsync failed: ${r.stderr}${r.stdout}`);
    };

    // 1. the first pull brings every message
    await sync();
    const inbox = join(mail, 'INBOX');
    let local = readMaildir(inbox);
    assert.equal(local.length, MESSAGES);
    assert.deepEqual(
      new Set(local.map((f) => f.messageId)),
      new Set(Array.from({ length: MESSAGES }, (_, i) => idOf(i))),
    );

    // 2. local changes: seen, flagged, one deleted, one moved to Archive
    const byId = new Map(local.map((f) => [f.messageId, f]));
    const file = (n: number): MaildirFile => byId.get(idOf(n)) as MaildirFile;
    for (let n = 0; n < 10; n++) setMaildirFlags(file(n), 'S');
    for (let n = 10; n < 15; n++) setMaildirFlags(file(n), 'F');
    rmSync(file(20).path);
    const moved = file(21);
    renameSync(moved.path, join(mail, 'Archive', 'cur', `${moved.base.replace(/,U=\d+/, '')}:2,S`));

    // 3. remote changes by another client: flags, a delete, a move, a new message
    const client = new ImapFlow({
      host: '127.0.0.1',
      port: fx.port,
      secure: false,
      auth: { user: 'alice', pass: PASSWORDS.alice ?? '' },
      logger: false,
      tls: { rejectUnauthorized: false },
    });
    await client.connect();
    try {
      await client.mailboxOpen('INBOX');
      const uidOf = async (n: number): Promise<number> => {
        const found = await client.search({ header: { 'message-id': idOf(n) } }, { uid: true });
        const uid = found === false ? undefined : found?.[0];
        assert.ok(uid !== undefined, idOf(n));
        return uid;
      };
      for (let n = 100; n < 105; n++) {
        await client.messageFlagsAdd(String(await uidOf(n)), ['\\Flagged'], { uid: true });
      }
      for (let n = 200; n < 210; n++) {
        await client.messageFlagsAdd(String(await uidOf(n)), ['\\Seen'], { uid: true });
      }
      await client.messageDelete(String(await uidOf(300)), { uid: true });
      await client.messageMove(String(await uidOf(400)), 'Trash', { uid: true });
      await client.append('INBOX', message('remote-new'));
    } finally {
      await client.logout();
    }

    // 4. the second sync carries both sides' changes across
    await sync();
    const expected = new Map<string, string[]>();
    for (let n = 0; n < MESSAGES; n++) {
      if ([20, 21, 300, 400].includes(n)) continue;
      const flags: string[] = [];
      if (n < 10 || (n >= 200 && n < 210)) flags.push('\\Seen');
      if ((n >= 10 && n < 15) || (n >= 100 && n < 105)) flags.push('\\Flagged');
      expected.set(idOf(n), flags.sort());
    }
    expected.set('<remotenew@example.test>', []);
    assert.deepEqual(await remote('INBOX'), expected);
    assert.deepEqual([...(await remote('Archive')).keys()], [idOf(21)]);
    assert.deepEqual([...(await remote('Trash')).keys()], [idOf(400)]);
    local = readMaildir(inbox);
    const letters = (flags: readonly string[]): string =>
      flags
        .map((f) => (f === '\\Seen' ? 'S' : f === '\\Flagged' ? 'F' : ''))
        .sort()
        .join('');
    assert.deepEqual(
      new Map(local.map((f) => [f.messageId, [...f.flags].sort().join('')])),
      new Map([...expected].map(([id, flags]) => [id, letters(flags)])),
    );
    assert.deepEqual(
      readMaildir(join(mail, 'Trash')).map((f) => f.messageId),
      [idOf(400)],
    );

    // 5. a third sync changes nothing
    await sync();
    assert.equal(readMaildir(inbox).length, expected.size);
    assert.equal((await remote('INBOX')).size, expected.size);
  });

  it('offlineimap: one-way (read-only) sync over implicit TLS', async function () {
    if (!installed('offlineimap', ['--version'])) this.skip(); // apt-get install offlineimap
    const expected = await remote('INBOX');
    if (expected.size === 0) {
      for (let i = 0; i < 20; i++) await fx.mail.deliver(fx.alice.id, message(`o${i}`));
    }
    const want = await remote('INBOX');
    const mail = join(dir, 'offlineimap');
    const rc = join(dir, 'offlineimaprc');
    writeFileSync(
      rc,
      [
        '[general]',
        'accounts = commune',
        `metadata = ${join(dir, 'offlineimap-meta')}`,
        '',
        '[Account commune]',
        'localrepository = local',
        'remoterepository = remote',
        '',
        '[Repository local]',
        'type = Maildir',
        `localfolders = ${mail}`,
        '',
        '[Repository remote]',
        'type = IMAP',
        'remotehost = localhost',
        `remoteport = ${fx.tlsPort}`,
        'remoteuser = alice',
        `remotepass = ${PASSWORDS.alice ?? ''}`,
        'ssl = yes',
        `sslcacertfile = ${ca}`,
        'readonly = True',
        'folderfilter = lambda name: name in ["INBOX", "Trash"]',
        '',
      ].join('\n'),
    );
    const r = await run('offlineimap', ['-c', rc, '-o', '-u', 'basic'], { HOME: dir });
    assert.equal(r.code, 0, `offlineimap failed: ${r.stderr}${r.stdout}`);
    const local = readMaildir(join(mail, 'INBOX'));
    assert.deepEqual(new Set(local.map((f) => f.messageId)), new Set(want.keys()));
    // step: read-only: nothing changed on the server
    assert.deepEqual(await remote('INBOX'), want);
  });

  it('python3 imaplib: STARTTLS and IMAPS, mailbox and message commands', async function () {
    const py = python();
    if (py === undefined) this.skip(); // apt-get install python3
    const r = await run(py, [
      SCRIPT,
      '127.0.0.1',
      String(fx.port),
      String(fx.tlsPort),
      ca,
      'alice',
      PASSWORDS.alice ?? '',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.ok((out.pre_tls_caps as string[]).includes('STARTTLS'));
    assert.equal(out.login, 'OK');
    assert.ok((out.caps as string[]).includes('IDLE'));
    assert.equal((out.caps as string[]).includes('STARTTLS'), false);
    assert.ok((out.list as string[]).some((l) => l.includes('\\Sent') && l.endsWith('"Sent"')));
    assert.equal(out.create, 'OK');
    assert.match(out.append as string, /^\[APPENDUID \d+ 1\] APPEND completed$/);
    assert.deepEqual(out.select, ['OK', '1']);
    assert.equal(out.search, '1');
    assert.equal(out.fetched_subject, 'from python');
    assert.match(out.fetched_flags as string, /FLAGS \(\\Flagged \\Seen\)/);
    const fetched = /UID 1 INTERNALDATE "([^"]+)" RFC822\.SIZE 68\)/.exec(out.uid_fetch as string);
    assert.ok(fetched, out.uid_fetch as string);
    // step: the date imaplib sent (epoch 1767225600) in whatever zone it wrote it
    assert.equal(Date.parse((fetched[1] ?? '').trim().replace(/-/g, ' ')), 1767225600_000);
    assert.match(out.store as string, /\\Deleted/);
    assert.equal(out.copy, 'OK');
    assert.deepEqual(out.expunge, ['OK', ['1']]);
    assert.match(out.status as string, /^INBOX \(MESSAGES \d+ UIDNEXT \d+\)$/);
    assert.equal(out.delete, 'OK');
    assert.equal(out.logout, 'BYE');
    assert.match(out.imaps_exists as string, /^\d+$/);
    assert.ok((out.imaps_subjects as string[]).includes('Subject: from python'));
  });

  it('curl: fetches over imap:// (STARTTLS) and imaps://, lists and appends', async function () {
    if (!installed('curl', ['--version'])) this.skip(); // apt-get install curl
    const user = `alice:${PASSWORDS.alice ?? ''}`;
    const box = await fx.mail.findMailbox(fx.alice.access, fx.alice.id, 'INBOX');
    assert.ok(box);
    const [first] = await fx.mail.listMessages(fx.alice.access, fx.alice.id, box.id);
    assert.ok(first);
    const expected = new TextDecoder().decode(
      await fx.mail.readMessage(fx.alice.access, fx.alice.id, box.id, first.uid),
    );
    const fetched = await run('curl', [
      '-sS',
      '--ssl-reqd',
      '--cacert',
      ca,
      '--user',
      user,
      `imap://127.0.0.1:${fx.port}/INBOX;UID=${first.uid}`,
    ]);
    assert.equal(fetched.code, 0, fetched.stderr);
    assert.equal(fetched.stdout, expected);

    const listed = await run('curl', [
      '-sS',
      '--cacert',
      ca,
      '--user',
      user,
      `imaps://127.0.0.1:${fx.tlsPort}/`,
    ]);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /^\* LIST \([^)]*\\Sent[^)]*\) "\/" "?Sent"?\r?$/m);

    const section = await run('curl', [
      '-sS',
      '--cacert',
      ca,
      '--user',
      user,
      `imaps://127.0.0.1:${fx.tlsPort}/INBOX;UID=${first.uid};SECTION=HEADER.FIELDS%20(SUBJECT)`,
    ]);
    assert.equal(section.code, 0, section.stderr);
    assert.match(section.stdout, /^Subject: /);

    const upload = join(dir, 'upload.eml');
    writeFileSync(upload, message('uploaded by curl'));
    const appended = await run('curl', [
      '-sS',
      '--ssl-reqd',
      '--cacert',
      ca,
      '--user',
      user,
      '-T',
      upload,
      `imap://127.0.0.1:${fx.port}/Drafts`,
    ]);
    assert.equal(appended.code, 0, appended.stderr);
    assert.deepEqual([...(await remote('Drafts')).keys()], ['<uploadedbycurl@example.test>']);

    const searched = await run('curl', [
      '-sS',
      '--ssl-reqd',
      '--cacert',
      ca,
      '--user',
      user,
      '-X',
      'SEARCH SUBJECT "uploaded"',
      `imap://127.0.0.1:${fx.port}/Drafts`,
    ]);
    assert.equal(searched.code, 0, searched.stderr);
    assert.match(searched.stdout, /^\* SEARCH 1\r?$/m);
  });
});
