import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LISTENER_SECTIONS, envName, loadConfig, type Config } from '../src/core/config.ts';
import { isCommuneError } from '../src/core/errors.ts';
import { silentLogger } from '../src/core/log.ts';
import { runtimeFilePath, startServer, type RunningServer, type RuntimeInfo } from '../src/main.ts';

function testConfig(dataDir: string, overrides: Record<string, string> = {}): Config {
  const env: Record<string, string> = { COMMUNE_DATA_DIR: dataDir, COMMUNE_LOG_LEVEL: 'silent' };
  for (const s of LISTENER_SECTIONS) env[envName(`${s}.port`)] = '0';
  return loadConfig({ env, overrides });
}

function httpsGet(
  port: number,
  path: string,
  ca: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      { host: '127.0.0.1', port, path, ca, servername: 'localhost' },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('server (startServer)', function () {
  this.timeout(30_000);
  let dir: string;
  let server: RunningServer | undefined;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'commune-main-'));
  });
  afterEach(async () => {
    await server?.stop();
    server = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  const port = (s: RunningServer, protocol: string): number => {
    const e = s.endpoints.find((x) => x.protocol === protocol);
    assert.ok(e, `${protocol} endpoint`);
    return e.port;
  };

  it('starts on the level store, answers /health over HTTP and HTTPS, stops cleanly', async () => {
    server = await startServer(testConfig(dir), silentLogger());
    const res = await fetch(`http://127.0.0.1:${port(server, 'http')}/health`);
    assert.equal(res.status, 200);
    const health = (await res.json()) as {
      status: string;
      version: string;
      uptime: number;
      store: { ok: boolean };
    };
    assert.equal(health.status, 'ok');
    assert.match(health.version, /^\d+\.\d+\.\d+/);
    assert.equal(health.store.ok, true);
    assert.equal(typeof health.uptime, 'number');

    const cert = readFileSync(join(dir, 'tls', 'cert.pem'), 'utf8');
    const secure = await httpsGet(port(server, 'https'), '/health', cert);
    assert.equal(secure.status, 200);
    assert.equal((JSON.parse(secure.body) as { status: string }).status, 'ok');

    const notFound = await fetch(`http://127.0.0.1:${port(server, 'http')}/nothing-here`);
    assert.equal(notFound.status, 404);

    assert.ok(existsSync(runtimeFilePath(dir)));
    await server.stop();
    server = undefined;
    assert.ok(!existsSync(runtimeFilePath(dir)), 'runtime file removed at stop');
  });

  it('creates the primary domain and keeps data across restarts', async () => {
    server = await startServer(testConfig(dir), silentLogger());
    const p = await server.core.directory.createPrincipal({
      address: 'alice@example.test',
      password: 'pw-1',
    });
    await server.stop();
    server = await startServer(testConfig(dir), silentLogger());
    const again = await server.core.directory.findByAddress('alice');
    assert.equal(again?.id, p.id);
    const ctx = await server.core.directory.authenticate({ login: 'alice', password: 'pw-1' });
    assert.equal(ctx.address, 'alice@example.test');
  });

  it('serves the admin API to loopback with the token only', async () => {
    server = await startServer(testConfig(dir), silentLogger());
    const info = JSON.parse(readFileSync(runtimeFilePath(dir), 'utf8')) as RuntimeInfo;
    assert.equal(info.pid, process.pid);
    const call = (name: string, body: unknown, token = info.token) =>
      fetch(`${info.adminUrl}${name}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });

    assert.equal((await call('user.add', { address: 'x@example.test' }, 'wrong')).status, 401);
    const noAuth = await fetch(`${info.adminUrl}domain.list`, { method: 'POST' });
    assert.equal(noAuth.status, 401);

    const added = await call('user.add', {
      address: 'bob@example.org',
      password: 'secret',
      name: 'Bob',
    });
    assert.equal(added.status, 200);
    const body = (await added.json()) as {
      result: { user: { address: string; displayName: string } };
    };
    assert.equal(body.result.user.address, 'bob@example.org');
    assert.equal(body.result.user.displayName, 'Bob');
    assert.ok(!JSON.stringify(body).includes('argon2'), 'no hash leaves the server');
    const ctx = await server.core.directory.authenticate({
      login: 'bob@example.org',
      password: 'secret',
    });
    assert.equal(ctx.displayName, 'Bob');

    const dup = await call('user.add', { address: 'bob@example.org', password: 'x' });
    assert.equal(dup.status, 409);
    const bad = await call('user.add', { address: 42 });
    assert.equal(bad.status, 400);
    const unknown = await call('no.such', {});
    assert.equal(unknown.status, 404);
    const list = (await (await call('domain.list', {})).json()) as {
      result: { domains: { name: string }[] };
    };
    assert.deepEqual(list.result.domains.map((d) => d.name).sort(), [
      'example.org',
      'example.test',
    ]);
  });

  it('mounts DAV and the well-known redirects on the HTTP listener', async () => {
    server = await startServer(testConfig(dir), silentLogger());
    await server.core.directory.createPrincipal({ address: 'carol@example.test', password: 'pw' });
    const base = `http://127.0.0.1:${port(server, 'http')}`;
    const wellKnown = await fetch(`${base}/.well-known/caldav`, { redirect: 'manual' });
    assert.equal(wellKnown.status, 301);
    const discovery = await fetch(`${base}/.well-known/carddav`, {
      method: 'PROPFIND',
      redirect: 'manual',
    });
    assert.equal(discovery.status, 307);
    assert.equal(discovery.headers.get('location'), '/dav/');
    const anonymous = await fetch(`${base}/dav/files/carol@example.test/`, {
      method: 'PROPFIND',
      headers: { depth: '0' },
    });
    assert.equal(anonymous.status, 401);
    const auth = `Basic ${Buffer.from('carol@example.test:pw').toString('base64')}`;
    const put = await fetch(`${base}/dav/files/carol@example.test/hello.txt`, {
      method: 'PUT',
      headers: { authorization: auth, 'content-type': 'text/plain' },
      body: 'hello',
    });
    assert.equal(put.status, 201);
    const list = await fetch(`${base}/dav/files/carol@example.test/`, {
      method: 'PROPFIND',
      headers: { authorization: auth, depth: '1' },
    });
    assert.equal(list.status, 207);
    assert.match(await list.text(), /hello\.txt/);
  });

  it('says in one line when a port is already in use', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const taken = (blocker.address() as { port: number }).port;
    try {
      await assert.rejects(
        startServer(testConfig(dir, { 'http.port': String(taken) }), silentLogger()),
        (err: unknown) => {
          assert.ok(isCommuneError(err));
          assert.match(err.message, new RegExp(`http port ${taken} .*already in use`));
          return true;
        },
      );
      // The store was released: a new start on the same data dir works
      server = await startServer(testConfig(dir), silentLogger());
    } finally {
      blocker.close();
    }
  });

  it('says in one line when the data directory is unusable', async () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    await assert.rejects(
      startServer(testConfig(join(file, 'data')), silentLogger()),
      (err: unknown) => {
        assert.ok(isCommuneError(err));
        assert.match(err.message, /data directory .*a-file\/data is not usable/);
        return true;
      },
    );
  });

  it('refuses a second server on the same data directory', async () => {
    server = await startServer(testConfig(dir), silentLogger());
    await assert.rejects(startServer(testConfig(dir), silentLogger()), (err: unknown) => {
      assert.ok(isCommuneError(err));
      assert.match(err.message, /in use/);
      return true;
    });
  });
});
