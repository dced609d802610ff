import assert from 'node:assert/strict';
import { DAVClient, type DAVAddressBook } from 'tsdav';
import { runAdminCommand } from '../../../../src/storage/admin/admin-registry.ts';
import { aclBody } from '../acl-body.ts';
import { principalPath, startDavFixture, type DavFixture, type DavUser } from '../dav-fixture.ts';

const XML = { 'content-type': 'application/xml; charset=utf-8' };
const VCF = { 'content-type': 'text/vcard; charset=utf-8' };

function vcard(uid: string, name: string): string {
  return ['BEGIN:VCARD', 'VERSION:4.0', `UID:${uid}`, `FN:${name}`, 'END:VCARD', ''].join('\r\n');
}

describe('CardDAV sharing (address books shared through ACL grants)', function () {
  this.timeout(60_000);
  let f: DavFixture;
  let carol: DavUser;
  let team: { id: number; address: string };
  let book: string;
  let mount: string;
  let bobClient: DAVClient;

  const principal = principalPath;
  const as = (
    who: DavUser,
    method: string,
    path: string,
    opts: { body?: string; headers?: Record<string, string> } = {},
  ) => f.request(method, path, { ...opts, as: who });
  const acl = (path: string, body: string) => f.request('ACL', path, { headers: XML, body });
  const bobsBooks = async (): Promise<DAVAddressBook[]> => bobClient.fetchAddressBooks();
  const shared = async (): Promise<DAVAddressBook | undefined> =>
    (await bobsBooks()).find((b) => new URL(b.url).pathname === mount);

  before(async () => {
    f = await startDavFixture();
    const c = await f.core.directory.createPrincipal({
      address: 'carol@example.test',
      password: 'carol-secret-pw',
    });
    carol = { id: c.id, address: c.address, password: 'carol-secret-pw' };
    const t = await f.core.directory.createPrincipal({
      address: 'sales@example.test',
      kind: 'group',
    });
    team = { id: t.id, address: t.address };
    await f.core.directory.addMember(t.id, c.id);
    book = `/dav/addressbooks/${f.alice.address}/default/`;
    mount = `/dav/addressbooks/${f.bob.address}/${f.alice.address}-default/`;
    const put = await f.request('PUT', `${book}dana.vcf`, {
      headers: VCF,
      body: vcard('dana', 'Dana Client'),
    });
    assert.equal(put.status, 201);
    bobClient = new DAVClient({
      serverUrl: `${f.base}/.well-known/carddav`,
      credentials: { username: f.bob.address, password: f.bob.password },
      authMethod: 'Basic',
      defaultAccountType: 'carddav',
    });
    await bobClient.login();
  });
  after(async () => {
    await f.close();
  });

  it('keeps other users out without a grant', async () => {
    assert.equal((await as(f.bob, 'GET', `${book}dana.vcf`)).status, 403);
    assert.equal((await as(f.bob, 'GET', `${book}missing.vcf`)).status, 403);
    assert.equal(await shared(), undefined);
  });

  it('shares read-only: listed in the sharee home, readable, not writable', async () => {
    assert.equal(
      (await acl(book, aclBody({ href: principal(f.bob), grant: ['read'] }))).status,
      200,
    );
    const ab = await shared();
    assert.ok(ab, 'the shared address book is in the home');
    const cards = await bobClient.fetchVCards({ addressBook: ab });
    assert.deepEqual(
      cards.map((c) => new URL(c.url, f.base).pathname),
      [`${mount}dana.vcf`],
    );
    assert.match(String(cards[0]?.data), /FN:Dana Client/);
    const create = await bobClient.createVCard({
      addressBook: ab,
      filename: 'eve.vcf',
      vCardString: vcard('eve', 'Eve'),
    });
    assert.equal(create.status, 403);
    assert.equal((await as(f.bob, 'DELETE', `${mount}dana.vcf`)).status, 403);
    assert.equal((await as(carol, 'GET', `${mount}dana.vcf`)).status, 403);
  });

  it('shares read-write: the sharee adds a card the owner sees, and the other way', async () => {
    assert.equal(
      (await acl(book, aclBody({ href: principal(f.bob), grant: ['read', 'write'] }))).status,
      200,
    );
    const ab = await shared();
    assert.ok(ab);
    const create = await bobClient.createVCard({
      addressBook: ab,
      filename: 'eve.vcf',
      vCardString: vcard('eve', 'Eve From Bob'),
    });
    assert.equal(create.status, 201);
    assert.match(await (await f.request('GET', `${book}eve.vcf`)).text(), /Eve From Bob/);
    await f.request('PUT', `${book}fred.vcf`, { headers: VCF, body: vcard('fred', 'Fred') });
    const query = await as(f.bob, 'REPORT', mount, {
      headers: { ...XML, depth: '1' },
      body: `<card:addressbook-query xmlns:d="DAV:" xmlns:card="urn:ietf:params:xml:ns:carddav"><d:prop><d:getetag/></d:prop><card:filter><card:prop-filter name="FN"><card:text-match>Fred</card:text-match></card:prop-filter></card:filter></card:addressbook-query>`,
    });
    assert.match(await query.text(), new RegExp(`<d:href>${mount}fred.vcf</d:href>`));
  });

  it('shares with a group, and revokes', async () => {
    assert.equal(
      (await acl(book, aclBody({ href: principal(team), grant: ['read'] }))).status,
      200,
    );
    const carolMount = `/dav/addressbooks/${carol.address}/${f.alice.address}-default/`;
    assert.equal((await as(carol, 'GET', `${carolMount}dana.vcf`)).status, 200);
    // Bob's grant was replaced by the new ACL
    assert.equal((await as(f.bob, 'GET', `${mount}dana.vcf`)).status, 404);
    assert.equal(await shared(), undefined);
    assert.equal((await acl(book, aclBody())).status, 200);
    assert.equal((await as(carol, 'GET', `${carolMount}dana.vcf`)).status, 404);
    assert.equal((await as(carol, 'GET', `${book}dana.vcf`)).status, 403);
  });

  it('shares by POST (DAV:share-resource) like the ACL method', async () => {
    const body = (access: string) =>
      `<?xml version="1.0"?><d:share-resource xmlns:d="DAV:"><d:sharee><d:href>mailto:${f.bob.address}</d:href><d:share-access><d:${access}/></d:share-access></d:sharee></d:share-resource>`;
    const res = await f.request('POST', book, { headers: XML, body: body('read-write') });
    assert.equal(res.status, 200);
    const put = await as(f.bob, 'PUT', `${mount}gina.vcf`, {
      headers: VCF,
      body: vcard('gina', 'Gina'),
    });
    assert.equal(put.status, 201);
    assert.equal((await f.request('GET', `${book}gina.vcf`)).status, 200);
    const off = await f.request('POST', book, { headers: XML, body: body('no-access') });
    assert.equal(off.status, 200);
    assert.equal(await shared(), undefined);
  });

  it('shares through the admin command', async () => {
    const run = (name: string, args: unknown) =>
      runAdminCommand({ directory: f.core.directory, storage: f.core.storage }, name, args);
    await run('share.add', {
      owner: f.alice.address,
      collection: 'addressbooks/default',
      sharee: f.bob.address,
      write: false,
    });
    assert.ok(await shared());
    const listed = (await run('share.list', {
      owner: f.alice.address,
      collection: 'addressbooks/default',
    })) as { shares: { sharee: string; access: string }[] };
    assert.deepEqual(
      listed.shares.map((s) => [s.sharee, s.access]),
      [[f.bob.address, 'read']],
    );
    // The calendar of the same name is not shared by it
    assert.equal(
      (await as(f.bob, 'GET', `/dav/calendars/${f.alice.address}/default/`)).status,
      403,
    );
    await run('share.remove', {
      owner: f.alice.address,
      collection: 'addressbooks/default',
      sharee: f.bob.address,
    });
    assert.equal(await shared(), undefined);
  });
});
