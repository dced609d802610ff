import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isCommuneError } from '../../src/core/errors.ts';
import { MemoryStore } from '../../src/storage/backends/memory-store.ts';
import { CalendarService } from '../../src/storage/calendar/calendar-service.ts';
import { currentChangeId } from '../../src/storage/change-log.ts';
import { inlineBlobRange } from '../../src/storage/inline-blob-store.ts';
import { Subspace, pack } from '../../src/storage/keys.ts';
import { LocalChangeBus } from '../../src/storage/local-change-bus.ts';
import type { MailboxRecord } from '../../src/storage/mail/mail-types.ts';
import { MemoryBlobStore } from '../../src/storage/memory-blob-store.ts';
import { copyRecords, migrateStorage } from '../../src/storage/migrate.ts';
import { summarizeRecords, verifyMigration } from '../../src/storage/migrate-verify.ts';
import { openStorage } from '../../src/storage/open-storage.ts';
import { Storage } from '../../src/storage/storage.ts';
import type { Batch, CommitResult, Store } from '../../src/storage/store.ts';
import { makeMail, message } from './mail/mail-fixture.ts';
import { PG_URL, freshSchema, pgQuery, requirePostgres } from './pg-test-db.ts';

const sha256 = (data: Uint8Array | string): string =>
  createHash('sha256').update(data).digest('hex');

const EVENT = [
  'BEGIN:VCALENDAR',
  'VERSION:2.0',
  'PRODID:-//commune//migrate test//EN',
  'BEGIN:VEVENT',
  'UID:standup-1@example.test',
  'DTSTAMP:20260310T120000Z',
  'DTSTART:20260311T090000Z',
  'DTEND:20260311T091500Z',
  'SUMMARY:Stand-up',
  'END:VEVENT',
  'END:VCALENDAR',
  '',
].join('\r\n');

/** A message of about `size` bytes, its body lines numbered so no two are alike. */
function bigMessage(size: number): Uint8Array {
  const lines: string[] = [];
  for (let i = 0, n = 0; n < size; i++) {
    const line = `line ${i} of a long message that does not fit inline`;
    lines.push(line);
    n += line.length + 2;
  }
  return message({ subject: 'large', body: lines.join('\r\n') });
}

function memoryStorage(): Storage {
  return new Storage({
    store: new MemoryStore(),
    blobs: new MemoryBlobStore(),
    bus: new LocalChangeBus(),
  });
}

/** Mail (small inline, one > 64 KiB), flags, an expunge, a copy, a password, an event. */
async function populate(storage: Storage): Promise<{ large: Uint8Array; smalls: Uint8Array[] }> {
  const f = await makeMail({ storage });
  await f.directory.setPassword(f.aliceId, 'correct horse');
  await f.mail.ensureDefaults(f.alice, f.aliceId);
  const inbox = (await f.mail.findMailbox(f.alice, f.aliceId, 'INBOX')) as MailboxRecord;
  const archive = await f.mail.createMailbox(f.alice, f.aliceId, 'Projects');
  const smalls = Array.from({ length: 6 }, (_, i) =>
    message({ subject: `small ${i}`, messageId: `m${i}@example.test`, body: `Body ${i}.` }),
  );
  for (const bytes of smalls) await f.mail.deliver(f.aliceId, bytes);
  const large = bigMessage(100 * 1024);
  await f.mail.deliver(f.aliceId, large);
  await f.mail.deliver(f.bobId, smalls[0] as Uint8Array);
  await f.mail.store(f.alice, f.aliceId, inbox.id, [2], { op: 'add', flags: ['\\Seen'] });
  await f.mail.store(f.alice, f.aliceId, inbox.id, [3], { op: 'add', flags: ['\\Deleted'] });
  await f.mail.expunge(f.alice, f.aliceId, inbox.id);
  await f.mail.copy(f.alice, f.aliceId, inbox.id, [4, 7], archive.id);
  const calendar = new CalendarService({ storage });
  await calendar.ensureHome(f.aliceId);
  await calendar.put(f.aliceId, 'default', 'standup.ics', Buffer.from(EVENT), {
    contentType: 'text/calendar',
  });
  return { large, smalls };
}

/** What clients see: mailboxes, UIDs, MODSEQs, flags, content hashes, change ids, events. */
async function snapshot(storage: Storage): Promise<unknown> {
  const f = await makeMail({ storage });
  const mailboxes: unknown[] = [];
  for (const box of await f.mail.listMailboxes(f.alice, f.aliceId)) {
    const status = await f.mail.status(f.alice, f.aliceId, box.id);
    const messages = await f.mail.listMessages(f.alice, f.aliceId, box.id);
    const content: string[] = [];
    for (const m of messages) {
      content.push(sha256(await f.mail.readMessage(f.alice, f.aliceId, box.id, m.uid)));
    }
    mailboxes.push({ box, status, messages, content });
  }
  const calendar = new CalendarService({ storage });
  const events: unknown[] = [];
  for (const r of await calendar.store.listResources(f.aliceId, 'default')) {
    events.push({ name: r.name, version: r.version, text: await calendar.store.text(r) });
  }
  return {
    mailboxes,
    events,
    aliceChangeId: await currentChangeId(storage.store, f.aliceId),
    bobChangeId: await currentChangeId(storage.store, f.bobId),
    systemChangeId: await currentChangeId(storage.store, 0),
    principals: await f.directory.listPrincipals(),
  };
}

async function countRange(store: Store, range = inlineBlobRange()): Promise<number> {
  let n = 0;
  for await (const entry of store.scan(range)) if (entry) n++;
  return n;
}

async function listed(storage: Storage): Promise<string[]> {
  const out: string[] = [];
  for await (const hash of storage.blobs.list()) out.push(hash);
  return out.sort();
}

describe('migrate', function () {
  this.timeout(60_000);
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'commune-migrate-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('copies a level store into another, byte for byte, and the copy keeps working', async () => {
    const source = await openStorage({ backend: 'level', dataDir: join(dir, 'a') });
    const { large, smalls } = await populate(source);
    const before = await snapshot(source);
    const target = await openStorage({ backend: 'level', dataDir: join(dir, 'b') });
    const progress: string[] = [];
    const report = await migrateStorage(source, target, {
      batchEntries: 10,
      onProgress: (p) => progress.push(`${p.phase}${p.done ? ' done' : ''}`),
    });
    assert.deepEqual(report.verification.problems, []);
    assert.equal(report.verification.ok, true);
    assert.equal(report.records.count, report.verification.records.source.count);
    assert.ok(report.records.count > 30);
    // 6 distinct small messages + the large one + the event
    assert.equal(report.blobs.count, 8);
    assert.equal(report.verification.blobs.target.count, 8);
    assert.ok(progress.includes('records done') && progress.includes('blobs done'));
    assert.ok(progress.filter((p) => p === 'records').length >= 3, 'several batches');
    await source.close();
    await target.close();

    const copy = await openStorage({ backend: 'level', dataDir: join(dir, 'b') });
    try {
      assert.deepEqual(await snapshot(copy), before);
      assert.equal(await countRange(copy.store), 7, 'small blobs inline again');
      const f = await makeMail({ storage: copy });
      await f.directory.authenticate({ login: 'alice', password: 'correct horse' });
      const inbox = (await f.mail.findMailbox(f.alice, f.aliceId, 'INBOX')) as MailboxRecord;
      assert.deepEqual(
        Buffer.from(await f.mail.readMessage(f.alice, f.aliceId, inbox.id, 7)),
        Buffer.from(large),
      );
      assert.deepEqual(
        Buffer.from(await f.mail.readMessage(f.alice, f.aliceId, inbox.id, 1)),
        Buffer.from(smalls[0] as Uint8Array),
      );
      const status = await f.mail.status(f.alice, f.aliceId, inbox.id);
      const next = await f.mail.deliver(f.aliceId, message({ subject: 'after migration' }));
      assert.equal(next.uid, status.uidNext);
      assert.ok(next.modseq > status.highestModseq);
    } finally {
      await copy.close();
    }
  });

  it('refuses a target that holds a record or a blob, and writes nothing', async () => {
    const source = memoryStorage();
    await populate(source);
    const withRecord = memoryStorage();
    const key = pack(Subspace.meta, 'existing');
    await withRecord.store.commit({ ops: [{ type: 'put', key, value: Uint8Array.of(1) }] });
    await assert.rejects(migrateStorage(source, withRecord), (err: unknown) =>
      isCommuneError(err, 'conflict'),
    );
    assert.equal(await countRange(withRecord.store, {}), 1);
    assert.deepEqual(await listed(withRecord), []);

    const withBlob = memoryStorage();
    await withBlob.blobs.put('already here');
    await assert.rejects(migrateStorage(source, withBlob), /blob store is not empty/);
    assert.equal(await countRange(withBlob.store, {}), 0);
  });

  it('commits records in bounded batches and copies counters and the change log as they are', async () => {
    const source = memoryStorage();
    await populate(source);
    const commits: number[] = [];
    const inner = new MemoryStore();
    const counting: Store = {
      name: 'counting',
      get: (k) => inner.get(k),
      getMany: (k) => inner.getMany(k),
      scan: (r) => inner.scan(r),
      commit: (batch: Batch): Promise<CommitResult> => {
        commits.push(batch.ops.length);
        assert.ok(batch.ops.every((op) => op.type === 'put'));
        assert.equal(batch.changes, undefined, 'no new change ids are made');
        return inner.commit(batch);
      },
      close: () => inner.close(),
    };
    const copied = await copyRecords(source.store, counting, { batchEntries: 7 });
    assert.ok(commits.every((n) => n >= 1 && n <= 7));
    assert.equal(
      commits.reduce((a, b) => a + b, 0),
      copied.count,
    );
    assert.equal(
      (await summarizeRecords(inner)).sha256,
      (await summarizeRecords(source.store)).sha256,
    );
    const f = await makeMail({ storage: source });
    assert.equal(
      await currentChangeId(inner, f.aliceId),
      await currentChangeId(source.store, f.aliceId),
    );

    commits.length = 0;
    const bytes = await copyRecords(source.store, new MemoryStore(), { batchBytes: 1 });
    assert.equal(bytes.count, copied.count, 'a byte budget smaller than a record still copies');
  });

  it('detects a tampered, missing or extra record in the target', async () => {
    const source = memoryStorage();
    await populate(source);
    const target = memoryStorage();
    assert.equal((await migrateStorage(source, target)).verification.ok, true);

    // one value changed in the mail subspace: same counts, different checksum
    let victim: [Uint8Array, Uint8Array] | undefined;
    for await (const [k, v] of target.store.scan({
      gte: pack(Subspace.mail),
      lt: pack(Subspace.mail + 1),
    })) {
      victim = [k, v];
      break;
    }
    assert.ok(victim);
    const [key, value] = victim;
    const tampered = Uint8Array.from(value);
    tampered[tampered.length - 1] = (tampered[tampered.length - 1] as number) ^ 1;
    await target.store.commit({ ops: [{ type: 'put', key, value: tampered }] });
    let v = await verifyMigration(source, target);
    assert.equal(v.ok, false);
    assert.deepEqual(v.problems, [
      `records mail: same count (${v.records.source.subspaces.find((s) => s.name === 'mail')?.count}), different checksum`,
    ]);

    await target.store.commit({ ops: [{ type: 'del', key }] });
    v = await verifyMigration(source, target);
    assert.match(v.problems.join('\n'), /records mail: \d+ in the source, \d+ in the target/);

    await target.store.commit({ ops: [{ type: 'put', key, value }] });
    assert.equal((await verifyMigration(source, target)).ok, true, 'restored');
    await target.store.commit({
      ops: [{ type: 'put', key: pack(Subspace.social, 'extra'), value: Uint8Array.of(0) }],
    });
    v = await verifyMigration(source, target);
    assert.deepEqual(v.problems, ['records social: 0 in the source, 1 in the target']);
  });

  it('detects a corrupted or missing blob in the target, and a corrupt one in the source', async () => {
    const source = await openStorage({ backend: 'level', dataDir: join(dir, 'a') });
    const { large } = await populate(source);
    const target = await openStorage({ backend: 'level', dataDir: join(dir, 'b') });
    try {
      assert.equal((await migrateStorage(source, target)).verification.ok, true);
      const hash = sha256(large);
      const file = join(dir, 'b', 'blobs', hash.slice(0, 2), hash.slice(2, 4), hash);
      const damaged = Buffer.from(large);
      damaged[5000] = (damaged[5000] as number) ^ 1;
      await writeFile(file, damaged);
      let v = await verifyMigration(source, target);
      assert.equal(v.ok, false);
      assert.deepEqual(v.problems, [
        `blob ${hash} in the target: content missing or not matching its hash`,
      ]);
      await unlink(file);
      v = await verifyMigration(source, target);
      assert.deepEqual(v.problems, ['blobs: 8 in the source, 7 in the target']);
    } finally {
      await target.close();
    }

    // the source's large blob file is damaged: the copy reports it, the check fails
    const hash = sha256(large);
    await writeFile(
      join(dir, 'a', 'blobs', hash.slice(0, 2), hash.slice(2, 4), hash),
      Buffer.from(large).subarray(1),
    );
    const other = await openStorage({ backend: 'level', dataDir: join(dir, 'c') });
    try {
      const report = await migrateStorage(source, other);
      assert.equal(report.verification.ok, false);
      assert.equal(
        report.verification.problems[0],
        `blob ${hash} in the source: its content hashes to ${sha256(Buffer.from(large).subarray(1))}`,
      );
    } finally {
      await other.close();
      await source.close();
    }
  });

  describe('level <-> postgres (PG_URL)', () => {
    requirePostgres();

    it('round-trips level -> postgres -> level with every UID, MODSEQ and byte kept', async () => {
      const { schema, drop } = freshSchema();
      const pgOptions = {
        backend: 'postgres' as const,
        dataDir: dir,
        url: PG_URL,
        schema,
        channel: `commune_test_${schema}`,
      };
      try {
        const level = await openStorage({ backend: 'level', dataDir: join(dir, 'a') });
        const { large } = await populate(level);
        const before = await snapshot(level);
        const levelRecords = await summarizeRecords(level.store);
        assert.ok((await countRange(level.store)) > 0, 'the source keeps small blobs inline');

        const pg = await openStorage(pgOptions);
        const there = await migrateStorage(level, pg, { batchEntries: 16 });
        assert.deepEqual(there.verification.problems, []);
        await level.close();
        await pg.close();

        const pgAgain = await openStorage(pgOptions);
        assert.deepEqual(await snapshot(pgAgain), before);
        assert.equal(await countRange(pgAgain.store), 0, 'no inline blob keys in postgres');
        const rows = await pgQuery<{ n: string }>(`SELECT count(*) AS n FROM "${schema}".blobs`);
        assert.equal(Number(rows[0]?.n), 8, 'every blob in the postgres blob store');
        assert.equal((await summarizeRecords(pgAgain.store)).sha256, levelRecords.sha256);

        const back = await openStorage({ backend: 'level', dataDir: join(dir, 'b') });
        const report = await migrateStorage(pgAgain, back);
        assert.deepEqual(report.verification.problems, []);
        assert.equal(report.blobs.count, 8);
        await pgAgain.close();
        await back.close();

        const home = await openStorage({ backend: 'level', dataDir: join(dir, 'b') });
        try {
          assert.deepEqual(await snapshot(home), before);
          assert.equal((await summarizeRecords(home.store)).sha256, levelRecords.sha256);
          assert.equal(await countRange(home.store), 7, 'small blobs inline again');
          const files = await readdir(join(dir, 'b', 'blobs'), { recursive: true });
          assert.ok(
            files.some((name) => name.endsWith(sha256(large))),
            'large blob in a file',
          );
          const f = await makeMail({ storage: home });
          const inbox = (await f.mail.findMailbox(f.alice, f.aliceId, 'INBOX')) as MailboxRecord;
          assert.deepEqual(
            Buffer.from(await f.mail.readMessage(f.alice, f.aliceId, inbox.id, 7)),
            Buffer.from(large),
          );
        } finally {
          await home.close();
        }
      } finally {
        await drop();
      }
    });

    it('refuses a postgres target that already holds data', async () => {
      const { schema, drop } = freshSchema();
      const pgOptions = { backend: 'postgres' as const, dataDir: dir, url: PG_URL, schema };
      try {
        const source = memoryStorage();
        await populate(source);
        const pg = await openStorage(pgOptions);
        try {
          assert.equal((await migrateStorage(source, pg)).verification.ok, true);
          const count = (await summarizeRecords(pg.store)).count;
          await assert.rejects(migrateStorage(source, pg), /target store is not empty/);
          assert.equal((await summarizeRecords(pg.store)).count, count);
        } finally {
          await pg.close();
        }
      } finally {
        await drop();
      }
    });
  });
});
