import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DEFAULT_CONFIG_PATH,
  envName,
  flagName,
  loadConfig,
  settingPaths,
} from '../../src/core/config.ts';
import { isCommuneError } from '../../src/core/errors.ts';

function configError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(isCommuneError(err, 'config'), `expected a config error, got ${String(err)}`);
    assert.ok(!err.message.includes('\n'), 'one line');
    return err.message;
  }
  assert.fail('expected a config error');
}

describe('config', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'commune-config-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('loads the documented defaults', () => {
    const c = loadConfig();
    assert.equal(c.smtp.port, 2525);
    assert.equal(c.submission.port, 5587);
    assert.equal(c.submissions.port, 4465);
    assert.equal(c.imap.port, 1143);
    assert.equal(c.imaps.port, 1993);
    assert.equal(c.http.port, 8080);
    assert.equal(c.https.port, 8443);
    assert.equal(c.ldap.port, 1389);
    assert.equal(c.ldaps.port, 1636);
    assert.equal(c.sip.port, 5060);
    assert.equal(c.server.hostname, 'localhost');
    assert.equal(c.server.primaryDomain, 'example.test');
    assert.equal(c.server.dataDir, './data');
    assert.equal(c.store.backend, 'level');
  });

  it('documents every setting in config/default.json', () => {
    const raw = JSON.parse(readFileSync(DEFAULT_CONFIG_PATH, 'utf8')) as Record<
      string,
      Record<string, unknown>
    >;
    const undocumented = settingPaths().filter((path) => {
      const [section, key] = path.split('.') as [string, string];
      // `enabled` is documented once, in the top-level "//" note
      return key !== 'enabled' && typeof raw[section]?.[`//${key}`] !== 'string';
    });
    assert.deepEqual(undocumented, []);
  });

  it('names environment variables and flags after section and key', () => {
    assert.equal(envName('imap.port'), 'COMMUNE_IMAP_PORT');
    assert.equal(envName('server.primaryDomain'), 'COMMUNE_SERVER_PRIMARY_DOMAIN');
    assert.equal(envName('store.url'), 'COMMUNE_STORE_URL');
    assert.equal(flagName('server.primaryDomain'), 'server-primary-domain');
    assert.equal(flagName('imap.port'), 'imap-port');
  });

  it('reads overrides from the environment with their types', () => {
    const c = loadConfig({
      env: {
        COMMUNE_IMAP_PORT: '1144',
        COMMUNE_SMTP_ENABLED: 'false',
        COMMUNE_STORE_BACKEND: 'memory',
        COMMUNE_STORE_URL: 'postgres://x@localhost/db',
        COMMUNE_DATA_DIR: '/var/lib/commune',
        UNRELATED: 'x',
      },
    });
    assert.equal(c.imap.port, 1144);
    assert.equal(c.smtp.enabled, false);
    assert.equal(c.store.backend, 'memory');
    assert.equal(c.store.url, 'postgres://x@localhost/db');
    assert.equal(c.server.dataDir, '/var/lib/commune');
  });

  it('applies file, then environment, then flags', () => {
    const file = join(dir, 'c.json');
    writeFileSync(
      file,
      JSON.stringify({ imap: { port: 2000 }, http: { port: 2001 }, ldap: { port: 2002 } }),
    );
    const c = loadConfig({
      file,
      env: { COMMUNE_HTTP_PORT: '3001', COMMUNE_LDAP_PORT: '3002' },
      overrides: { 'ldap.port': '4002' },
    });
    assert.equal(c.imap.port, 2000);
    assert.equal(c.http.port, 3001);
    assert.equal(c.ldap.port, 4002);
  });

  it('stops on a bad value with a one-line message naming the key and its source', () => {
    let msg = configError(() => loadConfig({ env: { COMMUNE_IMAP_PORT: 'abc' } }));
    assert.match(msg, /imap\.port/);
    assert.match(msg, /COMMUNE_IMAP_PORT/);
    msg = configError(() => loadConfig({ env: { COMMUNE_HTTP_PORT: '70000' } }));
    assert.match(msg, /http\.port/);
    msg = configError(() => loadConfig({ overrides: { 'store.backend': 'sqlite' } }));
    assert.match(msg, /store\.backend.*--store-backend/);
    msg = configError(() => loadConfig({ env: { COMMUNE_SERVER_PRIMARY_DOMAIN: 'not a domain' } }));
    assert.match(msg, /server\.primaryDomain/);
  });

  it('refuses unknown settings and broken files', () => {
    const file = join(dir, 'c.json');
    writeFileSync(file, JSON.stringify({ imap: { prot: 1 } }));
    assert.match(
      configError(() => loadConfig({ file })),
      /unknown setting imap\.prot/,
    );
    writeFileSync(file, '{ not json');
    assert.match(
      configError(() => loadConfig({ file })),
      /not valid JSON/,
    );
    assert.match(
      configError(() => loadConfig({ file: join(dir, 'missing.json') })),
      /cannot read config file/,
    );
    assert.match(
      configError(() => loadConfig({ overrides: { 'nosuch.key': 'x' } })),
      /unknown setting nosuch\.key/,
    );
  });
});
