import assert from 'node:assert/strict';
import { DAVClient } from 'tsdav';
import { startDavFixture, type DavFixture } from '../dav-fixture.ts';

const XML = { 'content-type': 'application/xml; charset=utf-8' };
const NS = 'xmlns:d="DAV:" xmlns:card="urn:ietf:params:xml:ns:carddav"';

function hrefs(xml: string): string[] {
  return [...xml.matchAll(/<d:href>([^<]+)<\/d:href>/g)]
    .map((m) => decodeURIComponent(m[1] ?? ''))
    .map((h) => h.slice(h.lastIndexOf('/') + 1))
    .filter((h) => h !== '')
    .sort();
}

describe('CardDAV directory address book', function () {
  this.timeout(60_000);
  let f: DavFixture;
  let book: string;
  let groupId: number;
  let carolId: number;

  before(async () => {
    f = await startDavFixture();
    book = `/dav/addressbooks/${f.alice.address}/directory/`;
    const d = f.core.directory;
    await d.setDisplayName(f.alice.id, 'Alice Liddell');
    await d.setProfile(f.alice.id, {
      phone: '+49 30 1234',
      mobile: '+49 170 9999',
      title: 'Engineer',
      organization: 'Example; Inc',
      department: 'R&D',
    });
    await d.addAlias(f.alice.id, 'al@example.test');
    const group = await d.createPrincipal({
      address: 'team@example.test',
      kind: 'group',
      displayName: 'Team',
    });
    groupId = group.id;
    await d.addMember(group.id, f.alice.id);
    await d.addMember(group.id, f.bob.id);
    const carol = await d.createPrincipal({
      address: 'carol@other.test',
      password: 'carol-secret-pw',
      displayName: 'Carol',
      createDomain: true,
    });
    carolId = carol.id;
  });
  after(async () => {
    await f.close();
  });

  const report = async (body: string, depth = '1', path = book) => {
    const res = await f.request('REPORT', path, { body, headers: { ...XML, depth } });
    return { status: res.status, text: await res.text() };
  };
  const query = (filter: string, data = '<card:address-data/>') =>
    `<card:addressbook-query ${NS}><d:prop><d:getetag/>${data}</d:prop><card:filter>${filter}</card:filter></card:addressbook-query>`;

  it('is listed in the home and discovered by tsdav, with its properties', async () => {
    const client = new DAVClient({
      serverUrl: `${f.base}/.well-known/carddav`,
      credentials: { username: f.alice.address, password: f.alice.password },
      authMethod: 'Basic',
      defaultAccountType: 'carddav',
    });
    await client.login();
    const books = await client.fetchAddressBooks();
    const dir = books.find((b) => new URL(b.url).pathname === book);
    assert.ok(dir, 'directory book discovered');
    assert.equal(dir.displayName, 'Directory');
    assert.ok(books.some((b) => new URL(b.url).pathname.endsWith('/default/')));
    const res = await f.request('PROPFIND', book, {
      headers: { ...XML, depth: '0' },
      body: `<d:propfind ${NS} xmlns:cs="http://calendarserver.org/ns/"><d:prop><d:resourcetype/><d:displayname/><cs:getctag/><d:sync-token/><card:supported-address-data/><d:current-user-privilege-set/></d:prop></d:propfind>`,
    });
    assert.equal(res.status, 207);
    const text = await res.text();
    assert.match(text, /<card:addressbook[ /]/);
    assert.match(text, /<d:displayname>Directory<\/d:displayname>/);
    const ctag = /getctag[^>]*>urn:commune:sync:(\d+)</.exec(text)?.[1];
    assert.ok(ctag);
    assert.match(text, new RegExp(`sync-token>urn:commune:sync:${ctag}<`));
    assert.doesNotMatch(text, /<d:write/);
    const vcards = await client.fetchVCards({ addressBook: dir });
    assert.equal(vcards.length, 3);
  });

  it('serves the cards of the own domain only, with directory fields', async () => {
    const res = await f.request('PROPFIND', book, {
      headers: { ...XML, depth: '1' },
      body: `<d:propfind ${NS}><d:prop><d:getetag/></d:prop></d:propfind>`,
    });
    assert.deepEqual(hrefs(await res.text()), [
      `${f.alice.id}.vcf`,
      `${f.bob.id}.vcf`,
      `${groupId}.vcf`,
    ]);
    const get = await f.request('GET', `${book}${f.alice.id}.vcf`);
    assert.equal(get.status, 200);
    assert.match(get.headers.get('content-type') ?? '', /text\/vcard/);
    assert.ok(get.headers.get('etag'));
    const card = await get.text();
    assert.match(card, /^BEGIN:VCARD\r\nVERSION:4\.0\r\n/);
    assert.match(card, /\r\nFN:Alice Liddell\r\n/);
    assert.match(card, /\r\nN:Liddell;Alice;;;\r\n/);
    assert.match(card, /\r\nEMAIL;TYPE=work;PREF=1:alice@example\.test\r\n/);
    assert.match(card, /\r\nEMAIL;TYPE=work:al@example\.test\r\n/);
    assert.match(card, /\r\nTEL;TYPE=work,voice:\+49 30 1234\r\n/);
    assert.match(card, /\r\nTEL;TYPE=cell:\+49 170 9999\r\n/);
    assert.match(card, /\r\nTITLE:Engineer\r\n/);
    assert.match(card, /\r\nORG:Example\\; Inc;R&D\r\n/);
    const uid = /\r\nUID:(urn:uuid:[0-9a-f-]{36})\r\n/.exec(card)?.[1];
    assert.ok(uid);
    const group = await (await f.request('GET', `${book}${groupId}.vcf`)).text();
    assert.match(group, /\r\nKIND:group\r\n/);
    assert.ok(group.includes(`\r\nMEMBER:${uid}\r\n`));
    assert.equal((group.match(/\r\nMEMBER:/g) ?? []).length, 2);
    assert.equal((await f.request('GET', `${book}${carolId}.vcf`)).status, 404);
    assert.equal((await f.request('GET', `${book}nope.vcf`)).status, 404);
  });

  it('keeps other homes and domains apart', async () => {
    const carol = { address: 'carol@other.test', password: 'carol-secret-pw' };
    const own = await f.request('PROPFIND', `/dav/addressbooks/carol@other.test/directory/`, {
      as: carol,
      headers: { ...XML, depth: '1' },
      body: `<d:propfind ${NS}><d:prop><d:getetag/></d:prop></d:propfind>`,
    });
    assert.equal(own.status, 207);
    assert.deepEqual(hrefs(await own.text()), [`${carolId}.vcf`]);
    assert.equal(
      (
        await f.request('GET', `/dav/addressbooks/carol@other.test/directory/${f.alice.id}.vcf`, {
          as: carol,
        })
      ).status,
      404,
    );
    assert.equal(
      (await f.request('PROPFIND', book, { as: carol, headers: { depth: '0' } })).status,
      403,
    );
  });

  it('addressbook-query by name and email, with 3.0 conversion', async () => {
    const byName = await report(
      query(
        '<card:prop-filter name="FN"><card:text-match match-type="contains">liddell</card:text-match></card:prop-filter>',
      ),
    );
    assert.equal(byName.status, 207);
    assert.deepEqual(hrefs(byName.text), [`${f.alice.id}.vcf`]);
    assert.match(byName.text, /FN:Alice Liddell/);
    const byEmail = await report(
      query(
        '<card:prop-filter name="EMAIL"><card:text-match match-type="equals">bob@example.test</card:text-match></card:prop-filter>',
      ),
    );
    assert.deepEqual(hrefs(byEmail.text), [`${f.bob.id}.vcf`]);
    const v3 = await report(
      query(
        '<card:prop-filter name="KIND"><card:text-match>group</card:text-match></card:prop-filter>',
        '<card:address-data content-type="text/vcard" version="3.0"/>',
      ),
    );
    assert.deepEqual(hrefs(v3.text), [`${groupId}.vcf`]);
    assert.match(v3.text, /VERSION:3\.0/);
    assert.match(v3.text, /X-ADDRESSBOOKSERVER-KIND:group/);
    const none = await report(
      query(
        '<card:prop-filter name="EMAIL"><card:text-match>carol</card:text-match></card:prop-filter>',
      ),
    );
    assert.deepEqual(hrefs(none.text), []);
  });

  it('addressbook-multiget', async () => {
    const res = await report(
      `<card:addressbook-multiget ${NS}><d:prop><d:getetag/><card:address-data/></d:prop><d:href>${book}${f.bob.id}.vcf</d:href><d:href>${book}${carolId}.vcf</d:href></card:addressbook-multiget>`,
    );
    assert.equal(res.status, 207);
    assert.match(res.text, /FN:Bob/);
    assert.match(res.text, new RegExp(`${carolId}\\.vcf</d:href><d:status>HTTP/1.1 404`));
  });

  it('sync-collection reports users added and removed after directory changes', async () => {
    const sync = (token: string) =>
      report(
        `<d:sync-collection xmlns:d="DAV:"><d:sync-token>${token}</d:sync-token><d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>`,
        '0',
      );
    const first = await sync('');
    assert.equal(first.status, 207);
    assert.equal(hrefs(first.text).length, 3);
    const token = /<d:sync-token>([^<]+)</.exec(first.text)?.[1] ?? '';
    const dora = await f.core.directory.createPrincipal({
      address: 'dora@example.test',
      password: 'dora-secret-pw',
      displayName: 'Dora',
    });
    await f.core.directory.createPrincipal({
      address: 'erin@other.test',
      password: 'erin-secret-pw',
    });
    await f.core.directory.removeMember(groupId, f.bob.id);
    const delta = await sync(token);
    assert.equal(delta.status, 207);
    assert.deepEqual(
      hrefs(delta.text),
      [`${dora.id}.vcf`, `${f.bob.id}.vcf`, `${groupId}.vcf`].sort(),
    );
    const token2 = /<d:sync-token>([^<]+)</.exec(delta.text)?.[1] ?? '';
    assert.notEqual(token2, token);
    await f.core.directory.removePrincipal(dora.id);
    const gone = await sync(token2);
    assert.match(gone.text, new RegExp(`${dora.id}\\.vcf</d:href><d:status>HTTP/1.1 404`));
    const bad = await sync('urn:commune:sync:999999');
    assert.equal(bad.status, 403);
    assert.match(bad.text, /valid-sync-token/);
  });

  it('refuses every write with 403', async () => {
    const card = `${book}${f.alice.id}.vcf`;
    const vcf = 'BEGIN:VCARD\r\nVERSION:4.0\r\nUID:x\r\nFN:X\r\nEND:VCARD\r\n';
    const refused = async (res: Response, condition: RegExp, what: string) => {
      assert.equal(res.status, 403, what);
      assert.match(await res.text(), condition, what);
    };
    const VCF = { 'content-type': 'text/vcard' };
    await refused(
      await f.request('PUT', `${book}new.vcf`, { body: vcf, headers: VCF }),
      /need-privileges/,
      'PUT new',
    );
    await refused(
      await f.request('PUT', card, { body: vcf, headers: VCF }),
      /need-privileges/,
      'PUT over',
    );
    await refused(await f.request('DELETE', card), /need-privileges/, 'DELETE card');
    assert.equal((await f.request('DELETE', book)).status, 403);
    await refused(await f.request('MKCOL', `${book}sub/`), /need-privileges/, 'MKCOL');
    await refused(
      await f.request('PROPPATCH', book, {
        headers: XML,
        body: `<d:propertyupdate xmlns:d="DAV:"><d:set><d:prop><d:displayname>Mine</d:displayname></d:prop></d:set></d:propertyupdate>`,
      }),
      /need-privileges|cannot-modify-protected-property/,
      'PROPPATCH',
    );
    const after = await (await f.request('GET', card)).text();
    assert.match(after, /FN:Alice Liddell/);
  });
});
