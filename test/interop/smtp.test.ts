/**
 * Interoperability of the SMTP servers with real third-party clients from Debian packages:
 * swaks (submission with STARTTLS + AUTH, MX delivery, relay refusal) and Postfix's
 * smtp-source (1,000 messages over 10 parallel connections, none lost: counted in the INBOX
 * through the MailService). Skipped (with the reason) only when the programs are missing.
 */

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { PASSWORD, startSmtp } from '../protocols/smtp/smtp-fixture.ts';
import type { SmtpFixture } from '../protocols/smtp/smtp-fixture.ts';

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function installed(command: string): boolean {
  const r = spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
  return r.status === 0;
}

function run(command: string, args: readonly string[], timeoutMs = 60_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: { ...process.env, LC_ALL: 'C' } });
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

describe('interop: SMTP clients', function () {
  this.timeout(120_000);
  let fx: SmtpFixture;

  before(async function () {
    if (!installed('swaks') && !installed('smtp-source')) {
      this.skip(); // apt-get install swaks postfix
    }
    // smtp-source's 1,000 messages come from one address: no rate limits here
    fx = await startSmtp({ settings: { verifyInbound: true } });
  });
  after(() => fx?.stop());

  describe('swaks', () => {
    before(function () {
      if (!installed('swaks')) this.skip(); // apt-get install swaks
    });

    it('submits with STARTTLS and AUTH PLAIN', async () => {
      const r = await run('swaks', [
        '--server',
        '127.0.0.1',
        '--port',
        String(fx.submissionPort),
        '--tls',
        '--auth',
        'PLAIN',
        '--auth-user',
        'alice@example.test',
        '--auth-password',
        PASSWORD,
        '--from',
        'alice@example.test',
        '--to',
        'bob@example.test',
        '--header',
        'Subject: swaks submission',
        '--body',
        'sent by swaks',
      ]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, / -> STARTTLS\n<- {2}220 2\.0\.0 Ready to start TLS/);
      assert.match(r.stdout, / ~> AUTH PLAIN /, 'AUTH inside TLS');
      assert.match(r.stdout, /<~ {2}235 2\.7\.0 /);
      const inbox = await fx.messages(fx.accounts.bob);
      const got = inbox.find((m) => m.includes('Subject: swaks submission'));
      assert.ok(got, 'delivered to bob');
      assert.match(got, /with ESMTPSA id/);
    });

    it('submits with AUTH LOGIN over implicit TLS (port 465 style)', async () => {
      const r = await run('swaks', [
        '--server',
        '127.0.0.1',
        '--port',
        String(fx.submissionsPort),
        '--tlsc',
        '--auth',
        'LOGIN',
        '--auth-user',
        'alice@example.test',
        '--auth-password',
        PASSWORD,
        '--from',
        'alice@example.test',
        '--to',
        'carol@example.test',
        '--header',
        'Subject: swaks implicit',
      ]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      const inbox = await fx.messages(fx.accounts.carol);
      assert.ok(inbox.some((m) => m.includes('Subject: swaks implicit')));
    });

    it('delivers over the MX, and is refused as a relay', async () => {
      const r = await run('swaks', [
        '--server',
        '127.0.0.1',
        '--port',
        String(fx.mxPort),
        '--from',
        'someone@remote.test',
        '--to',
        'team@example.test',
        '--header',
        'Subject: swaks mx',
      ]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.ok(
        (await fx.messages(fx.accounts.alice)).some((m) => m.includes('Subject: swaks mx')),
      );
      assert.ok((await fx.messages(fx.accounts.bob)).some((m) => m.includes('Subject: swaks mx')));
      const relay = await run('swaks', [
        '--server',
        '127.0.0.1',
        '--port',
        String(fx.mxPort),
        '--from',
        'someone@remote.test',
        '--to',
        'victim@elsewhere.test',
      ]);
      assert.notEqual(relay.code, 0);
      assert.match(relay.stdout, /<\*\* 554 5\.7\.1 Relay access denied/);
    });
  });

  describe('smtp-source', () => {
    before(function () {
      if (!installed('smtp-source')) this.skip(); // apt-get install postfix
    });

    it('pushes 1,000 messages over 10 connections with none lost', async () => {
      const before = (await fx.messages(fx.accounts.dave)).length;
      const r = await run(
        'smtp-source',
        [
          '-s',
          '10',
          '-m',
          '1000',
          '-d',
          '-l',
          '2048',
          '-M',
          'client.remote.test',
          '-f',
          'load@remote.test',
          '-t',
          'dave@other.test',
          '-S',
          'load test',
          `127.0.0.1:${fx.mxPort}`,
        ],
        110_000,
      );
      assert.equal(r.code, 0, r.stdout + r.stderr);
      const inbox = await fx.messages(fx.accounts.dave);
      assert.equal(inbox.length - before, 1000);
      assert.ok(inbox.every((m) => m.includes('Subject: load test')));
    });
  });
});
