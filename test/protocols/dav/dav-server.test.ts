import assert from 'node:assert/strict';
import { rawRequest } from './golden.ts';
import { startDavFixture, type DavFixture } from './dav-fixture.ts';

const XML = { 'content-type': 'application/xml' };

const BILLION_LAUGHS = `<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<D:propfind xmlns:D="DAV:"><D:prop><D:displayname>&lol4;</D:displayname></D:prop></D:propfind>`;

const XXE = `<?xml version="1.0"?>
<!DOCTYPE foo [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>
<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:displayname>&xxe;</D:displayname></D:prop></D:set></D:propertyupdate>`;

describe('DAV server: bad input', function () {
  this.timeout(30_000);
  let f: DavFixture;
  let home: string;
  before(async () => {
    f = await startDavFixture();
    home = `/dav/files/${f.alice.address}/`;
    await f.request('PUT', `${home}target.txt`, { body: 'x' });
  });
  after(async () => {
    await f.close();
  });
  afterEach(async () => {
    // Whatever came before, the server still answers
    const res = await f.request('PROPFIND', home, { headers: { depth: '0' } });
    assert.equal(res.status, 207);
  });

  it('answers 400 to malformed XML', async () => {
    for (const body of [
      '<D:propfind xmlns:D="DAV:"><D:prop>',
      '<propfind',
      'not xml at all',
      '<a:b/>',
      '<D:propfind xmlns:D="DAV:"/><second/>',
    ]) {
      const res = await f.request('PROPFIND', home, { body, headers: { depth: '0', ...XML } });
      assert.equal(res.status, 400, body);
    }
    const wrongRoot = await f.request('PROPPATCH', `${home}target.txt`, {
      body: '<x xmlns="urn:x"/>',
      headers: XML,
    });
    assert.equal(wrongRoot.status, 400);
    const notUtf8 = await f.request('PROPFIND', home, {
      body: Buffer.from([0x3c, 0x61, 0xff, 0x2f, 0x3e]),
      headers: { depth: '0', ...XML },
    });
    assert.equal(notUtf8.status, 400);
  });

  it('refuses DTDs: billion laughs and external entities are 400, nothing expanded or stored', async () => {
    const laughs = await f.request('PROPFIND', home, {
      body: BILLION_LAUGHS,
      headers: { depth: '0', ...XML },
    });
    assert.equal(laughs.status, 400);
    const xxe = await f.request('PROPPATCH', `${home}target.txt`, { body: XXE, headers: XML });
    assert.equal(xxe.status, 400);
    const props = await f.request('PROPFIND', `${home}target.txt`, { headers: { depth: '0' } });
    assert.ok(!(await props.text()).includes('root:'));
  });

  it('bounds XML bodies (413) and property values (507), and nests no deeper than the limit', async () => {
    const huge = `<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><x:big xmlns:x="urn:x">${'a'.repeat(2 * 1024 * 1024)}</x:big></D:prop></D:set></D:propertyupdate>`;
    assert.equal(
      (await f.request('PROPPATCH', `${home}target.txt`, { body: huge, headers: XML })).status,
      413,
    );
    const large = `<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><x:big xmlns:x="urn:x">${'a'.repeat(100 * 1024)}</x:big><x:small xmlns:x="urn:x">ok</x:small></D:prop></D:set></D:propertyupdate>`;
    const res = await f.request('PROPPATCH', `${home}target.txt`, { body: large, headers: XML });
    assert.equal(res.status, 207);
    const text = await res.text();
    assert.match(text, /507 Insufficient Storage/);
    assert.match(text, /424 Failed Dependency/);
    const deep = `<D:propfind xmlns:D="DAV:"><D:prop>${'<x:a xmlns:x="urn:x">'.repeat(100)}${'</x:a>'.repeat(100)}</D:prop></D:propfind>`;
    assert.equal(
      (await f.request('PROPFIND', home, { body: deep, headers: { depth: '0', ...XML } })).status,
      400,
    );
  });

  it('refuses path traversal, encoded slashes, NUL and fragments with 400', async () => {
    const auth = { authorization: f.auth(f.alice) };
    for (const path of [
      `${home}../${f.bob.address}/`,
      `${home}%2e%2e/${f.bob.address}/`,
      `${home}a%2Fb`,
      `${home}a%5Cb`,
      `${home}a%00b`,
      `${home}a//b`,
      `${home}bad%zz`,
      `${home}frag/#ment`,
    ]) {
      const res = await rawRequest(f.port, 'GET', path, auth);
      assert.equal(res.status, 400, path);
    }
    const dest = await rawRequest(f.port, 'COPY', `${home}target.txt`, {
      ...auth,
      destination: `http://127.0.0.1:${f.port}${home}../${f.bob.address}/x`,
    });
    assert.equal(dest.status, 400);
  });

  it('keeps users out of each other (403) and unknown users are 404', async () => {
    const bobHome = `/dav/files/${f.bob.address}/`;
    for (const method of ['GET', 'PROPFIND', 'DELETE', 'PROPPATCH', 'MKCOL', 'LOCK']) {
      const res = await f.request(method, `${bobHome}x/`, { headers: { depth: '0' } });
      assert.equal(res.status, 403, method);
    }
    assert.equal((await f.request('PUT', `${bobHome}x.txt`, { body: 'x' })).status, 403);
    assert.equal(
      (await f.request('PROPFIND', '/dav/files/nobody@example.test/', { headers: { depth: '0' } }))
        .status,
      404,
    );
  });

  it('answers 501 to unknown methods and 405 with Allow to misplaced ones', async () => {
    assert.equal((await f.request('PATCH', home)).status, 501);
    assert.equal((await f.request('BIND', home)).status, 501);
    // ACL is known, but file trees keep their grants out of reach of the ACL method
    const acl = await f.request('ACL', home);
    assert.equal(acl.status, 405);
    assert.ok(!acl.headers.get('allow')?.includes('ACL'));
    const res = await f.request('MKCOL', `${home}target.txt`);
    assert.equal(res.status, 405);
    assert.ok(res.headers.get('allow')?.includes('PROPFIND'));
  });

  it('closes the connection after refusing an upload it did not read', async () => {
    await f.core.directory.setQuota(f.alice.id, 64 * 1024);
    const body = Buffer.alloc(1024 * 1024, 1);
    const res = await rawRequest(
      f.port,
      'PUT',
      `${home}too-big.bin`,
      { authorization: f.auth(f.alice), 'content-type': 'application/octet-stream' },
      body,
    );
    assert.equal(res.status, 507);
    assert.equal(res.headers.connection, 'close');
    await f.core.directory.setQuota(f.alice.id, 0);
  });
});
