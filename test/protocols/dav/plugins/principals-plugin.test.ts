import assert from 'node:assert/strict';
import { assertGolden, fixture } from '../golden.ts';
import { startDavFixture, type DavFixture } from '../dav-fixture.ts';

const XML = { 'content-type': 'application/xml; charset=utf-8' };

describe('DAV principals and discovery', function () {
  this.timeout(30_000);
  let f: DavFixture;
  before(async () => {
    f = await startDavFixture();
    const team = await f.core.directory.createPrincipal({
      address: 'team@example.test',
      kind: 'group',
      displayName: 'Team',
    });
    await f.core.directory.addMember(team.id, f.alice.id);
    await f.core.directory.createPrincipal({
      address: 'carol@other.test',
      password: 'carol-secret-pw',
      createDomain: true,
    });
  });
  after(async () => {
    await f.close();
  });

  it('redirects the well-known URLs to the DAV root (RFC 6764)', async () => {
    for (const path of ['/.well-known/caldav', '/.well-known/carddav']) {
      const res = await fetch(`${f.base}${path}`, { method: 'PROPFIND', redirect: 'manual' });
      assert.equal(res.status, 307, 'PROPFIND keeps its method and body');
      assert.equal(res.headers.get('location'), '/dav/');
      const get = await fetch(`${f.base}${path}`, { redirect: 'manual' });
      assert.equal(get.status, 301);
      assert.equal(get.headers.get('location'), '/dav/');
    }
  });

  it('tells the current user principal on the DAV root (golden)', async () => {
    const res = await f.request('PROPFIND', '/dav/', {
      body: fixture('propfind-root.request.xml'),
      headers: { depth: '0', ...XML },
    });
    assert.equal(res.status, 207);
    assertGolden('propfind-root', await res.text());
    const listing = await (
      await f.request('PROPFIND', '/dav/', { headers: { depth: '1' } })
    ).text();
    assert.ok(listing.includes('<d:href>/dav/principals/</d:href>'));
    assert.ok(listing.includes('<d:href>/dav/files/</d:href>'));
    const files = await (
      await f.request('PROPFIND', '/dav/files/', { headers: { depth: '1' } })
    ).text();
    assert.ok(files.includes(`<d:href>/dav/files/${f.alice.address}/</d:href>`));
    assert.ok(!files.includes(f.bob.address));
  });

  it('serves principal properties (golden)', async () => {
    const res = await f.request('PROPFIND', `/dav/principals/${f.alice.address}/`, {
      body: fixture('propfind-principal.request.xml'),
      headers: { depth: '0', ...XML },
    });
    assertGolden('propfind-principal', await res.text());
  });

  it('shows principals of the same domain only', async () => {
    assert.equal(
      (
        await f.request('PROPFIND', `/dav/principals/${f.bob.address}/`, {
          headers: { depth: '0' },
        })
      ).status,
      207,
    );
    assert.equal(
      (
        await f.request('PROPFIND', '/dav/principals/carol@other.test/', {
          headers: { depth: '0' },
        })
      ).status,
      404,
    );
    assert.equal(
      (
        await f.request('PROPFIND', '/dav/principals/nobody@example.test/', {
          headers: { depth: '0' },
        })
      ).status,
      404,
    );
  });

  it('searches principals (principal-property-search, golden)', async () => {
    const res = await f.request('REPORT', '/dav/principals/', {
      body: fixture('principal-property-search.request.xml'),
      headers: { depth: '0', ...XML },
    });
    assert.equal(res.status, 207);
    assertGolden('principal-property-search', await res.text());
  });

  it('lists searchable properties (principal-search-property-set, golden)', async () => {
    const res = await f.request('REPORT', '/dav/principals/', {
      body: fixture('principal-search-property-set.request.xml'),
      headers: { depth: '0', ...XML },
    });
    assert.equal(res.status, 200);
    assertGolden('principal-search-property-set', await res.text());
  });

  it('expands href properties (expand-property, golden)', async () => {
    const res = await f.request('REPORT', `/dav/files/${f.alice.address}/`, {
      body: fixture('expand-property.request.xml'),
      headers: { depth: '0', ...XML },
    });
    assert.equal(res.status, 207);
    assertGolden('expand-property', await res.text());
  });
});
