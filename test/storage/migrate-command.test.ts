import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LevelStore } from '../../src/storage/backends/level-store.ts';
import { runtimeFilePath } from '../../src/main.ts';
import { describeStorage, sameStorage, targetOptions } from '../../src/storage/migrate-target.ts';
import { PG_URL, freshSchema, pgQuery, requirePostgres } from './pg-test-db.ts';

const BIN = fileURLToPath(new URL('../../bin/commune.ts', import.meta.url));

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(args: string[], dataDir: string): Promise<Result> {
  return new Promise((done, fail) => {
    const env = { ...process.env, COMMUNE_DATA_DIR: dataDir };
    const child = spawn(process.execPath, [BIN, ...args], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

describe('migrate targets', () => {
  it('parses level:DIR and postgres connection strings with their flags', () => {
    assert.deepEqual(targetOptions('level:/srv/commune'), {
      backend: 'level',
      dataDir: '/srv/commune',
    });
    assert.deepEqual(targetOptions('postgres://u:pw@db/commune', { schema: 'mail2' }), {
      backend: 'postgres',
      url: 'postgres://u:pw@db/commune',
      blobs: 'postgres',
      dataDir: resolve('.'),
      schema: 'mail2',
    });
    assert.deepEqual(
      targetOptions('postgresql://db/c', { blobs: 'fs', blobDir: '/shared/blobs' }),
      {
        backend: 'postgres',
        url: 'postgresql://db/c',
        blobs: 'fs',
        dataDir: '/shared/blobs',
        blobDir: '/shared/blobs',
      },
    );
    for (const [spec, flags, message] of [
      ['mysql://db', {}, /--to must be level:DIR or a postgres/],
      ['level:', {}, /needs a directory/],
      ['level:/x', { schema: 's' }, /--to-schema applies to a postgres target only/],
      ['postgres://db/c', { blobs: 's3' }, /--to-blobs must be postgres or fs/],
      ['postgres://db/c', { blobs: 'fs' }, /needs --to-blob-dir/],
      ['postgres://db/c', { blobDir: '/b' }, /--to-blob-dir needs --to-blobs fs/],
      ['postgres://db/c', { schema: 'x"; DROP' }, /plain SQL identifier/],
    ] as const) {
      assert.throws(() => targetOptions(spec, flags), { code: 'invalid-argument', message });
    }
  });

  it('describes a target without its password, and knows when it is the source', () => {
    const pg = targetOptions('postgres://commune:s3cret@db.example/commune');
    assert.equal(
      describeStorage(pg),
      'postgres postgres://commune:***@db.example/commune (schema public, blobs in postgres)',
    );
    assert.equal(sameStorage(pg, { ...pg, schema: 'public' }), true);
    assert.equal(sameStorage(pg, { ...pg, schema: 'other' }), false);
    assert.equal(sameStorage(targetOptions('level:/a/b'), targetOptions('level:/a/./b')), true);
    assert.equal(sameStorage(targetOptions('level:/a'), pg), false);
  });
});

describe('commune migrate', function () {
  this.timeout(60_000);
  // One source data dir for every test (each CLI start costs a second or more); tests only
  // read it, and each writes its targets to a fresh directory.
  let base: string;
  let data: string;
  let dir: string;
  before(async () => {
    base = await mkdtemp(join(tmpdir(), 'commune-migrate-cli-'));
    data = join(base, 'data');
    const add = await run(['user', 'add', 'alice@example.test', '--password', 'pw'], data);
    assert.equal(add.code, 0, add.stderr);
  });
  after(async () => {
    await rm(base, { recursive: true, force: true });
  });
  beforeEach(async () => {
    dir = await mkdtemp(join(base, 'targets-'));
  });

  it('copies the data dir into a new level store, verifies, and refuses to do it twice', async () => {
    const target = join(dir, 'copy');
    const r = await run(['migrate', '--to', `level:${target}`], data);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`target: level store in ${target}`));
    assert.match(r.stdout, /^ {2}directory +\d+ +\d+ +[0-9a-f]{16} +match$/m);
    assert.match(r.stdout, /^verified: counts and checksums match$/m);
    const list = await run(['user', 'list', '--data-dir', target], data);
    assert.match(list.stdout, /alice@example\.test/);

    const again = await run(['migrate', '--to', `level:${target}`], data);
    assert.equal(again.code, 1);
    assert.match(
      again.stderr,
      /refusing to migrate into level store in .*copy: the target store is not empty; name a new directory/,
    );
    const verify = await run(
      ['migrate', '--to', `level:${target}`, '--verify-only', '--json'],
      data,
    );
    assert.equal(verify.code, 0, verify.stderr);
    const report = JSON.parse(verify.stdout) as { verification: { ok: boolean } };
    assert.equal(report.verification.ok, true);
  });

  it('refuses while the store is open elsewhere or a server runs on the data dir', async () => {
    const held = await LevelStore.open(join(data, 'store'));
    try {
      const r = await run(['migrate', '--to', `level:${join(dir, 'copy')}`], data);
      assert.equal(r.code, 1);
      assert.match(
        r.stderr,
        /the source \(level store in .*\) is in use by another process: stop the server/,
      );
    } finally {
      await held.close();
    }
    await mkdir(join(data, 'run'), { recursive: true });
    await writeFile(
      runtimeFilePath(data),
      JSON.stringify({ pid: process.pid, adminUrl: 'http://127.0.0.1:1/', token: 'x' }),
    );
    try {
      const r = await run(['migrate', '--to', `level:${join(dir, 'copy')}`], data);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /a server \(pid \d+\) is running on .*: stop it before migrating/);
    } finally {
      await rm(runtimeFilePath(data));
    }
  });

  it('explains a missing --to, a data dir without a store, and migrating onto itself', async () => {
    let r = await run(['migrate'], data);
    assert.match(r.stderr, /migrate needs --to level:DIR or --to postgres:/);
    r = await run(['migrate', '--to', `level:${join(dir, 'copy')}`], join(dir, 'nothing'));
    assert.match(r.stderr, /no store in .*nothing \(see --data-dir\)/);
    r = await run(['migrate', '--to', `level:${data}`], data);
    assert.match(r.stderr, /the target is the configured store itself/);
    assert.equal(r.code, 1);
  });

  describe('to postgres (PG_URL)', () => {
    requirePostgres();

    it('migrates into a schema, re-verifies, and fails the check after tampering', async () => {
      const { schema, drop } = freshSchema();
      try {
        const to = ['migrate', '--to', PG_URL, '--to-schema', schema];
        const r = await run(to, data);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /schema commune_test_[0-9a-f]+, blobs in postgres/);
        assert.match(r.stdout, /^verified: counts and checksums match$/m);

        let v = await run([...to, '--verify-only'], data);
        assert.equal(v.code, 0, v.stderr);
        const table = `"${schema}"."kv_${(0x44).toString(16)}"`;
        await pgQuery(
          `UPDATE ${table} SET v = v || '\\x00'::bytea WHERE k = (SELECT k FROM ${table} ORDER BY k LIMIT 1)`,
        );
        v = await run([...to, '--verify-only'], data);
        assert.equal(v.code, 1);
        assert.match(v.stdout, /^ {2}directory .*DIFFERENT$/m);
        assert.match(
          v.stdout,
          /verification FAILED:\n {2}records directory: same count \(\d+\), different checksum/,
        );
      } finally {
        await drop();
      }
    });
  });
});
