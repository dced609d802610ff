import assert from 'node:assert/strict';
import { FilesService } from '../../../../src/storage/files/files-service.ts';
import { assertGolden, fixture } from '../golden.ts';
import { startDavFixture, type DavFixture } from '../dav-fixture.ts';

const XML = { 'content-type': 'application/xml; charset=utf-8' };

describe('DAV access control', function () {
  this.timeout(30_000);
  let f: DavFixture;
  let aliceHome: string;
  let files: FilesService;
  before(async () => {
    f = await startDavFixture();
    aliceHome = `/dav/files/${f.alice.address}/`;
    files = new FilesService({ storage: f.core.storage, quotaOf: async () => 0 });
    await f.request('MKCOL', `${aliceHome}shared/`);
    await f.request('MKCOL', `${aliceHome}private/`);
    await f.request('PUT', `${aliceHome}shared/doc.txt`, { body: 'shared doc' });
    await f.request('PUT', `${aliceHome}private/secret.txt`, { body: 'secret' });
  });
  after(async () => {
    await f.close();
  });

  const asBob = (
    method: string,
    path: string,
    opts: { body?: string; headers?: Record<string, string> } = {},
  ) => f.request(method, path, { ...opts, as: f.bob });

  it('keeps a user out of another user tree, whether a path exists or not', async () => {
    for (const path of [
      aliceHome,
      `${aliceHome}private/secret.txt`,
      `${aliceHome}does-not-exist`,
    ]) {
      const res = await asBob('GET', path);
      assert.equal(res.status, 403, path);
      assert.match(await res.text(), /need-privileges/);
    }
    assert.equal((await asBob('PUT', `${aliceHome}planted.txt`, { body: 'x' })).status, 403);
    assert.equal((await asBob('PROPFIND', aliceHome, { headers: { depth: '1' } })).status, 403);
    assert.equal((await asBob('DELETE', `${aliceHome}shared/doc.txt`)).status, 403);
    assert.equal(
      (
        await asBob('COPY', `/dav/files/${f.bob.address}/`, {
          headers: { destination: `${f.base}${aliceHome}stolen/` },
        })
      ).status,
      403,
    );
  });

  it('lets a grantee read (not write) a shared collection and nothing else', async () => {
    await files.setGrants(f.alice.id, '/shared/', [{ principal: f.bob.id, rights: ['read'] }]);
    assert.equal(await (await asBob('GET', `${aliceHome}shared/doc.txt`)).text(), 'shared doc');
    assert.equal(
      (await asBob('PROPFIND', `${aliceHome}shared/`, { headers: { depth: '1' } })).status,
      207,
    );
    assert.equal(
      (await asBob('PUT', `${aliceHome}shared/doc.txt`, { body: 'defaced' })).status,
      403,
    );
    assert.equal((await asBob('PUT', `${aliceHome}shared/new.txt`, { body: 'x' })).status, 403);
    assert.equal((await asBob('GET', `${aliceHome}private/secret.txt`)).status, 403);
    const privileges = await asBob('PROPFIND', `${aliceHome}shared/doc.txt`, {
      body: fixture('acl.request.xml'),
      headers: { depth: '0', ...XML },
    });
    assertGolden('acl-grantee', await privileges.text());
  });

  it('grants writing through a group and shows the ACL to the owner (golden)', async () => {
    const group = await f.core.directory.createPrincipal({
      address: 'editors@example.test',
      kind: 'group',
    });
    await f.core.directory.addMember(group.id, f.bob.id);
    await files.setGrants(f.alice.id, '/shared/', [
      { principal: group.id, rights: ['read', 'write', 'delete'] },
    ]);
    assert.equal(
      (await asBob('PUT', `${aliceHome}shared/new.txt`, { body: 'by bob' })).status,
      201,
    );
    assert.equal((await asBob('DELETE', `${aliceHome}shared/new.txt`)).status, 204);
    const acl = await f.request('PROPFIND', `${aliceHome}shared/doc.txt`, {
      body: fixture('acl.request.xml'),
      headers: { depth: '0', ...XML },
    });
    assertGolden('acl-owner', await acl.text());
  });
});
