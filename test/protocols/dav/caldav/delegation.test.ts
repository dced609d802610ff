import assert from 'node:assert/strict';
import { DAVClient } from 'tsdav';
import { aclBody } from '../acl-body.ts';
import { principalPath, startDavFixture, type DavFixture, type DavUser } from '../dav-fixture.ts';

const XML = { 'content-type': 'application/xml; charset=utf-8' };
const ICS = { 'content-type': 'text/calendar; charset=utf-8' };
const CS = 'xmlns:cs="http://calendarserver.org/ns/"';

function event(uid: string, summary: string): string {
  return [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'PRODID:-//test//EN',
    'BEGIN:VEVENT',
    `UID:${uid}`,
    'DTSTAMP:20240101T000000Z',
    'DTSTART:20240401T100000Z',
    `SUMMARY:${summary}`,
    'END:VEVENT',
    'END:VCALENDAR',
    '',
  ].join('\r\n');
}

function hrefsIn(xml: string, element: string): string[] {
  const m = new RegExp(`<${element}[^>]*>(.*?)</${element}>`).exec(xml);
  return [...(m?.[1] ?? '').matchAll(/<d:href>([^<]+)<\/d:href>/g)].map((x) =>
    decodeURIComponent(x[1] ?? ''),
  );
}

describe('CalDAV delegation (calendar-proxy-read / calendar-proxy-write)', function () {
  this.timeout(60_000);
  let f: DavFixture;
  let carol: DavUser;
  let team: { id: number; address: string };
  let home: string;
  let readProxy: string;
  let writeProxy: string;

  const principal = principalPath;
  const as = (
    who: DavUser,
    method: string,
    path: string,
    opts: { body?: string; headers?: Record<string, string> } = {},
  ) => f.request(method, path, { ...opts, as: who });
  const propfind = async (who: DavUser, path: string, props: string, depth = '0') => {
    const res = await as(who, 'PROPFIND', path, {
      headers: { ...XML, depth },
      body: `<d:propfind xmlns:d="DAV:" ${CS}><d:prop>${props}</d:prop></d:propfind>`,
    });
    return { status: res.status, text: await res.text() };
  };
  const setMembers = async (who: DavUser, proxy: string, members: { address: string }[]) => {
    const body =
      members.length === 0
        ? `<d:propertyupdate xmlns:d="DAV:"><d:remove><d:prop><d:group-member-set/></d:prop></d:remove></d:propertyupdate>`
        : `<d:propertyupdate xmlns:d="DAV:"><d:set><d:prop><d:group-member-set>${members.map((m) => `<d:href>${principal(m)}</d:href>`).join('')}</d:group-member-set></d:prop></d:set></d:propertyupdate>`;
    return as(who, 'PROPPATCH', proxy, { headers: XML, body });
  };

  before(async () => {
    f = await startDavFixture();
    const c = await f.core.directory.createPrincipal({
      address: 'carol@example.test',
      password: 'carol-secret-pw',
      displayName: 'Carol',
    });
    carol = { id: c.id, address: c.address, password: 'carol-secret-pw' };
    const t = await f.core.directory.createPrincipal({
      address: 'assistants@example.test',
      kind: 'group',
    });
    team = { id: t.id, address: t.address };
    await f.core.directory.addMember(t.id, c.id);
    home = `/dav/calendars/${f.alice.address}/`;
    readProxy = `${principal(f.alice)}calendar-proxy-read/`;
    writeProxy = `${principal(f.alice)}calendar-proxy-write/`;
    assert.equal((await f.request('MKCALENDAR', `${home}work/`)).status, 201);
    const put = await f.request('PUT', `${home}default/plan.ics`, {
      headers: ICS,
      body: event('plan', 'Plan'),
    });
    assert.equal(put.status, 201);
  });
  after(async () => {
    await f.close();
  });

  it('gives every principal two proxy group principals', async () => {
    const { status, text } = await propfind(
      f.alice,
      principal(f.alice),
      '<d:resourcetype/><d:displayname/>',
      '1',
    );
    assert.equal(status, 207);
    assert.match(text, new RegExp(`${readProxy}</d:href>.*?<cs:calendar-proxy-read[ /]`));
    assert.match(text, new RegExp(`${writeProxy}</d:href>.*?<cs:calendar-proxy-write[ /]`));
    const proxy = await propfind(f.bob, writeProxy, '<d:group-member-set/><d:displayname/>');
    assert.equal(proxy.status, 207);
    assert.deepEqual(hrefsIn(proxy.text, 'd:group-member-set'), []);
    assert.match(proxy.text, /Alice: calendar write access/);
    assert.equal(
      (await propfind(f.alice, `${principal(f.alice)}calendar-proxy-other/`, '<d:displayname/>'))
        .status,
      404,
    );
  });

  it('keeps a non-delegate out of the home', async () => {
    assert.equal((await propfind(f.bob, home, '<d:displayname/>', '1')).status, 403);
    assert.equal((await as(f.bob, 'GET', `${home}default/plan.ics`)).status, 403);
  });

  it('lets only the owner set the members of its proxy groups', async () => {
    const res = await setMembers(f.bob, readProxy, [f.bob]);
    assert.equal(res.status, 403);
    assert.equal((await as(f.bob, 'GET', `${home}default/plan.ics`)).status, 403);
    const unknown = await as(f.alice, 'PROPPATCH', readProxy, {
      headers: XML,
      body: `<d:propertyupdate xmlns:d="DAV:"><d:set><d:prop><d:group-member-set><d:href>/dav/principals/nobody@example.test/</d:href></d:group-member-set></d:prop></d:set></d:propertyupdate>`,
    });
    assert.equal(unknown.status, 403);
    const other = await as(f.alice, 'PROPPATCH', readProxy, {
      headers: XML,
      body: `<d:propertyupdate xmlns:d="DAV:"><d:set><d:prop><d:displayname>x</d:displayname></d:prop></d:set></d:propertyupdate>`,
    });
    assert.equal(other.status, 207);
    assert.match(await other.text(), /HTTP\/1.1 403[\s\S]*cannot-modify-protected-property/);
  });

  describe('a read delegate', () => {
    before(async () => {
      const res = await setMembers(f.alice, readProxy, [f.bob]);
      assert.equal(res.status, 207);
      assert.match(await res.text(), /HTTP\/1.1 200/);
    });

    it('is listed in the group and sees it from its own principal', async () => {
      const group = await propfind(f.alice, readProxy, '<d:group-member-set/>');
      assert.deepEqual(hrefsIn(group.text, 'd:group-member-set'), [principal(f.bob)]);
      const mine = await propfind(
        f.bob,
        principal(f.bob),
        '<cs:calendar-proxy-read-for/><cs:calendar-proxy-write-for/><d:group-membership/>',
      );
      assert.deepEqual(hrefsIn(mine.text, 'cs:calendar-proxy-read-for'), [principal(f.alice)]);
      assert.deepEqual(hrefsIn(mine.text, 'cs:calendar-proxy-write-for'), []);
      assert.deepEqual(hrefsIn(mine.text, 'd:group-membership'), [readProxy]);
    });

    it('reads the whole home (tsdav on the delegator home) but cannot write', async () => {
      const client = new DAVClient({
        serverUrl: `${f.base}/.well-known/caldav`,
        credentials: { username: f.bob.address, password: f.bob.password },
        authMethod: 'Basic',
        defaultAccountType: 'caldav',
      });
      await client.login();
      const account = { ...client.account, homeUrl: `${f.base}${home}` } as never;
      const calendars = await client.fetchCalendars({ account });
      const paths = calendars.map((c) => new URL(c.url).pathname).sort();
      assert.deepEqual(paths, [`${home}default/`, `${home}work/`]);
      const def = calendars.find((c) => c.url.endsWith('/default/'));
      assert.ok(def);
      const objects = await client.fetchCalendarObjects({ calendar: def });
      assert.match(String(objects[0]?.data), /SUMMARY:Plan/);
      const put = await as(f.bob, 'PUT', `${home}default/bob.ics`, {
        headers: ICS,
        body: event('bob', 'x'),
      });
      assert.equal(put.status, 403);
      assert.equal((await as(f.bob, 'DELETE', `${home}default/plan.ics`)).status, 403);
      assert.equal((await as(f.bob, 'MKCALENDAR', `${home}bobs/`)).status, 403);
      const privileges = await propfind(f.bob, `${home}work/`, '<d:current-user-privilege-set/>');
      assert.doesNotMatch(privileges.text, /<d:write-content\/>/);
    });

    it('shows the delegation in the ACL of the home and of each calendar', async () => {
      const { text } = await propfind(f.alice, `${home}work/`, '<d:acl/>');
      assert.match(
        text,
        new RegExp(
          `${principal(f.bob)}</d:href></d:principal><d:grant><d:privilege><d:read/>.*?<d:inherited><d:href>${home}</d:href>`,
        ),
      );
    });

    it('leaves other people out', async () => {
      assert.equal((await propfind(carol, home, '<d:displayname/>', '1')).status, 403);
    });
  });

  describe('a write delegate', () => {
    before(async () => {
      const res = await setMembers(f.alice, writeProxy, [f.bob]);
      assert.equal(res.status, 207);
    });

    it('moves from the read group to the write group', async () => {
      const read = await propfind(f.alice, readProxy, '<d:group-member-set/>');
      assert.deepEqual(hrefsIn(read.text, 'd:group-member-set'), []);
      const mine = await propfind(
        f.bob,
        principal(f.bob),
        '<cs:calendar-proxy-read-for/><cs:calendar-proxy-write-for/>',
      );
      assert.deepEqual(hrefsIn(mine.text, 'cs:calendar-proxy-read-for'), []);
      assert.deepEqual(hrefsIn(mine.text, 'cs:calendar-proxy-write-for'), [principal(f.alice)]);
    });

    it('changes events and calendars of the delegator, seen by the delegator', async () => {
      const put = await as(f.bob, 'PUT', `${home}work/booked.ics`, {
        headers: ICS,
        body: event('booked', 'Booked by Bob'),
      });
      assert.equal(put.status, 201);
      assert.match(
        await (await f.request('GET', `${home}work/booked.ics`)).text(),
        /Booked by Bob/,
      );
      assert.equal((await as(f.bob, 'MKCALENDAR', `${home}travel/`)).status, 201);
      const listing = await propfind(f.alice, home, '<d:resourcetype/>', '1');
      assert.match(listing.text, new RegExp(`${home}travel/`));
    });

    it('answers expand-property on calendar-proxy-write-for (Apple delegation discovery)', async () => {
      const res = await as(f.bob, 'REPORT', principal(f.bob), {
        headers: { ...XML, depth: '0' },
        body: `<d:expand-property xmlns:d="DAV:"><d:property name="calendar-proxy-write-for" namespace="http://calendarserver.org/ns/"><d:property name="displayname"/><d:property name="calendar-home-set" namespace="urn:ietf:params:xml:ns:caldav"/></d:property></d:expand-property>`,
      });
      assert.equal(res.status, 207);
      const text = await res.text();
      assert.match(text, /Alice/);
      assert.match(text, new RegExp(home));
    });
  });

  describe('groups and the ACL method', () => {
    it('gives every member of a delegate group the delegation', async () => {
      const res = await setMembers(f.alice, readProxy, [team]);
      assert.equal(res.status, 207);
      assert.equal((await as(carol, 'GET', `${home}default/plan.ics`)).status, 200);
      const mine = await propfind(carol, principal(carol), '<cs:calendar-proxy-read-for/>');
      assert.deepEqual(hrefsIn(mine.text, 'cs:calendar-proxy-read-for'), [principal(f.alice)]);
    });

    it('is the same delegation as an ACL on the calendar home', async () => {
      const res = await f.request('ACL', home, {
        headers: XML,
        body: aclBody({ href: principal(carol), grant: ['read', 'write'] }),
      });
      assert.equal(res.status, 200);
      const write = await propfind(f.alice, writeProxy, '<d:group-member-set/>');
      assert.deepEqual(hrefsIn(write.text, 'd:group-member-set'), [principal(carol)]);
      const read = await propfind(f.alice, readProxy, '<d:group-member-set/>');
      assert.deepEqual(hrefsIn(read.text, 'd:group-member-set'), []);
      // Bob lost his delegation with the new ACL; Carol writes
      assert.equal((await as(f.bob, 'GET', `${home}default/plan.ics`)).status, 403);
      const put = await as(carol, 'PUT', `${home}default/carol.ics`, {
        headers: ICS,
        body: event('carol', 'x'),
      });
      assert.equal(put.status, 201);
    });

    it('ends the delegation when the owner empties the groups', async () => {
      assert.equal((await setMembers(f.alice, writeProxy, [])).status, 207);
      assert.equal((await as(carol, 'GET', `${home}default/plan.ics`)).status, 403);
      const mine = await propfind(carol, principal(carol), '<d:group-membership/>');
      assert.deepEqual(hrefsIn(mine.text, 'd:group-membership'), [principal(team)]);
    });
  });
});
