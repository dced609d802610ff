import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RuntimeInfo } from '../src/main.ts';
import { LISTENER_SECTIONS, envName } from '../src/core/config.ts';

const BIN = fileURLToPath(new URL('../bin/commune.ts', import.meta.url));

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function baseEnv(dataDir: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, COMMUNE_DATA_DIR: dataDir, ...extra };
  for (const s of LISTENER_SECTIONS) env[envName(`${s}.port`)] ??= '0';
  return env;
}

function run(args: string[], env: NodeJS.ProcessEnv, input?: string): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}

async function waitFor(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('commune CLI', function () {
  this.timeout(60_000);
  let dir: string;
  let serverProcess: ChildProcess | undefined;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'commune-cli-'));
  });
  afterEach(async () => {
    if (serverProcess && serverProcess.exitCode === null) {
      serverProcess.kill('SIGKILL');
      await new Promise((r) => serverProcess?.once('close', r));
    }
    serverProcess = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints help and version', async () => {
    const help = await run(['--help'], baseEnv(dir));
    assert.equal(help.code, 0);
    assert.match(help.stdout, /commune serve/);
    assert.match(help.stdout, /user add ADDRESS/);
    const version = await run(['--version'], baseEnv(dir));
    assert.match(version.stdout.trim(), /^\d+\.\d+\.\d+$/);
  });

  it('manages users, aliases and groups on the store when no server runs', async () => {
    const env = baseEnv(dir);
    let r = await run(
      ['user', 'add', 'alice@example.test', '--password', 'pw', '--name', 'Alice Martin'],
      env,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /user alice@example\.test ok/);
    r = await run(['user', 'add', 'bob@example.org'], env);
    assert.equal(r.code, 0, r.stderr);
    const generated = /password: (\S+)/.exec(r.stdout)?.[1];
    assert.ok(generated && generated.length >= 16, 'a generated password is printed');
    r = await run(['user', 'passwd', 'alice', '--password-stdin'], env, 'new secret\n');
    assert.equal(r.code, 0, r.stderr);
    r = await run(['alias', 'add', 'alice@example.test', 'sales@example.test'], env);
    assert.equal(r.code, 0, r.stderr);
    r = await run(['group', 'add', 'team@example.test', '--name', 'Team'], env);
    assert.equal(r.code, 0, r.stderr);
    r = await run(['group', 'member', 'team@example.test', 'alice@example.test'], env);
    assert.equal(r.code, 0, r.stderr);
    r = await run(['group', 'members', 'team@example.test', '--json'], env);
    assert.deepEqual(
      (JSON.parse(r.stdout) as { members: { address: string }[] }).members.map((m) => m.address),
      ['alice@example.test'],
    );
    r = await run(['user', 'list', '--json'], env);
    const users = (JSON.parse(r.stdout) as { users: { address: string; aliases: string[] }[] })
      .users;
    assert.deepEqual(users.map((u) => u.address).sort(), ['alice@example.test', 'bob@example.org']);
    assert.deepEqual(users.find((u) => u.address === 'alice@example.test')?.aliases, [
      'sales@example.test',
    ]);
    r = await run(
      ['user', 'set', 'alice', '--title', 'Engineer', '--phone', '+33 1 23', '--quota', '1000'],
      env,
    );
    assert.equal(r.code, 0, r.stderr);
    r = await run(['user', 'set', 'alice'], env);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /nothing to change/);
    r = await run(['user', 'list', '--json'], env);
    const alice = (
      JSON.parse(r.stdout) as {
        users: { address: string; quota: number; profile: Record<string, string> }[];
      }
    ).users.find((u) => u.address === 'alice@example.test');
    assert.deepEqual(alice?.profile, { title: 'Engineer', phone: '+33 1 23' });
    assert.equal(alice?.quota, 1000);
    r = await run(['domain', 'list'], env);
    assert.match(r.stdout, /example\.org/);
    r = await run(['user', 'add', 'alice@example.test', '--password', 'x'], env);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^commune: .*alice@example\.test.*\n$/);
    r = await run(['user', 'frobnicate'], env);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /unknown command/);
  });

  it('serves, takes admin commands while running, and stops on SIGTERM', async () => {
    const env = baseEnv(dir);
    const child = spawn(process.execPath, [BIN, 'serve'], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    serverProcess = child;
    let out = '';
    child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
    const runtime = join(dir, 'run', 'server.json');
    await waitFor(() => existsSync(runtime) || child.exitCode !== null, 20_000, 'server start');
    assert.equal(child.exitCode, null, out);
    const info = JSON.parse(readFileSync(runtime, 'utf8')) as RuntimeInfo;

    // One log line per listening port, as JSON
    await waitFor(() => out.includes('commune started'), 5000, 'start log');
    const listening = out
      .split('\n')
      .filter((l) => l.includes('"listening: '))
      .map((l) => JSON.parse(l) as { protocol: string; port: number });
    assert.deepEqual(listening.map((l) => l.protocol).sort(), [
      'http',
      'https',
      'imap',
      'imaps',
      'ldap',
      'ldaps',
      'smtp',
      'submission',
      'submissions',
    ]);

    const health = await fetch(info.adminUrl.replace('/admin/api/', '/health'));
    assert.equal(health.status, 200);

    // The store is held by the server: this must go through the admin API
    const r = await run(['user', 'add', 'alice@example.test', '--password', 'x'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(out, /"path":"\/admin\/api\/user\.add"/);

    child.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve) =>
      child.once('close', (c) => resolve(c)),
    );
    assert.equal(code, 0);
    assert.match(out, /stopped/);
    assert.ok(!existsSync(runtime));

    // And the user is in the store afterwards
    const list = await run(['user', 'list', '--json'], env);
    assert.match(list.stdout, /alice@example\.test/);
  });

  it('fails start-up with one line naming a bad setting', async () => {
    const r = await run(['serve'], baseEnv(dir, { COMMUNE_IMAP_PORT: 'abc' }));
    assert.equal(r.code, 1);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.match(r.stderr, /imap\.port.*COMMUNE_IMAP_PORT/);
    const flag = await run(['serve', '--http-port=-5'], baseEnv(dir));
    assert.equal(flag.code, 1);
    assert.match(flag.stderr, /http\.port.*--http-port/);
  });

  it('fails start-up with one line when a port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const taken = (blocker.address() as { port: number }).port;
    try {
      const r = await run(['serve'], baseEnv(dir, { COMMUNE_HTTP_PORT: String(taken) }));
      assert.equal(r.code, 1);
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0] as string, /already in use/);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    } finally {
      blocker.close();
    }
  });
});
