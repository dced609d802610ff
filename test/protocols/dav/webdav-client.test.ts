import assert from 'node:assert/strict';
import { createClient, type FileStat, type WebDAVClient } from 'webdav';
import { startDavFixture, type DavFixture } from './dav-fixture.ts';

describe('DAV service with the webdav npm client', function () {
  this.timeout(30_000);
  let f: DavFixture;
  let client: WebDAVClient;
  before(async () => {
    f = await startDavFixture();
    client = createClient(`${f.base}/dav/files/${f.alice.address}`, {
      username: f.alice.address,
      password: f.alice.password,
    });
  });
  after(async () => {
    await f.close();
  });

  it('reports DAV compliance', async () => {
    const c = await client.getDAVCompliance('/');
    assert.ok(c.compliance.includes('1') && c.compliance.includes('2'));
  });

  it('creates directories, uploads, lists, stats and downloads', async () => {
    await client.createDirectory('/docs');
    await client.createDirectory('/docs/deep/er', { recursive: true });
    assert.equal(
      await client.putFileContents('/docs/note.txt', 'Bonjour été ✓', { contentLength: false }),
      true,
    );
    const list = (await client.getDirectoryContents('/docs')) as FileStat[];
    assert.deepEqual(list.map((e) => [e.basename, e.type]).sort(), [
      ['deep', 'directory'],
      ['note.txt', 'file'],
    ]);
    const stat = (await client.stat('/docs/note.txt')) as FileStat;
    assert.equal(stat.size, Buffer.byteLength('Bonjour été ✓'));
    assert.match(stat.etag ?? '', /.+/);
    assert.equal(
      await client.getFileContents('/docs/note.txt', { format: 'text' }),
      'Bonjour été ✓',
    );
    assert.equal(await client.exists('/docs/nothing'), false);
  });

  it('copies, moves and deletes', async () => {
    await client.copyFile('/docs/note.txt', '/docs/copy.txt');
    await client.moveFile('/docs/copy.txt', '/docs/deep/moved.txt');
    assert.equal(await client.exists('/docs/copy.txt'), false);
    assert.equal(
      await client.getFileContents('/docs/deep/moved.txt', { format: 'text' }),
      'Bonjour été ✓',
    );
    await client.deleteFile('/docs/deep');
    assert.equal(await client.exists('/docs/deep/moved.txt'), false);
  });

  it('locks and unlocks', async () => {
    const lock = await client.lock('/docs/note.txt');
    assert.match(lock.token, /^urn:uuid:/);
    await assert.rejects(
      client.putFileContents('/docs/note.txt', 'changed'),
      (err: { status?: number }) => err.status === 423,
    );
    await client.unlock('/docs/note.txt', lock.token);
    assert.equal(await client.putFileContents('/docs/note.txt', 'changed'), true);
  });

  it('reads the quota (asking for it: RFC 4331 properties are not part of allprop)', async () => {
    const data =
      '<D:propfind xmlns:D="DAV:"><D:prop><D:quota-available-bytes/><D:quota-used-bytes/></D:prop></D:propfind>';
    const quota = (await client.getQuota({ data })) as {
      used: number;
      available: number | string;
    } | null;
    assert.ok(quota);
    assert.equal(quota.used, Buffer.byteLength('changed'));
  });

  it('reads byte ranges', async () => {
    await client.putFileContents('/range.txt', 'abcdefghij');
    const part = await client.customRequest('/range.txt', {
      method: 'GET',
      headers: { range: 'bytes=3-5' },
    });
    assert.equal(part.status, 206);
    assert.equal(await part.text(), 'def');
  });
});
