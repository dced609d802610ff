/**
 * Interoperability of the LDAP server with real third-party clients from Debian packages:
 * ldapsearch, ldapwhoami and ldapcompare (ldap-utils) over StartTLS (-ZZ) and LDAPS, and a
 * python3-ldap3 script; plus the exact search Thunderbird's address book sends for
 * autocomplete. Skipped (with the reason) only when the programs are not installed.
 */

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ALICE_DN, BASE, PASSWORDS, startLdap } from '../protocols/ldap/ldap-fixture.ts';
import type { LdapFixture } from '../protocols/ldap/ldap-fixture.ts';

const SCRIPT = fileURLToPath(new URL('./scripts/ldap3-client.py', import.meta.url));
const THUNDERBIRD_FILTER = '(|(cn=*mar*)(mail=*mar*)(sn=*mar*)(givenName=*mar*))';
const MAR = [
  'cn=room1,ou=resources,dc=example,dc=test',
  'uid=bob,ou=people,dc=example,dc=test',
  'uid=maria,ou=people,dc=example,dc=test',
  'uid=mark,ou=people,dc=example,dc=test',
];

function installed(command: string, args: readonly string[]): boolean {
  const r = spawnSync(command, args, { stdio: 'ignore' });
  return r.error === undefined;
}

/** A python3 that can import ldap3 (Debian's python3-ldap3), if any. */
function ldap3Python(): string | undefined {
  for (const python of ['python3', '/usr/bin/python3']) {
    const r = spawnSync(python, ['-c', 'import ldap3'], { stdio: 'ignore' });
    if (r.error === undefined && r.status === 0) return python;
  }
  return undefined;
}

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function run(command: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** DNs of an LDIF answer (ldapsearch -LLL), sorted. */
function dnsOf(ldif: string): string[] {
  return ldif
    .split('\n')
    .filter((l) => l.startsWith('dn: '))
    .map((l) => l.slice(4))
    .sort();
}

describe('interop: LDAP clients', function () {
  this.timeout(60_000);
  let fx: LdapFixture;
  let dir: string;
  let env: NodeJS.ProcessEnv;

  before(async function () {
    if (!['ldapsearch', 'ldapwhoami', 'ldapcompare'].every((c) => installed(c, ['-VV']))) {
      this.skip(); // ldap-utils is not installed (apt-get install ldap-utils)
    }
    fx = await startLdap();
    dir = mkdtempSync(join(tmpdir(), 'commune-ldap-interop-'));
    const ca = join(dir, 'ca.pem');
    writeFileSync(ca, fx.cert);
    // libldap reads no ldaprc from this HOME; trust our self-signed certificate only
    env = { HOME: dir, LDAPTLS_CACERT: ca, LDAPTLS_REQCERT: 'demand', LDAPCONF: '/dev/null' };
  });
  after(async () => {
    await fx?.stop();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  const plain = (): string => `ldap://127.0.0.1:${fx.ldapPort}`;
  const ldaps = (): string => `ldaps://127.0.0.1:${fx.ldapsPort}`;

  it('ldapsearch -ZZ: the Thunderbird autocomplete search returns the right entries', async () => {
    const r = await run(
      'ldapsearch',
      [
        '-x',
        '-ZZ',
        '-LLL',
        '-H',
        plain(),
        '-D',
        ALICE_DN,
        '-w',
        PASSWORDS.alice ?? '',
        '-b',
        BASE,
        THUNDERBIRD_FILTER,
        'cn',
        'mail',
        'sn',
        'givenName',
      ],
      env,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(dnsOf(r.stdout), MAR);
    const types = new Set(
      r.stdout
        .split('\n')
        .filter((l) => /^[A-Za-z]+: /.test(l))
        .map((l) => l.slice(0, l.indexOf(':'))),
    );
    assert.deepEqual([...types].sort(), ['cn', 'dn', 'givenName', 'mail', 'sn']);
    assert.match(
      r.stdout,
      /dn: uid=mark,ou=people,dc=example,dc=test\ncn: Mark Twain\nsn: Twain\ngivenName: Mark\nmail: mark@example.test/,
    );
  });

  it('ldapsearch over ldaps:// with an e-mail address as bind name, paged', async () => {
    const r = await run(
      'ldapsearch',
      [
        '-x',
        '-LLL',
        '-H',
        ldaps(),
        '-D',
        'alice@example.test',
        '-w',
        PASSWORDS.alice ?? '',
        '-E',
        'pr=2/noprompt',
        '-b',
        `ou=people,${BASE}`,
        '-s',
        'one',
        '(objectClass=inetOrgPerson)',
        'uid',
      ],
      env,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      dnsOf(r.stdout).map((d) => d.split(',')[0]),
      ['uid=alice', 'uid=bob', 'uid=maria', 'uid=mark', 'uid=victim', 'uid=zed'],
    );
  });

  it('ldapsearch: root DSE anonymously, sorted results, refused credentials', async () => {
    const root = await run(
      'ldapsearch',
      ['-x', '-LLL', '-H', plain(), '-s', 'base', '-b', '', '+'],
      env,
    );
    assert.equal(root.code, 0, root.stderr);
    assert.match(root.stdout, /namingContexts: dc=example,dc=test/);
    assert.match(root.stdout, /supportedExtension: 1\.3\.6\.1\.4\.1\.1466\.20037/);
    const sorted = await run(
      'ldapsearch',
      [
        '-x',
        '-ZZ',
        '-LLL',
        '-H',
        plain(),
        '-D',
        'alice',
        '-w',
        PASSWORDS.alice ?? '',
        '-E',
        'sss=-sn',
        '-b',
        BASE,
        '(|(uid=bob)(uid=mark)(uid=maria))',
        'sn',
      ],
      env,
    );
    assert.equal(sorted.code, 0, sorted.stderr);
    assert.deepEqual(
      sorted.stdout.split('\n').filter((l) => l.startsWith('sn: ')),
      ['sn: Twain', 'sn: Marley', 'sn: Callas'],
    );
    const wrong = await run(
      'ldapsearch',
      ['-x', '-ZZ', '-H', plain(), '-D', ALICE_DN, '-w', 'wrong', '-b', BASE, '(uid=bob)'],
      env,
    );
    assert.equal(wrong.code, 49, wrong.stderr);
    const anonymous = await run('ldapsearch', ['-x', '-H', plain(), '-b', BASE, '(uid=bob)'], env);
    assert.equal(anonymous.code, 50, anonymous.stderr);
  });

  it('ldapwhoami over StartTLS, LDAPS and anonymously', async () => {
    const tls = await run(
      'ldapwhoami',
      ['-x', '-ZZ', '-H', plain(), '-D', ALICE_DN, '-w', PASSWORDS.alice ?? ''],
      env,
    );
    assert.equal(tls.code, 0, tls.stderr);
    assert.equal(tls.stdout.trim(), `dn:${ALICE_DN}`);
    const secure = await run(
      'ldapwhoami',
      ['-x', '-H', ldaps(), '-D', 'bob', '-w', PASSWORDS.bob ?? ''],
      env,
    );
    assert.equal(secure.code, 0, secure.stderr);
    assert.equal(secure.stdout.trim(), 'dn:uid=bob,ou=people,dc=example,dc=test');
    const anonymous = await run('ldapwhoami', ['-x', '-H', plain()], env);
    assert.equal(anonymous.code, 0, anonymous.stderr);
    assert.equal(anonymous.stdout.trim(), 'anonymous');
  });

  it('ldapcompare: TRUE (6) and FALSE (5)', async () => {
    const args = ['-x', '-ZZ', '-H', plain(), '-D', ALICE_DN, '-w', PASSWORDS.alice ?? ''];
    const yes = await run(
      'ldapcompare',
      [...args, 'uid=mark,ou=people,dc=example,dc=test', 'sn:twain'],
      env,
    );
    assert.equal(yes.code, 6, yes.stderr);
    assert.equal(yes.stdout.trim(), 'TRUE');
    const no = await run(
      'ldapcompare',
      [...args, 'uid=mark,ou=people,dc=example,dc=test', 'sn:Smith'],
      env,
    );
    assert.equal(no.code, 5, no.stderr);
    assert.equal(no.stdout.trim(), 'FALSE');
  });

  it('python3-ldap3: StartTLS, bind, WhoAmI, schema, autocomplete, paging, compare', async function () {
    const python = ldap3Python();
    if (python === undefined) this.skip(); // python3-ldap3 is not installed
    const r = await run(
      python ?? 'python3',
      [
        SCRIPT,
        '127.0.0.1',
        String(fx.ldapPort),
        env.LDAPTLS_CACERT ?? '',
        ALICE_DN,
        PASSWORDS.alice ?? '',
        BASE,
      ],
      env,
    );
    assert.equal(r.code, 0, r.stderr);
    const seen = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.equal(seen.startTls, true);
    assert.equal(seen.bound, true);
    assert.equal(seen.whoami, `dn:${ALICE_DN}`);
    assert.deepEqual(seen.namingContexts, ['dc=example,dc=test', 'dc=other,dc=test']);
    assert.ok((seen.schemaTypes as number) > 20);
    assert.deepEqual(seen.autocomplete, MAR);
    assert.deepEqual(seen.people, ['alice', 'bob', 'maria', 'mark', 'victim', 'zed']);
    assert.equal(seen.compareTrue, true);
    assert.equal(seen.compareFalse, false);
    assert.equal(seen.writeRefused, true);
  });
});
