import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSelfSigned, loadTls } from '../../../src/protocols/shared/tls.ts';
import { isCommuneError } from '../../../src/core/errors.ts';

describe('tls', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'commune-tls-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('makes a self-signed server certificate for the host name and loopback', async () => {
    const { cert, key } = await createSelfSigned('mail.example.test');
    const x = new X509Certificate(cert);
    assert.match(x.subject, /CN=mail\.example\.test/);
    assert.match(x.subjectAltName ?? '', /DNS:mail\.example\.test/);
    assert.match(x.subjectAltName ?? '', /DNS:localhost/);
    assert.match(x.subjectAltName ?? '', /IP Address:127\.0\.0\.1/);
    assert.ok(x.checkHost('mail.example.test'));
    assert.ok(x.verify(x.publicKey), 'self-signed');
    assert.ok(new Date(x.validTo).getTime() > Date.now() + 365 * 24 * 3600_000);
    assert.match(key, /BEGIN PRIVATE KEY/);
  });

  it('generates once into the data dir and reuses it', async () => {
    const a = await loadTls({ certFile: '', keyFile: '', dataDir: dir, hostname: 'localhost' });
    assert.equal(a.selfSigned, true);
    assert.equal(
      statSync(join(dir, 'tls', 'key.pem')).mode & 0o077,
      0,
      'key not readable by others',
    );
    const b = await loadTls({ certFile: '', keyFile: '', dataDir: dir, hostname: 'localhost' });
    assert.equal(b.cert, a.cert);
  });

  it('uses configured files and reports unusable ones in one line', async () => {
    const a = await loadTls({ certFile: '', keyFile: '', dataDir: dir, hostname: 'localhost' });
    const b = await loadTls({
      certFile: join(dir, 'tls', 'cert.pem'),
      keyFile: join(dir, 'tls', 'key.pem'),
      dataDir: join(dir, 'other'),
      hostname: 'localhost',
    });
    assert.equal(b.cert, a.cert);
    assert.equal(b.selfSigned, false);
    for (const files of [
      { certFile: join(dir, 'nope.pem'), keyFile: join(dir, 'tls', 'key.pem') },
      { certFile: join(dir, 'tls', 'cert.pem'), keyFile: '' },
      { certFile: join(dir, 'tls', 'key.pem'), keyFile: join(dir, 'tls', 'key.pem') },
    ]) {
      await assert.rejects(
        loadTls({ ...files, dataDir: dir, hostname: 'localhost' }),
        (err: unknown) => isCommuneError(err, 'config') && !err.message.includes('\n'),
      );
    }
  });
});
