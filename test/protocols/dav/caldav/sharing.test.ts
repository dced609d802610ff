import assert from 'node:assert/strict';
import { DAVClient, type DAVCalendar } from 'tsdav';
import { runAdminCommand } from '../../../../src/storage/admin/admin-registry.ts';
import { aclBody } from '../acl-body.ts';
import { principalPath, startDavFixture, type DavFixture, type DavUser } from '../dav-fixture.ts';

const XML = { 'content-type': 'application/xml; charset=utf-8' };
const ICS = { 'content-type': 'text/calendar; charset=utf-8' };

function event(uid: string, summary: string): string {
  return [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'PRODID:-//test//EN',
    'BEGIN:VEVENT',
    `UID:${uid}`,
    'DTSTAMP:20240101T000000Z',
    'DTSTART:20240301T100000Z',
    'DTEND:20240301T110000Z',
    `SUMMARY:${summary}`,
    'END:VEVENT',
    'END:VCALENDAR',
    '',
  ].join('\r\n');
}

function hrefsOf(xml: string): string[] {
  return [...xml.matchAll(/<d:href>([^<]+)<\/d:href>/g)].map((m) => decodeURIComponent(m[1] ?? ''));
}

describe('CalDAV sharing (ACL grants, shares in the sharee home)', function () {
  this.timeout(60_000);
  let f: DavFixture;
  let carol: DavUser;
  let team: { id: number; address: string };
  let work: string;
  let mount: string;
  let bobClient: DAVClient;

  const principal = principalPath;
  const as = (
    who: DavUser | null,
    method: string,
    path: string,
    opts: { body?: string; headers?: Record<string, string> } = {},
  ) => f.request(method, path, { ...opts, as: who });
  const propfind = async (who: DavUser, path: string, props: string, depth = '0') => {
    const res = await as(who, 'PROPFIND', path, {
      headers: { ...XML, depth },
      body: `<d:propfind xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav" xmlns:cs="http://calendarserver.org/ns/"><d:prop>${props}</d:prop></d:propfind>`,
    });
    return { status: res.status, text: await res.text() };
  };
  const acl = (who: DavUser, path: string, body: string) =>
    as(who, 'ACL', path, { headers: XML, body });

  before(async () => {
    f = await startDavFixture();
    const c = await f.core.directory.createPrincipal({
      address: 'carol@example.test',
      password: 'carol-secret-pw',
      displayName: 'Carol',
    });
    carol = { id: c.id, address: c.address, password: 'carol-secret-pw' };
    const t = await f.core.directory.createPrincipal({
      address: 'team@example.test',
      kind: 'group',
      displayName: 'Team',
    });
    team = { id: t.id, address: t.address };
    await f.core.directory.addMember(t.id, c.id);
    work = `/dav/calendars/${f.alice.address}/work/`;
    mount = `/dav/calendars/${f.bob.address}/${f.alice.address}-work/`;
    const made = await f.request('MKCALENDAR', work, {
      headers: XML,
      body: `<c:mkcalendar xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:set><d:prop><d:displayname>Alice Work</d:displayname></d:prop></d:set></c:mkcalendar>`,
    });
    assert.equal(made.status, 201);
    const put = await f.request('PUT', `${work}kickoff.ics`, {
      headers: ICS,
      body: event('kickoff', 'Kickoff'),
    });
    assert.equal(put.status, 201);
    bobClient = new DAVClient({
      serverUrl: `${f.base}/.well-known/caldav`,
      credentials: { username: f.bob.address, password: f.bob.password },
      authMethod: 'Basic',
      defaultAccountType: 'caldav',
    });
    await bobClient.login();
  });
  after(async () => {
    await f.close();
  });

  const bobsCalendars = async (): Promise<DAVCalendar[]> => bobClient.fetchCalendars();

  describe('without a grant', () => {
    it('keeps the sharee out, whether the path exists or not', async () => {
      for (const path of [work, `${work}kickoff.ics`, `${work}missing.ics`]) {
        const res = await as(f.bob, 'GET', path);
        assert.equal(res.status, 403, path);
      }
      assert.equal((await propfind(f.bob, work, '<d:displayname/>')).status, 403);
      const put = await as(f.bob, 'PUT', `${work}planted.ics`, {
        headers: ICS,
        body: event('planted', 'x'),
      });
      assert.equal(put.status, 403);
      assert.equal((await as(f.bob, 'DELETE', `${work}kickoff.ics`)).status, 403);
      assert.equal((await as(f.bob, 'GET', mount)).status, 404);
      const names = (await bobsCalendars()).map((c) => new URL(c.url).pathname);
      assert.ok(!names.some((n) => n.includes(f.alice.address)), names.join(','));
    });

    it('lets only the owner change the ACL', async () => {
      const res = await acl(f.bob, work, aclBody({ href: principal(f.bob), grant: ['read'] }));
      assert.equal(res.status, 403);
      assert.equal((await as(f.bob, 'GET', `${work}kickoff.ics`)).status, 403);
    });
  });

  describe('read-only share', () => {
    before(async () => {
      const res = await acl(f.alice, work, aclBody({ href: principal(f.bob), grant: ['read'] }));
      assert.equal(res.status, 200);
    });

    it('shows the grant in DAV:acl and the owner entry as protected', async () => {
      const { status, text } = await propfind(f.alice, work, '<d:acl/>');
      assert.equal(status, 207);
      assert.match(
        text,
        new RegExp(`${f.bob.address}/</d:href></d:principal><d:grant><d:privilege><d:read/>`),
      );
      assert.match(text, /<d:all\/><\/d:privilege><\/d:grant><d:protected\/>/);
      assert.doesNotMatch(text, /<d:write\/>/);
    });

    it('appears in the sharee home as a calendar with the owner name and properties', async () => {
      const shared = (await bobsCalendars()).find((c) => new URL(c.url).pathname === mount);
      assert.ok(shared, 'the share is listed in the home');
      assert.equal(shared.displayName, 'Alice Work');
      const { text } = await propfind(
        f.bob,
        mount,
        '<d:resourcetype/><d:owner/><cs:shared-url/><cs:invite/><d:current-user-privilege-set/>',
      );
      assert.match(text, /<cs:shared[ /][^>]*>/);
      assert.match(
        text,
        new RegExp(`<d:owner><d:href>/dav/principals/${f.alice.address}/</d:href>`),
      );
      assert.match(text, new RegExp(`<cs:shared-url[^>]*><d:href>${work}</d:href>`));
      assert.match(text, /<cs:organizer>.*Alice.*<\/cs:organizer>/);
      assert.match(text, /<cs:user>.*<cs:access><cs:read\/><\/cs:access>/);
      assert.match(text, /<d:privilege><d:read\/><\/d:privilege>/);
      assert.doesNotMatch(text, /<d:privilege><d:write(-content)?\/>/);
    });

    it('reads through the share and through the owner URL', async () => {
      const shared = (await bobsCalendars()).find((c) => new URL(c.url).pathname === mount);
      assert.ok(shared);
      const objects = await bobClient.fetchCalendarObjects({ calendar: shared });
      assert.deepEqual(
        objects.map((o) => new URL(o.url, f.base).pathname),
        [`${mount}kickoff.ics`],
      );
      assert.match(String(objects[0]?.data), /SUMMARY:Kickoff/);
      const direct = await as(f.bob, 'GET', `${work}kickoff.ics`);
      assert.equal(direct.status, 200);
      assert.equal(direct.headers.get('etag'), objects[0]?.etag);
      const query = await as(f.bob, 'REPORT', mount, {
        headers: { ...XML, depth: '1' },
        body: `<c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><d:getetag/></d:prop><c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT"><c:time-range start="20240301T000000Z" end="20240302T000000Z"/></c:comp-filter></c:comp-filter></c:filter></c:calendar-query>`,
      });
      assert.equal(query.status, 207);
      assert.deepEqual(hrefsOf(await query.text()), [`${mount}kickoff.ics`]);
    });

    it('refuses writes: PUT, DELETE, PROPPATCH, through either URL', async () => {
      for (const base of [mount, work]) {
        const put = await as(f.bob, 'PUT', `${base}new.ics`, {
          headers: ICS,
          body: event(`new-${base.length}`, 'x'),
        });
        assert.equal(put.status, 403, base);
        const replace = await as(f.bob, 'PUT', `${base}kickoff.ics`, {
          headers: ICS,
          body: event('kickoff', 'Hijacked'),
        });
        assert.equal(replace.status, 403, base);
        assert.equal((await as(f.bob, 'DELETE', `${base}kickoff.ics`)).status, 403, base);
        const patch = await as(f.bob, 'PROPPATCH', base, {
          headers: XML,
          body: `<d:propertyupdate xmlns:d="DAV:"><d:set><d:prop><d:displayname>Mine</d:displayname></d:prop></d:set></d:propertyupdate>`,
        });
        assert.equal(patch.status, 403, base);
      }
      const get = await f.request('GET', `${work}kickoff.ics`);
      assert.match(await get.text(), /SUMMARY:Kickoff/);
    });

    it('gives nothing beyond the shared collection', async () => {
      const home = `/dav/calendars/${f.alice.address}/`;
      assert.equal((await propfind(f.bob, home, '<d:displayname/>', '1')).status, 403);
      assert.equal((await propfind(f.bob, `${home}default/`, '<d:displayname/>')).status, 403);
      assert.equal((await propfind(carol, mount, '<d:displayname/>')).status, 403);
      assert.equal((await as(carol, 'GET', `${work}kickoff.ics`)).status, 403);
      const mkcal = await as(f.bob, 'MKCALENDAR', `${home}bobs/`);
      assert.equal(mkcal.status, 403);
    });
  });

  describe('read-write share', () => {
    before(async () => {
      const res = await acl(
        f.alice,
        work,
        aclBody({ href: principal(f.bob), grant: ['read', 'write'] }),
      );
      assert.equal(res.status, 200);
    });

    it('lets the sharee create, change and delete, visible to the owner', async () => {
      const shared = (await bobsCalendars()).find((c) => new URL(c.url).pathname === mount);
      assert.ok(shared);
      const created = await bobClient.createCalendarObject({
        calendar: shared,
        filename: 'review.ics',
        iCalString: event('review', 'Review'),
      });
      assert.equal(created.status, 201);
      const seen = await f.request('GET', `${work}review.ics`);
      assert.equal(seen.status, 200);
      assert.match(await seen.text(), /SUMMARY:Review/);
      assert.equal(seen.headers.get('etag'), created.headers.get('etag'));
      // The owner changes it; the sharee reads the change
      const changed = await f.request('PUT', `${work}review.ics`, {
        headers: ICS,
        body: event('review', 'Review moved'),
      });
      assert.equal(changed.status, 204);
      assert.match(await (await as(f.bob, 'GET', `${mount}review.ics`)).text(), /Review moved/);
      // UIDs stay unique across both views of the one calendar
      const dup = await as(f.bob, 'PUT', `${mount}dup.ics`, {
        headers: ICS,
        body: event('review', 'Duplicate'),
      });
      assert.equal(dup.status, 403);
      assert.match(await dup.text(), /no-uid-conflict/);
      assert.equal((await as(f.bob, 'DELETE', `${mount}review.ics`)).status, 204);
      assert.equal((await f.request('GET', `${work}review.ics`)).status, 404);
    });

    it('keeps one ctag and sync token for both views, and syncs through the share', async () => {
      const props = '<cs:getctag/><d:sync-token/>';
      const owner = await propfind(f.alice, work, props);
      const sharee = await propfind(f.bob, mount, props);
      const tag = (t: string) => /<cs:getctag[^>]*>([^<]+)</.exec(t)?.[1];
      assert.ok(tag(owner.text));
      assert.equal(tag(owner.text), tag(sharee.text));
      const token = /<d:sync-token>([^<]+)</.exec(sharee.text)?.[1] ?? '';
      // The owner adds one, the sharee sees it (under the share's URL) in sync-collection
      await f.request('PUT', `${work}standup.ics`, {
        headers: ICS,
        body: event('standup', 'Standup'),
      });
      const sync = await as(f.bob, 'REPORT', mount, {
        headers: XML,
        body: `<d:sync-collection xmlns:d="DAV:"><d:sync-token>${token}</d:sync-token><d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>`,
      });
      assert.equal(sync.status, 207);
      const text = await sync.text();
      assert.ok(hrefsOf(text).includes(`${mount}standup.ics`), text);
      assert.notEqual(tag((await propfind(f.bob, mount, props)).text), tag(sharee.text));
      // The sharee removes it, the owner's sync reports it gone
      const ownerToken = /<d:sync-token>([^<]+)</.exec(
        (await propfind(f.alice, work, props)).text,
      )?.[1];
      assert.equal((await as(f.bob, 'DELETE', `${mount}standup.ics`)).status, 204);
      const ownerSync = await f.request('REPORT', work, {
        headers: XML,
        body: `<d:sync-collection xmlns:d="DAV:"><d:sync-token>${ownerToken}</d:sync-token><d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>`,
      });
      const ownerText = await ownerSync.text();
      assert.match(ownerText, new RegExp(`${work}standup.ics</d:href><d:status>HTTP/1.1 404`));
    });

    it('moves events between the share and the sharee own calendar', async () => {
      const own = `/dav/calendars/${f.bob.address}/default/`;
      await f.request('PUT', `${work}moving.ics`, {
        headers: ICS,
        body: event('moving', 'Moving'),
      });
      const move = await as(f.bob, 'MOVE', `${mount}moving.ics`, {
        headers: { destination: `${f.base}${own}moving.ics` },
      });
      assert.equal(move.status, 201);
      assert.equal((await f.request('GET', `${work}moving.ics`)).status, 404);
      assert.match(await (await as(f.bob, 'GET', `${own}moving.ics`)).text(), /SUMMARY:Moving/);
      // A move that cannot land (UID taken at the destination) leaves the source alone
      await f.request('PUT', `${work}twin.ics`, { headers: ICS, body: event('moving', 'Twin') });
      const clash = await as(f.bob, 'MOVE', `${mount}twin.ics`, {
        headers: { destination: `${f.base}${own}twin.ics` },
      });
      assert.equal(clash.status, 403);
      assert.equal((await f.request('GET', `${work}twin.ics`)).status, 200);
      assert.equal((await f.request('DELETE', `${work}twin.ics`)).status, 204);
    });

    it('keeps the source of a failed move between same-named calendars', async () => {
      const aliceDefault = `/dav/calendars/${f.alice.address}/default/`;
      const shareOfDefault = `/dav/calendars/${f.bob.address}/${f.alice.address}-default/`;
      const bobDefault = `/dav/calendars/${f.bob.address}/default/`;
      const granted = await acl(
        f.alice,
        aliceDefault,
        aclBody({ href: principal(f.bob), grant: ['read', 'write'] }),
      );
      assert.equal(granted.status, 200);
      await f.request('PUT', `${aliceDefault}same.ics`, {
        headers: ICS,
        body: event('same-uid', 'Alice copy'),
      });
      await as(f.bob, 'PUT', `${bobDefault}mine.ics`, {
        headers: ICS,
        body: event('same-uid', 'Bob copy'),
      });
      const move = await as(f.bob, 'MOVE', `${shareOfDefault}same.ics`, {
        headers: { destination: `${f.base}${bobDefault}same.ics` },
      });
      assert.equal(move.status, 403);
      assert.match(await (await f.request('GET', `${aliceDefault}same.ics`)).text(), /Alice copy/);
      assert.equal((await acl(f.alice, aliceDefault, aclBody())).status, 200);
    });

    it('still keeps the sharee from changing the ACL', async () => {
      const res = await acl(f.bob, work, aclBody({ href: principal(carol), grant: ['read'] }));
      assert.equal(res.status, 403);
      assert.equal((await acl(f.bob, mount, aclBody())).status, 403);
    });
  });

  describe('group grants', () => {
    it('shows the share to every member of the group', async () => {
      const res = await acl(
        f.alice,
        work,
        aclBody(
          { href: principal(f.bob), grant: ['read', 'write'] },
          { href: principal(team), grant: ['read'] },
        ),
      );
      assert.equal(res.status, 200);
      const carolMount = `/dav/calendars/${carol.address}/${f.alice.address}-work/`;
      const listing = await propfind(
        carol,
        `/dav/calendars/${carol.address}/`,
        '<d:resourcetype/>',
        '1',
      );
      assert.ok(hrefsOf(listing.text).includes(carolMount), listing.text);
      assert.equal((await as(carol, 'GET', `${carolMount}kickoff.ics`)).status, 200);
      const put = await as(carol, 'PUT', `${carolMount}x.ics`, {
        headers: ICS,
        body: event('carol-x', 'x'),
      });
      assert.equal(put.status, 403);
      // A share that comes through a group cannot be declined by one member
      assert.equal((await as(carol, 'DELETE', carolMount)).status, 403);
      // Leaving the group ends it
      await f.core.directory.removeMember(team.id, carol.id);
      assert.equal((await as(carol, 'GET', `${carolMount}kickoff.ics`)).status, 404);
      assert.equal((await as(carol, 'GET', `${work}kickoff.ics`)).status, 403);
      await f.core.directory.addMember(team.id, carol.id);
    });
  });

  describe('revoking and declining', () => {
    it('removes the share when the owner revokes it', async () => {
      const res = await acl(f.alice, work, aclBody({ href: principal(team), grant: ['read'] }));
      assert.equal(res.status, 200);
      assert.equal((await as(f.bob, 'GET', `${mount}kickoff.ics`)).status, 404);
      assert.equal((await as(f.bob, 'GET', `${work}kickoff.ics`)).status, 403);
      const names = (await bobsCalendars()).map((c) => new URL(c.url).pathname);
      assert.ok(!names.includes(mount), names.join(','));
    });

    it('lets a sharee decline a share by deleting it, leaving the owner data alone', async () => {
      await acl(f.alice, work, aclBody({ href: principal(f.bob), grant: ['read'] }));
      assert.equal((await as(f.bob, 'GET', `${mount}kickoff.ics`)).status, 200);
      assert.equal((await as(f.bob, 'DELETE', mount)).status, 204);
      assert.equal((await as(f.bob, 'GET', mount)).status, 404);
      assert.equal((await f.request('GET', `${work}kickoff.ics`)).status, 200);
      const { text } = await propfind(f.alice, work, '<d:acl/>');
      assert.ok(!text.includes(`${f.bob.address}/`), text);
    });

    it('drops the shares with a deleted collection', async () => {
      await f.request('MKCALENDAR', `/dav/calendars/${f.alice.address}/temp/`);
      await acl(
        f.alice,
        `/dav/calendars/${f.alice.address}/temp/`,
        aclBody({ href: principal(f.bob), grant: ['read'] }),
      );
      const tempMount = `/dav/calendars/${f.bob.address}/${f.alice.address}-temp/`;
      assert.equal((await propfind(f.bob, tempMount, '<d:displayname/>')).status, 207);
      assert.equal(
        (await f.request('DELETE', `/dav/calendars/${f.alice.address}/temp/`)).status,
        204,
      );
      await f.request('MKCALENDAR', `/dav/calendars/${f.alice.address}/temp/`);
      assert.equal((await propfind(f.bob, tempMount, '<d:displayname/>')).status, 404);
      assert.equal(
        (await propfind(f.bob, `/dav/calendars/${f.alice.address}/temp/`, '<d:displayname/>'))
          .status,
        403,
      );
    });
  });

  describe('the ACL method', () => {
    const refused = async (body: string, condition: string, path = work) => {
      const res = await acl(f.alice, path, body);
      assert.equal(res.status, 403, condition);
      assert.match(await res.text(), new RegExp(condition));
    };

    it('refuses what it cannot store (RFC 3744 §8.1.3 preconditions)', async () => {
      await refused(aclBody({ href: principal(f.bob), grant: ['read'], deny: true }), 'grant-only');
      await refused(
        aclBody({ href: '/dav/principals/nobody@example.test/', grant: ['read'] }),
        'recognized-principal',
      );
      await refused(aclBody({ href: principal(f.bob), grant: ['all'] }), 'not-supported-privilege');
      await refused(
        aclBody({ href: principal(f.bob), grant: ['write'] }),
        'not-supported-privilege',
      );
      await refused(
        aclBody({ href: principal(f.bob), grant: ['write-acl'] }),
        'not-supported-privilege',
      );
      await refused(
        aclBody({ href: principal(f.alice), grant: ['read'] }),
        'no-protected-ace-conflict',
      );
      await refused(
        `<d:acl xmlns:d="DAV:"><d:ace><d:principal><d:all/></d:principal><d:grant><d:privilege><d:read/></d:privilege></d:grant></d:ace></d:acl>`,
        'allowed-principal',
      );
      await refused(
        `<d:acl xmlns:d="DAV:"><d:ace><d:invert><d:principal><d:href>${principal(f.bob)}</d:href></d:principal></d:invert><d:grant><d:privilege><d:read/></d:privilege></d:grant></d:ace></d:acl>`,
        'no-invert',
      );
      const bad = await acl(f.alice, work, '<d:propfind xmlns:d="DAV:"/>');
      assert.equal(bad.status, 400);
      const onObject = await acl(f.alice, `${work}kickoff.ics`, aclBody());
      assert.equal(onObject.status, 403);
      // Nothing was changed by the refused requests
      assert.equal((await as(f.bob, 'GET', `${work}kickoff.ics`)).status, 403);
    });

    it('accepts the owner entry restated and grants read for read-current-user-privilege-set', async () => {
      const res = await acl(
        f.alice,
        work,
        aclBody(
          { href: principal(f.alice), grant: ['all'] },
          {
            href: `${f.base}${principal(f.bob)}`,
            grant: ['read', 'read-current-user-privilege-set'],
          },
        ),
      );
      assert.equal(res.status, 200);
      assert.equal((await as(f.bob, 'GET', `${work}kickoff.ics`)).status, 200);
      assert.equal((await acl(f.alice, work, aclBody())).status, 200);
      assert.equal((await as(f.bob, 'GET', `${work}kickoff.ics`)).status, 403);
    });

    it('is advertised on calendars but not on file trees', async () => {
      const opt = await f.request('OPTIONS', work);
      assert.match(opt.headers.get('allow') ?? '', /\bACL\b/);
      const files = await f.request('ACL', `/dav/files/${f.alice.address}/`, {
        headers: XML,
        body: aclBody(),
      });
      assert.equal(files.status, 405);
    });
  });

  describe('sharing by POST (CalendarServer CS:share, DAV:share-resource)', () => {
    const post = (who: DavUser, path: string, body: string) =>
      as(who, 'POST', path, { headers: XML, body });
    const csShare = (inner: string) =>
      `<?xml version="1.0"?><cs:share xmlns:d="DAV:" xmlns:cs="http://calendarserver.org/ns/">${inner}</cs:share>`;

    it('advertises that the owner may share', async () => {
      const { text } = await propfind(f.alice, work, '<cs:allowed-sharing-modes/>');
      assert.match(text, /<cs:can-be-shared\/>/);
    });

    it('shares and unshares with CS:share as Apple Calendar sends it', async () => {
      const res = await post(
        f.alice,
        work,
        csShare(
          `<cs:set><d:href>mailto:${f.bob.address}</d:href><cs:common-name>Bob</cs:common-name><cs:summary>Work</cs:summary><cs:read-write/></cs:set>`,
        ),
      );
      assert.equal(res.status, 200);
      const put = await as(f.bob, 'PUT', `${mount}posted.ics`, {
        headers: ICS,
        body: event('posted', 'Posted'),
      });
      assert.equal(put.status, 201);
      const { text } = await propfind(f.alice, work, '<cs:invite/>');
      assert.match(text, /<cs:user><d:href>[^<]*bob@example.test\/<\/d:href>.*<cs:read-write\/>/);
      const removed = await post(
        f.alice,
        work,
        csShare(`<cs:remove><d:href>mailto:${f.bob.address}</d:href></cs:remove>`),
      );
      assert.equal(removed.status, 200);
      assert.equal((await as(f.bob, 'GET', `${mount}posted.ics`)).status, 404);
    });

    it('shares with DAV:share-resource, by principal URL', async () => {
      const body = (access: string) =>
        `<?xml version="1.0"?><d:share-resource xmlns:d="DAV:"><d:sharee><d:href>${principal(f.bob)}</d:href><d:share-access><d:${access}/></d:share-access></d:sharee></d:share-resource>`;
      assert.equal((await post(f.alice, work, body('read'))).status, 200);
      assert.equal((await as(f.bob, 'GET', `${mount}posted.ics`)).status, 200);
      const put = await as(f.bob, 'PUT', `${mount}nope.ics`, {
        headers: ICS,
        body: event('nope', 'x'),
      });
      assert.equal(put.status, 403);
      assert.equal((await post(f.alice, work, body('no-access'))).status, 200);
      assert.equal((await as(f.bob, 'GET', `${mount}posted.ics`)).status, 404);
    });

    it('refuses sharees it does not know and non-owners, changing nothing', async () => {
      const res = await post(
        f.alice,
        work,
        csShare(
          `<cs:set><d:href>mailto:${f.bob.address}</d:href><cs:read/></cs:set><cs:set><d:href>mailto:nobody@example.test</d:href><cs:read/></cs:set>`,
        ),
      );
      assert.equal(res.status, 403);
      assert.equal((await as(f.bob, 'GET', `${work}posted.ics`)).status, 403);
      const byBob = await post(
        f.bob,
        work,
        csShare(`<cs:set><d:href>mailto:${f.bob.address}</d:href><cs:read/></cs:set>`),
      );
      assert.equal(byBob.status, 403);
      assert.equal((await post(f.alice, work, '<d:propfind xmlns:d="DAV:"/>')).status, 400);
      assert.equal((await post(f.alice, `${work}posted.ics`, csShare(''))).status, 405);
    });
  });

  describe('admin command', () => {
    const run = (name: string, args: unknown) =>
      runAdminCommand({ directory: f.core.directory, storage: f.core.storage }, name, args);

    it('shares, lists and unshares like the ACL method', async () => {
      const added = (await run('share.add', {
        owner: f.alice.address,
        collection: 'work',
        sharee: f.bob.address,
        write: true,
      })) as { share: { collection: string; access: string } };
      assert.deepEqual(added.share, {
        owner: f.alice.address,
        collection: 'calendars/work',
        sharee: f.bob.address,
        access: 'read-write',
      });
      const put = await as(f.bob, 'PUT', `${mount}from-admin.ics`, {
        headers: ICS,
        body: event('from-admin', 'x'),
      });
      assert.equal(put.status, 201);
      const listed = (await run('share.list', { owner: f.alice.address })) as {
        shares: { collection: string; sharee: string; access: string }[];
      };
      assert.deepEqual(listed.shares, [
        {
          owner: f.alice.address,
          collection: 'calendars/work',
          sharee: f.bob.address,
          access: 'read-write',
        },
      ]);
      await run('share.remove', {
        owner: f.alice.address,
        collection: 'calendars/work',
        sharee: f.bob.address,
      });
      assert.equal((await as(f.bob, 'GET', `${mount}from-admin.ics`)).status, 404);
      assert.deepEqual(
        ((await run('share.list', { owner: f.alice.address })) as { shares: unknown[] }).shares,
        [],
      );
      await assert.rejects(
        run('share.add', {
          owner: f.alice.address,
          collection: 'missing',
          sharee: f.bob.address,
          write: false,
        }),
        /no such collection/,
      );
      await assert.rejects(
        run('share.add', {
          owner: f.alice.address,
          collection: 'work',
          sharee: 'nobody@example.test',
          write: false,
        }),
        /no such principal/,
      );
    });
  });
});
