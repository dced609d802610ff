import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { assertGolden, fixture } from './golden.ts';
import { startDavFixture, type DavFixture } from './dav-fixture.ts';

const XML = { 'content-type': 'application/xml; charset=utf-8' };

describe('DAV service (in-process, every method)', function () {
  this.timeout(60_000);
  let f: DavFixture;
  let home: string;

  before(async () => {
    f = await startDavFixture();
    home = `/dav/files/${f.alice.address}/`;
  });
  after(async () => {
    await f.close();
  });

  const put = (path: string, body: string, headers: Record<string, string> = {}) =>
    f.request('PUT', path, { body, headers: { 'content-type': 'text/plain', ...headers } });

  describe('authentication', () => {
    it('answers 401 with a Basic challenge without credentials, with a wrong password and for bearer tokens', async () => {
      for (const headers of [
        {},
        { authorization: f.auth({ address: f.alice.address, password: 'wrong' }) },
        { authorization: `Bearer ${f.core.adminToken}` },
      ]) {
        const res = await f.request('PROPFIND', home, {
          as: null,
          headers: { depth: '0', ...headers },
        });
        assert.equal(res.status, 401);
        assert.match(res.headers.get('www-authenticate') ?? '', /^Basic realm="Commune"/);
      }
    });

    it('accepts bearer tokens issued for the user, and not once revoked', async () => {
      const issued = await f.core.directory.createToken(f.alice.id, 'sync client');
      const ok = await f.request('PROPFIND', home, {
        as: null,
        headers: { depth: '0', authorization: `Bearer ${issued.token}` },
      });
      assert.equal(ok.status, 207);
      await f.core.directory.revokeToken(f.alice.id, issued.id);
      const revoked = await f.request('PROPFIND', home, {
        as: null,
        headers: { depth: '0', authorization: `Bearer ${issued.token}` },
      });
      assert.equal(revoked.status, 401);
    });

    it('accepts app passwords as Basic', async () => {
      const app = await f.core.directory.addAppPassword(f.alice.id, 'phone');
      const res = await f.request('PROPFIND', home, {
        as: { address: f.alice.address, password: app.secret },
        headers: { depth: '0' },
      });
      assert.equal(res.status, 207);
    });
  });

  describe('OPTIONS', () => {
    it('announces DAV classes and the methods allowed on each kind of target', async () => {
      const res = await f.request('OPTIONS', home);
      assert.equal(res.status, 200);
      const dav = (res.headers.get('dav') ?? '').split(',').map((s) => s.trim());
      for (const c of ['1', '2', '3', 'access-control', 'extended-mkcol'])
        assert.ok(dav.includes(c), `DAV: ${c}`);
      const allow = (res.headers.get('allow') ?? '').split(', ');
      assert.ok(allow.includes('PROPFIND') && allow.includes('LOCK') && !allow.includes('PUT'));
      const unmapped = await f.request('OPTIONS', `${home}nothing-here`);
      const allowUnmapped = (unmapped.headers.get('allow') ?? '').split(', ');
      assert.ok(
        allowUnmapped.includes('PUT') &&
          allowUnmapped.includes('MKCOL') &&
          !allowUnmapped.includes('GET'),
      );
    });
  });

  describe('PUT, GET, HEAD', () => {
    it('stores content with its type and answers with strong validators', async () => {
      const created = await put(`${home}hello.txt`, 'hello world', {
        'content-type': 'text/x-greeting',
      });
      assert.equal(created.status, 201);
      const etag = created.headers.get('etag') ?? '';
      assert.match(etag, /^"[^"]+"$/);
      const got = await f.request('GET', `${home}hello.txt`);
      assert.equal(got.status, 200);
      assert.equal(await got.text(), 'hello world');
      assert.equal(got.headers.get('content-type'), 'text/x-greeting');
      assert.equal(got.headers.get('etag'), etag);
      assert.ok(got.headers.get('last-modified'));
      const head = await f.request('HEAD', `${home}hello.txt`);
      assert.equal(head.status, 200);
      assert.equal(head.headers.get('content-length'), '11');
      const replaced = await put(`${home}hello.txt`, 'bye');
      assert.equal(replaced.status, 204);
      assert.notEqual(replaced.headers.get('etag'), etag);
    });

    it('serves byte ranges (206) and refuses unsatisfiable ones (416)', async () => {
      await put(`${home}range.txt`, '0123456789');
      const part = await f.request('GET', `${home}range.txt`, { headers: { range: 'bytes=2-5' } });
      assert.equal(part.status, 206);
      assert.equal(part.headers.get('content-range'), 'bytes 2-5/10');
      assert.equal(await part.text(), '2345');
      const suffix = await f.request('GET', `${home}range.txt`, { headers: { range: 'bytes=-3' } });
      assert.equal(await suffix.text(), '789');
      const beyond = await f.request('GET', `${home}range.txt`, {
        headers: { range: 'bytes=20-' },
      });
      assert.equal(beyond.status, 416);
      assert.equal(beyond.headers.get('content-range'), 'bytes */10');
      const stale = await f.request('GET', `${home}range.txt`, {
        headers: { range: 'bytes=2-5', 'if-range': '"nope"' },
      });
      assert.equal(stale.status, 200);
    });

    it('honours If-Match, If-None-Match and If-Modified-Since', async () => {
      const { headers } = await put(`${home}cond.txt`, 'v1');
      const etag = headers.get('etag') as string;
      assert.equal(
        (await f.request('GET', `${home}cond.txt`, { headers: { 'if-none-match': etag } })).status,
        304,
      );
      const lastModified = (await f.request('HEAD', `${home}cond.txt`)).headers.get(
        'last-modified',
      ) as string;
      assert.equal(
        (
          await f.request('GET', `${home}cond.txt`, {
            headers: { 'if-modified-since': lastModified },
          })
        ).status,
        304,
      );
      assert.equal((await put(`${home}cond.txt`, 'v2', { 'if-match': '"other"' })).status, 412);
      assert.equal((await put(`${home}cond.txt`, 'v2', { 'if-none-match': '*' })).status, 412);
      assert.equal((await put(`${home}cond.txt`, 'v2', { 'if-match': etag })).status, 204);
      assert.equal((await put(`${home}fresh.txt`, 'v1', { 'if-match': '*' })).status, 412);
      assert.equal((await put(`${home}fresh.txt`, 'v1', { 'if-none-match': '*' })).status, 201);
    });

    it('streams a 10 MB file both ways', async () => {
      const big = Buffer.alloc(10 * 1024 * 1024);
      for (let i = 0; i < big.length; i += 4096) big.writeUInt32BE(i, i);
      const res = await f.request('PUT', `${home}big.bin`, {
        body: big,
        headers: { 'content-type': 'application/octet-stream' },
      });
      assert.equal(res.status, 201);
      const got = Buffer.from(await (await f.request('GET', `${home}big.bin`)).arrayBuffer());
      assert.equal(got.length, big.length);
      assert.equal(
        createHash('sha256').update(got).digest('hex'),
        createHash('sha256').update(big).digest('hex'),
      );
    });

    it('refuses PUT without a parent (409), on a collection (405) and with Content-Range (400)', async () => {
      assert.equal((await put(`${home}no/parent.txt`, 'x')).status, 409);
      await f.request('MKCOL', `${home}putcoll/`);
      assert.equal((await put(`${home}putcoll`, 'x')).status, 405);
      assert.equal(
        (await put(`${home}cr.txt`, 'x', { 'content-range': 'bytes 0-0/1' })).status,
        400,
      );
    });

    it('answers GET on a collection with an HTML index', async () => {
      const res = await f.request('GET', home);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /text\/html/);
      assert.match(await res.text(), /hello\.txt/);
    });
  });

  describe('DELETE', () => {
    it('removes files and whole collections, 404 when absent', async () => {
      await f.request('MKCOL', `${home}gone/`);
      await put(`${home}gone/a.txt`, 'a');
      assert.equal(
        (await f.request('DELETE', `${home}gone/`, { headers: { depth: '0' } })).status,
        400,
      );
      assert.equal((await f.request('DELETE', `${home}gone/`)).status, 204);
      assert.equal((await f.request('GET', `${home}gone/a.txt`)).status, 404);
      assert.equal((await f.request('DELETE', `${home}gone/`)).status, 404);
    });

    it('refuses to delete the home collection', async () => {
      assert.equal((await f.request('DELETE', home)).status, 403);
    });
  });

  describe('MKCOL', () => {
    it('creates collections: 201, 405 when taken, 409 without parent, 415 with a non-XML body', async () => {
      assert.equal((await f.request('MKCOL', `${home}made`)).status, 201);
      assert.equal((await f.request('MKCOL', `${home}made/`)).status, 405);
      assert.equal((await f.request('MKCOL', `${home}x/y/`)).status, 409);
      const body = await f.request('MKCOL', `${home}withbody/`, {
        body: 'junk',
        headers: { 'content-type': 'xzy-foo/bar' },
      });
      assert.equal(body.status, 415);
    });

    it('supports extended MKCOL with properties (RFC 5689)', async () => {
      const body = `<?xml version="1.0"?><D:mkcol xmlns:D="DAV:"><D:set><D:prop><D:resourcetype><D:collection/></D:resourcetype><D:displayname>Photos</D:displayname></D:prop></D:set></D:mkcol>`;
      assert.equal(
        (await f.request('MKCOL', `${home}photos/`, { body, headers: XML })).status,
        201,
      );
      const res = await f.request('PROPFIND', `${home}photos/`, {
        body: `<D:propfind xmlns:D="DAV:"><D:prop><D:displayname/></D:prop></D:propfind>`,
        headers: { depth: '0', ...XML },
      });
      assert.match(await res.text(), /<d:displayname[^>]*>Photos<\/d:displayname>/);
      const calendar = `<?xml version="1.0"?><D:mkcol xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop><D:resourcetype><D:collection/><C:calendar/></D:resourcetype></D:prop></D:set></D:mkcol>`;
      const refused = await f.request('MKCOL', `${home}cal/`, { body: calendar, headers: XML });
      assert.equal(refused.status, 403);
      const text = await refused.text();
      assert.match(text, /<d:mkcol-response/);
      assert.match(text, /HTTP\/1.1 403 Forbidden/);
    });
  });

  describe('COPY and MOVE', () => {
    const dest = (p: string) => ({ destination: `${f.base}${p}` });

    it('copies and moves with Overwrite and Depth semantics', async () => {
      await f.request('MKCOL', `${home}cm/`);
      await put(`${home}cm/a.txt`, 'A');
      assert.equal(
        (await f.request('COPY', `${home}cm/a.txt`, { headers: dest(`${home}cm/b.txt`) })).status,
        201,
      );
      assert.equal(
        (
          await f.request('COPY', `${home}cm/a.txt`, {
            headers: { ...dest(`${home}cm/b.txt`), overwrite: 'F' },
          })
        ).status,
        412,
      );
      assert.equal(
        (await f.request('COPY', `${home}cm/a.txt`, { headers: dest(`${home}cm/b.txt`) })).status,
        204,
      );
      assert.equal(
        (await f.request('COPY', `${home}cm/`, { headers: { ...dest(`${home}cm2/`), depth: '0' } }))
          .status,
        201,
      );
      const shallow = await f.request('PROPFIND', `${home}cm2/`, { headers: { depth: '1' } });
      assert.equal((await shallow.text()).match(/<d:response>/g)?.length, 1);
      assert.equal(
        (await f.request('COPY', `${home}cm/`, { headers: { ...dest(`${home}cm3/`), depth: '1' } }))
          .status,
        400,
      );
      assert.equal(
        (await f.request('MOVE', `${home}cm/`, { headers: dest(`${home}moved/`) })).status,
        201,
      );
      assert.equal(await (await f.request('GET', `${home}moved/b.txt`)).text(), 'A');
      assert.equal((await f.request('GET', `${home}cm/a.txt`)).status, 404);
      assert.equal(
        (await f.request('MOVE', `${home}moved/`, { headers: dest(`${home}moved/`) })).status,
        403,
      );
      assert.equal(
        (await f.request('MOVE', `${home}moved/`, { headers: dest(`${home}moved/inner/`) })).status,
        403,
      );
      assert.equal(
        (await f.request('COPY', `${home}moved/b.txt`, { headers: dest(`${home}nowhere/b.txt`) }))
          .status,
        409,
      );
      assert.equal(
        (
          await f.request('COPY', `${home}moved/b.txt`, {
            headers: { destination: `http://elsewhere.example${home}x` },
          })
        ).status,
        502,
      );
      assert.equal((await f.request('COPY', `${home}moved/b.txt`, { headers: {} })).status, 400);
    });
  });

  describe('PROPFIND', () => {
    it('returns allprop for a file (golden)', async () => {
      await put(`${home}doc.txt`, 'document', { 'content-type': 'text/plain' });
      const res = await f.request('PROPFIND', `${home}doc.txt`, {
        body: fixture('propfind-allprop.request.xml'),
        headers: { depth: '0', ...XML },
      });
      assert.equal(res.status, 207);
      assertGolden('propfind-allprop', await res.text());
    });

    it('returns named properties with 404 for unknown ones (golden)', async () => {
      const res = await f.request('PROPFIND', `${home}doc.txt`, {
        body: fixture('propfind-prop.request.xml'),
        headers: { depth: '0', ...XML },
      });
      assertGolden('propfind-prop-file', await res.text());
      const coll = await f.request('PROPFIND', `${home}photos/`, {
        body: fixture('propfind-prop.request.xml'),
        headers: { depth: '0', ...XML },
      });
      assertGolden('propfind-prop-collection', await coll.text());
    });

    it('returns property names (golden)', async () => {
      const res = await f.request('PROPFIND', `${home}doc.txt`, {
        body: fixture('propfind-propname.request.xml'),
        headers: { depth: '0', ...XML },
      });
      assertGolden('propfind-propname', await res.text());
    });

    it('lists members with Depth 1 and refuses Depth infinity with propfind-finite-depth', async () => {
      const res = await f.request('PROPFIND', home, { headers: { depth: '1' } });
      const text = await res.text();
      assert.ok(text.includes(`<d:href>${home}doc.txt</d:href>`));
      assert.ok(text.includes(`<d:href>${home}photos/</d:href>`));
      const inf = await f.request('PROPFIND', home, { headers: { depth: 'infinity' } });
      assert.equal(inf.status, 403);
      assert.match(await inf.text(), /<d:propfind-finite-depth\/>/);
      assert.equal(
        (await f.request('PROPFIND', `${home}missing`, { headers: { depth: '0' } })).status,
        404,
      );
      assert.equal((await f.request('PROPFIND', home, { headers: { depth: '2' } })).status, 400);
    });
  });

  describe('PROPPATCH', () => {
    it('sets and removes dead properties in order (golden)', async () => {
      const res = await f.request('PROPPATCH', `${home}doc.txt`, {
        body: fixture('proppatch.request.xml'),
        headers: XML,
      });
      assert.equal(res.status, 207);
      assertGolden('proppatch', await res.text());
      const back = await f.request('PROPFIND', `${home}doc.txt`, {
        body: fixture('propfind-allprop.request.xml'),
        headers: { depth: '0', ...XML },
      });
      assertGolden('propfind-allprop-after-proppatch', await back.text());
    });

    it('is atomic: a protected property fails the whole request (golden)', async () => {
      const res = await f.request('PROPPATCH', `${home}doc.txt`, {
        body: fixture('proppatch-protected.request.xml'),
        headers: XML,
      });
      assertGolden('proppatch-protected', await res.text());
      const back = await f.request('PROPFIND', `${home}doc.txt`, {
        body: `<D:propfind xmlns:D="DAV:"><D:prop><Z:note xmlns:Z="http://ns.example.com/z/"/></D:prop></D:propfind>`,
        headers: { depth: '0', ...XML },
      });
      assert.match(await back.text(), /404 Not Found/);
    });
  });

  describe('LOCK and UNLOCK', () => {
    it('locks exclusively, enforces the token, refreshes and unlocks (golden)', async () => {
      await put(`${home}locked.txt`, 'v1');
      const res = await f.request('LOCK', `${home}locked.txt`, {
        body: fixture('lock-exclusive.request.xml'),
        headers: { ...XML, timeout: 'Second-600' },
      });
      assert.equal(res.status, 200);
      const token = /^<(.+)>$/.exec(res.headers.get('lock-token') ?? '')?.[1] as string;
      assert.match(token, /^urn:uuid:/);
      assertGolden('lock-exclusive', await res.text());

      const blocked = await put(`${home}locked.txt`, 'v2');
      assert.equal(blocked.status, 423);
      assertGolden('lock-token-submitted', await blocked.text());
      assert.equal(
        (
          await f.request('LOCK', `${home}locked.txt`, {
            body: fixture('lock-shared.request.xml'),
            headers: XML,
          })
        ).status,
        423,
      );
      assert.equal((await f.request('DELETE', `${home}locked.txt`)).status, 423);
      assert.equal((await put(`${home}locked.txt`, 'v2', { if: `(<${token}>)` })).status, 204);
      assert.equal(
        (
          await put(`${home}locked.txt`, 'v3', {
            if: `(<urn:uuid:00000000-0000-0000-0000-000000000000>)`,
          })
        ).status,
        412,
      );
      // Bob holds no grant: he cannot even see the resource
      assert.equal(
        (
          await f.request('PUT', `${home}locked.txt`, {
            as: f.bob,
            body: 'v3',
            headers: { if: `(<${token}>)` },
          })
        ).status,
        403,
      );

      const refreshed = await f.request('LOCK', `${home}locked.txt`, {
        headers: { if: `(<${token}>)`, timeout: 'Second-100' },
      });
      assert.equal(refreshed.status, 200);
      assert.match(await refreshed.text(), /Second-(100|99)/);

      const discovery = await f.request('PROPFIND', `${home}locked.txt`, {
        body: `<D:propfind xmlns:D="DAV:"><D:prop><D:lockdiscovery/><D:supportedlock/></D:prop></D:propfind>`,
        headers: { depth: '0', ...XML },
      });
      assertGolden('lockdiscovery', await discovery.text());

      assert.equal(
        (
          await f.request('UNLOCK', `${home}locked.txt`, {
            headers: { 'lock-token': '<urn:uuid:bogus>' },
          })
        ).status,
        409,
      );
      assert.equal(
        (
          await f.request('UNLOCK', `${home}locked.txt`, {
            headers: { 'lock-token': `<${token}>` },
          })
        ).status,
        204,
      );
      assert.equal((await put(`${home}locked.txt`, 'v4')).status, 204);
    });

    it('shares locks, locks collections in depth, and creates locked empty resources', async () => {
      await f.request('MKCOL', `${home}lc/`);
      const one = await f.request('LOCK', `${home}lc/`, {
        body: fixture('lock-shared.request.xml'),
        headers: XML,
      });
      const two = await f.request('LOCK', `${home}lc/`, {
        body: fixture('lock-shared.request.xml'),
        headers: XML,
      });
      assert.equal(one.status, 200);
      assert.equal(two.status, 200);
      const token = /^<(.+)>$/.exec(two.headers.get('lock-token') ?? '')?.[1] as string;
      // A member cannot be added without a token of the collection's locks
      assert.equal((await put(`${home}lc/new.txt`, 'x')).status, 423);
      assert.equal((await put(`${home}lc/new.txt`, 'x', { if: `(<${token}>)` })).status, 201);
      assert.equal(
        (
          await f.request('LOCK', `${home}lc/new.txt`, {
            body: fixture('lock-exclusive.request.xml'),
            headers: XML,
          })
        ).status,
        423,
      );

      const unmapped = await f.request('LOCK', `${home}lock-null.txt`, {
        body: fixture('lock-exclusive.request.xml'),
        headers: XML,
      });
      assert.equal(unmapped.status, 201);
      const head = await f.request('HEAD', `${home}lock-null.txt`);
      assert.equal(head.status, 200);
      assert.equal(head.headers.get('content-length'), '0');
      assert.equal(
        (
          await f.request('LOCK', `${home}nope/x.txt`, {
            body: fixture('lock-exclusive.request.xml'),
            headers: XML,
          })
        ).status,
        409,
      );
    });
  });

  describe('REPORT sync-collection', () => {
    it('returns all members, then only changes since the token (golden)', async () => {
      await f.request('MKCOL', `${home}sync/`);
      await put(`${home}sync/a.txt`, 'a');
      await put(`${home}sync/b.txt`, 'bb');
      const initial = await f.request('REPORT', `${home}sync/`, {
        body: fixture('sync-collection.request.xml').replace('TOKEN', ''),
        headers: { depth: '0', ...XML },
      });
      assert.equal(initial.status, 207);
      const text = await initial.text();
      assertGolden('sync-collection-initial', text);
      const token = /<d:sync-token>([^<]+)<\/d:sync-token>/.exec(text)?.[1] as string;
      await put(`${home}sync/a.txt`, 'changed');
      await f.request('DELETE', `${home}sync/b.txt`);
      await put(`${home}sync/c.txt`, 'ccc');
      await put(`${home}elsewhere.txt`, 'not in the collection');
      const next = await f.request('REPORT', `${home}sync/`, {
        body: fixture('sync-collection.request.xml').replace('TOKEN', token),
        headers: { depth: '0', ...XML },
      });
      assertGolden('sync-collection-changes', await next.text());
      const bad = await f.request('REPORT', `${home}sync/`, {
        body: fixture('sync-collection.request.xml').replace('TOKEN', 'urn:commune:sync:99999999'),
        headers: XML,
      });
      assert.equal(bad.status, 403);
      assert.match(await bad.text(), /<d:valid-sync-token\/>/);
    });

    it('refuses unknown reports with supported-report', async () => {
      const res = await f.request('REPORT', home, {
        body: `<x:nope xmlns:x="urn:x"/>`,
        headers: XML,
      });
      assert.equal(res.status, 403);
      assert.match(await res.text(), /<d:supported-report\/>/);
    });
  });

  describe('quota', () => {
    it('reports usage and refuses uploads over quota with 507', async () => {
      await f.core.directory.setQuota(f.bob.id, 1000);
      const bobHome = `/dav/files/${f.bob.address}/`;
      const as = f.bob;
      assert.equal(
        (await f.request('PUT', `${bobHome}a.bin`, { as, body: 'x'.repeat(600) })).status,
        201,
      );
      const over = await f.request('PUT', `${bobHome}b.bin`, { as, body: 'x'.repeat(600) });
      assert.equal(over.status, 507);
      assert.match(await over.text(), /<d:quota-not-exceeded\/>/);
      const res = await f.request('PROPFIND', bobHome, {
        as,
        body: `<D:propfind xmlns:D="DAV:"><D:prop><D:quota-used-bytes/><D:quota-available-bytes/></D:prop></D:propfind>`,
        headers: { depth: '0', ...XML },
      });
      const text = await res.text();
      assert.match(text, /<d:quota-used-bytes>600<\/d:quota-used-bytes>/);
      assert.match(text, /<d:quota-available-bytes>400<\/d:quota-available-bytes>/);
    });
  });
});
