import assert from 'node:assert/strict';
import { DAVClient, type DAVAddressBook } from 'tsdav';
import { startDavFixture, type DavFixture } from '../dav-fixture.ts';

const XML = { 'content-type': 'application/xml; charset=utf-8' };
const VCF = { 'content-type': 'text/vcard; charset=utf-8' };

function vcard(version: '3.0' | '4.0', uid: string, ...props: string[]): string {
  return ['BEGIN:VCARD', `VERSION:${version}`, `UID:${uid}`, ...props, 'END:VCARD', ''].join(
    '\r\n',
  );
}

function names(xml: string): string[] {
  return [...xml.matchAll(/<d:href>([^<]+)<\/d:href>/g)]
    .map((m) => decodeURIComponent(m[1] ?? ''))
    .map((h) => h.slice(h.lastIndexOf('/') + 1))
    .sort();
}

describe('CardDAV plugin (tsdav, in-process)', function () {
  this.timeout(60_000);
  let f: DavFixture;
  let client: DAVClient;
  let book: DAVAddressBook;
  let ab: string;

  before(async () => {
    f = await startDavFixture();
    client = new DAVClient({
      serverUrl: `${f.base}/.well-known/carddav`,
      credentials: { username: f.alice.address, password: f.alice.password },
      authMethod: 'Basic',
      defaultAccountType: 'carddav',
    });
    await client.login();
    ab = `/dav/addressbooks/${f.alice.address}/default/`;
  });
  after(async () => {
    await f.close();
  });

  const put = (name: string, body: string, headers: Record<string, string> = VCF) =>
    f.request('PUT', `${ab}${name}`, { body, headers });
  const report = async (body: string, depth = '1') => {
    const res = await f.request('REPORT', ab, { body, headers: { ...XML, depth } });
    return { status: res.status, text: await res.text() };
  };
  const query = (filter: string, extra = '', data = '<card:address-data/>') =>
    `<card:addressbook-query xmlns:d="DAV:" xmlns:card="urn:ietf:params:xml:ns:carddav"><d:prop><d:getetag/>${data}</d:prop><card:filter ${extra}>${filter}</card:filter></card:addressbook-query>`;

  it('discovers the default address book from /.well-known/carddav', async () => {
    const books = await client.fetchAddressBooks();
    // The default book, and the read-only directory book (directory-addressbook.test.ts).
    assert.equal(books.length, 2);
    book = books.find((b) => new URL(b.url).pathname === ab) as DAVAddressBook;
    assert.equal(new URL(book.url).pathname, ab);
    const res = await f.request('PROPFIND', ab, {
      headers: { ...XML, depth: '0' },
      body: `<d:propfind xmlns:d="DAV:" xmlns:card="urn:ietf:params:xml:ns:carddav" xmlns:cs="http://calendarserver.org/ns/"><d:prop><d:resourcetype/><card:supported-address-data/><card:max-resource-size/><cs:getctag/></d:prop></d:propfind>`,
    });
    const text = await res.text();
    assert.match(text, /<card:addressbook[ /]/);
    assert.match(text, /version="3.0"/);
    assert.match(text, /version="4.0"/);
    assert.match(text, /urn:commune:sync:\d+/);
  });

  it('creates, updates and deletes vCards 3.0 and 4.0, stored as sent', async () => {
    const v3 = vcard(
      '3.0',
      'ann',
      'FN:Ann Example',
      'N:Example;Ann;;;',
      'EMAIL;TYPE=work:ann@example.org',
      'TEL;TYPE=cell:+49 170 1234',
    );
    const res = await client.createVCard({
      addressBook: book,
      filename: 'ann.vcf',
      vCardString: v3,
    });
    assert.equal(res.status, 201);
    assert.equal(await (await f.request('GET', `${ab}ann.vcf`)).text(), v3);
    const v4 = vcard(
      '4.0',
      'bert',
      'FN:Bert Beispiel',
      'KIND:individual',
      'EMAIL;TYPE=home:bert@example.net',
      'NOTE:Zürich',
    );
    assert.equal((await put('bert.vcf', v4)).status, 201);
    assert.equal(
      (await put('carl.vcf', vcard('4.0', 'carl', 'FN:Carl Group', 'KIND:group'))).status,
      201,
    );
    const cards = await client.fetchVCards({ addressBook: book });
    assert.equal(cards.length, 3);
    const ann = cards.find((c) => c.url.endsWith('ann.vcf'));
    assert.ok(ann);
    const updated = await client.updateVCard({
      vCard: { ...ann, data: String(ann.data).replace('Ann Example', 'Ann Updated') },
    });
    assert.equal(updated.status, 204);
    assert.match(await (await f.request('GET', `${ab}ann.vcf`)).text(), /Ann Updated/);
    assert.equal((await put('tmp.vcf', vcard('4.0', 'tmp', 'FN:Temp'))).status, 201);
    const tmp = (await client.fetchVCards({ addressBook: book })).find((c) =>
      c.url.endsWith('tmp.vcf'),
    );
    assert.ok(tmp);
    assert.equal((await client.deleteVCard({ vCard: tmp })).status, 204);
    assert.equal((await f.request('GET', `${ab}tmp.vcf`)).status, 404);
  });

  it('converts on request with address-data version', async () => {
    const res = await report(
      query('', '', '<card:address-data content-type="text/vcard" version="3.0"/>'),
    );
    assert.equal(res.status, 207);
    assert.match(res.text, /VERSION:3\.0[\s\S]*X-ADDRESSBOOKSERVER-KIND:group/);
    const back = await report(
      query('', '', '<card:address-data content-type="text/vcard" version="4.0"/>'),
    );
    assert.doesNotMatch(back.text, /VERSION:3\.0/);
    const bad = await report(query('', '', '<card:address-data content-type="text/x-foo"/>'));
    assert.equal(bad.status, 403);
  });

  it('addressbook-query: text-match types, collations, param-filter, anyof/allof, limit', async () => {
    const q = async (filter: string, extra = '') =>
      names((await report(query(filter, extra))).text);
    assert.deepEqual(
      await q(
        '<card:prop-filter name="FN"><card:text-match match-type="starts-with">ann</card:text-match></card:prop-filter>',
      ),
      ['ann.vcf'],
    );
    assert.deepEqual(
      await q(
        '<card:prop-filter name="FN"><card:text-match match-type="equals" collation="i;octet">bert beispiel</card:text-match></card:prop-filter>',
      ),
      [],
    );
    assert.deepEqual(
      await q(
        '<card:prop-filter name="NOTE"><card:text-match collation="i;unicode-casemap">ZÜRICH</card:text-match></card:prop-filter>',
      ),
      ['bert.vcf'],
    );
    assert.deepEqual(
      await q(
        '<card:prop-filter name="EMAIL"><card:param-filter name="TYPE"><card:text-match match-type="equals">home</card:text-match></card:param-filter></card:prop-filter>',
      ),
      ['bert.vcf'],
    );
    assert.deepEqual(
      await q(
        '<card:prop-filter name="EMAIL"><card:text-match match-type="ends-with">.org</card:text-match></card:prop-filter><card:prop-filter name="KIND"><card:text-match>group</card:text-match></card:prop-filter>',
        'test="anyof"',
      ),
      ['ann.vcf', 'carl.vcf'],
    );
    assert.deepEqual(
      await q(
        '<card:prop-filter name="EMAIL"><card:text-match match-type="ends-with">.org</card:text-match></card:prop-filter><card:prop-filter name="KIND"><card:text-match>group</card:text-match></card:prop-filter>',
        'test="allof"',
      ),
      [],
    );
    assert.deepEqual(
      await q('<card:prop-filter name="EMAIL"><card:is-not-defined/></card:prop-filter>'),
      ['carl.vcf'],
    );
    const limited = await report(
      `<card:addressbook-query xmlns:d="DAV:" xmlns:card="urn:ietf:params:xml:ns:carddav"><d:prop><d:getetag/></d:prop><card:filter/><card:limit><card:nresults>2</card:nresults></card:limit></card:addressbook-query>`,
    );
    assert.match(limited.text, /507/);
    assert.equal(names(limited.text).length, 3); // two cards and the collection's 507
  });

  it('addressbook-multiget and sync-collection after changes', async () => {
    const res = await report(
      `<card:addressbook-multiget xmlns:d="DAV:" xmlns:card="urn:ietf:params:xml:ns:carddav"><d:prop><d:getetag/><card:address-data/></d:prop><d:href>${ab}bert.vcf</d:href><d:href>${ab}nope.vcf</d:href></card:addressbook-multiget>`,
    );
    assert.match(res.text, /FN:Bert Beispiel/);
    assert.match(res.text, /nope\.vcf<\/d:href><d:status>HTTP\/1.1 404/);
    const sync = (token: string) =>
      report(
        `<d:sync-collection xmlns:d="DAV:"><d:sync-token>${token}</d:sync-token><d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>`,
        '0',
      );
    const first = await sync('');
    const token = /<d:sync-token>([^<]+)</.exec(first.text)?.[1] ?? '';
    assert.deepEqual(names(first.text), ['ann.vcf', 'bert.vcf', 'carl.vcf']);
    assert.equal((await f.request('DELETE', `${ab}carl.vcf`)).status, 204);
    assert.equal((await put('dora.vcf', vcard('3.0', 'dora', 'FN:Dora'))).status, 201);
    const delta = await sync(token);
    assert.deepEqual(names(delta.text), ['carl.vcf', 'dora.vcf']);
    assert.match(delta.text, /carl\.vcf<\/d:href><d:status>HTTP\/1.1 404/);
  });

  it('bad input: preconditions of RFC 6352 §6.3.2.1, nothing stored', async () => {
    const refused = async (name: string, body: string, condition: RegExp, headers = VCF) => {
      const res = await put(name, body, headers);
      assert.equal(res.status, 403, name);
      assert.match(await res.text(), condition);
      assert.equal((await f.request('GET', `${ab}${name}`)).status, 404);
    };
    await refused('bad.vcf', 'BEGIN:VCARD\r\nnonsense\r\n', /valid-address-data/);
    await refused(
      'nouid.vcf',
      ['BEGIN:VCARD', 'VERSION:4.0', 'FN:X', 'END:VCARD', ''].join('\r\n'),
      /valid-address-data/,
    );
    await refused('v2.vcf', vcard('2.1' as '3.0', 'old', 'FN:Old'), /supported-address-data/);
    await refused('type.vcf', vcard('4.0', 'type', 'FN:T'), /supported-address-data/, {
      'content-type': 'text/plain',
    });
    await refused(
      'big.vcf',
      vcard('4.0', 'big', 'FN:Big', `NOTE:${'x'.repeat(10 * 1024 * 1024)}`),
      /max-resource-size/,
    );
    const dup = await put('dup.vcf', vcard('4.0', 'bert', 'FN:Bert again'));
    assert.equal(dup.status, 403);
    const text = await dup.text();
    assert.match(text, /no-uid-conflict/);
    assert.match(text, /bert\.vcf/);
  });

  it('makes address books with extended MKCOL and refuses other users', async () => {
    const res = await f.request('MKCOL', `/dav/addressbooks/${f.alice.address}/work/`, {
      headers: XML,
      body: `<d:mkcol xmlns:d="DAV:" xmlns:card="urn:ietf:params:xml:ns:carddav"><d:set><d:prop><d:resourcetype><d:collection/><card:addressbook/></d:resourcetype><d:displayname>Work</d:displayname><card:addressbook-description>Colleagues</card:addressbook-description></d:prop></d:set></d:mkcol>`,
    });
    assert.equal(res.status, 201);
    const books = await client.fetchAddressBooks();
    assert.ok(books.some((b) => b.displayName === 'Work'));
    assert.equal(
      (await f.request('PROPFIND', ab, { as: f.bob, headers: { depth: '0' } })).status,
      403,
    );
  });
});
