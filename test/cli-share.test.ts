import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../bin/commune.ts', import.meta.url));

function run(
  args: string[],
  dataDir: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, COMMUNE_DATA_DIR: dataDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('commune share (CLI)', function () {
  this.timeout(60_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'commune-cli-share-'));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('documents the share commands in --help', async () => {
    const help = await run(['--help'], dir);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /share add OWNER COLLECTION SHAREE \[--write\]/);
    assert.match(help.stdout, /share list OWNER/);
  });

  it('shares, lists and unshares on the store when no server runs', async () => {
    for (const who of ['alice', 'bob']) {
      const r = await run(['user', 'add', `${who}@example.test`, '--password', 'pw'], dir);
      assert.equal(r.code, 0, r.stderr);
    }
    let r = await run(
      ['share', 'add', 'alice@example.test', 'default', 'bob@example.test', '--write'],
      dir,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /shared alice@example\.test\tcalendars\/default\tbob@example\.test\tread-write/,
    );
    r = await run(
      ['share', 'add', 'alice@example.test', 'addressbooks/default', 'bob@example.test'],
      dir,
    );
    assert.equal(r.code, 0, r.stderr);
    r = await run(['share', 'list', 'alice@example.test'], dir);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), [
      'alice@example.test\tcalendars/default\tbob@example.test\tread-write',
      'alice@example.test\taddressbooks/default\tbob@example.test\tread',
    ]);
    r = await run(['share', 'remove', 'alice@example.test', 'default', 'bob@example.test'], dir);
    assert.equal(r.code, 0, r.stderr);
    r = await run(['share', 'list', 'alice@example.test', 'calendars/default', '--json'], dir);
    assert.deepEqual(JSON.parse(r.stdout), { shares: [] });
    r = await run(['share', 'add', 'alice@example.test', 'default'], dir);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /missing sharee/);
  });
});
