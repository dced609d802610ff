import assert from 'node:assert/strict';
import { DAVClient, type DAVCalendar } from 'tsdav';
import { startDavFixture, type DavFixture } from '../dav-fixture.ts';

const XML = { 'content-type': 'application/xml; charset=utf-8' };
const ICS = { 'content-type': 'text/calendar; charset=utf-8' };

const BERLIN = [
  'BEGIN:VTIMEZONE',
  'TZID:Europe/Berlin',
  'BEGIN:DAYLIGHT',
  'TZOFFSETFROM:+0100',
  'TZOFFSETTO:+0200',
  'TZNAME:CEST',
  'DTSTART:19700329T020000',
  'RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU',
  'END:DAYLIGHT',
  'BEGIN:STANDARD',
  'TZOFFSETFROM:+0200',
  'TZOFFSETTO:+0100',
  'TZNAME:CET',
  'DTSTART:19701025T030000',
  'RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU',
  'END:STANDARD',
  'END:VTIMEZONE',
];

function ical(...lines: string[]): string {
  return [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'PRODID:-//test//EN',
    ...lines,
    'END:VCALENDAR',
    '',
  ].join('\r\n');
}

function event(uid: string, ...props: string[]): string {
  return ical('BEGIN:VEVENT', `UID:${uid}`, 'DTSTAMP:20240101T000000Z', ...props, 'END:VEVENT');
}

function hrefsOf(xml: string): string[] {
  return [...xml.matchAll(/<d:href>([^<]+)<\/d:href>/g)].map((m) => decodeURIComponent(m[1] ?? ''));
}

function query(filter: string, data = '<c:calendar-data/>'): string {
  return `<?xml version="1.0"?><c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><d:getetag/>${data}</d:prop><c:filter><c:comp-filter name="VCALENDAR">${filter}</c:comp-filter></c:filter></c:calendar-query>`;
}

describe('CalDAV plugin (tsdav, in-process)', function () {
  this.timeout(60_000);
  let f: DavFixture;
  let client: DAVClient;
  let calendar: DAVCalendar;
  let cal: string;
  let work: string;

  before(async () => {
    f = await startDavFixture();
    client = new DAVClient({
      serverUrl: `${f.base}/.well-known/caldav`,
      credentials: { username: f.alice.address, password: f.alice.password },
      authMethod: 'Basic',
      defaultAccountType: 'caldav',
    });
    await client.login();
    cal = `/dav/calendars/${f.alice.address}/default/`;
    work = `/dav/calendars/${f.alice.address}/work/`;
  });
  after(async () => {
    await f.close();
  });

  const put = (name: string, body: string, headers: Record<string, string> = {}) =>
    f.request('PUT', `${cal}${name}`, { body, headers: { ...ICS, ...headers } });
  const report = async (path: string, body: string, depth = '1') => {
    const res = await f.request('REPORT', path, { body, headers: { ...XML, depth } });
    return { status: res.status, text: await res.text() };
  };

  describe('discovery and collections', () => {
    it('discovers the default calendar from /.well-known/caldav', async () => {
      const calendars = await client.fetchCalendars();
      assert.equal(calendars.length, 1);
      calendar = calendars[0] as DAVCalendar;
      assert.equal(new URL(calendar.url).pathname, cal);
      assert.deepEqual([...(calendar.components ?? [])].sort(), ['VEVENT', 'VTODO']);
      assert.ok(calendar.ctag);
    });

    it('advertises calendar-access and the calendar properties', async () => {
      const opt = await f.request('OPTIONS', cal);
      assert.match(opt.headers.get('dav') ?? '', /calendar-access/);
      assert.match(opt.headers.get('dav') ?? '', /addressbook/);
      const res = await f.request('PROPFIND', cal, {
        headers: { ...XML, depth: '0' },
        body: `<d:propfind xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav" xmlns:cs="http://calendarserver.org/ns/"><d:prop><d:resourcetype/><c:supported-calendar-data/><c:max-resource-size/><c:min-date-time/><c:max-date-time/><cs:getctag/><d:sync-token/><d:supported-report-set/></d:prop></d:propfind>`,
      });
      const text = await res.text();
      assert.equal(res.status, 207);
      assert.match(text, /<cal:calendar[ /]/);
      assert.match(text, /content-type="text\/calendar"/);
      assert.match(text, /<cal:max-resource-size[^>]*>\d+</);
      assert.match(text, /urn:commune:sync:\d+/);
      assert.match(text, /calendar-query/);
      assert.match(text, /calendar-multiget/);
      assert.match(text, /free-busy-query/);
      assert.match(text, /sync-collection/);
      assert.doesNotMatch(text, /404/);
    });

    it('makes calendars with MKCALENDAR and extended MKCOL, with properties', async () => {
      const res = await client.makeCalendar({
        url: `${f.base}/dav/calendars/${f.alice.address}/work/`,
        props: { displayname: 'Work', 'c:calendar-description': 'Job' } as never,
      });
      assert.ok(res.length >= 0);
      const mkcol = await f.request('MKCOL', `/dav/calendars/${f.alice.address}/tasks/`, {
        headers: XML,
        body: `<d:mkcol xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav" xmlns:a="http://apple.com/ns/ical/"><d:set><d:prop><d:resourcetype><d:collection/><c:calendar/></d:resourcetype><d:displayname>Tasks</d:displayname><a:calendar-color>#ff0000</a:calendar-color><c:supported-calendar-component-set><c:comp name="VTODO"/></c:supported-calendar-component-set></d:prop></d:set></d:mkcol>`,
      });
      assert.equal(mkcol.status, 201);
      const calendars = await client.fetchCalendars();
      const names = calendars.map((c) => String(c.displayName)).sort();
      assert.ok(names.includes('Tasks') && names.includes('Work'), names.join(','));
      const tasks = calendars.find((c) => c.displayName === 'Tasks');
      assert.deepEqual(tasks?.components, ['VTODO']);
      // A VEVENT is refused there
      const refused = await f.request('PUT', `/dav/calendars/${f.alice.address}/tasks/e.ics`, {
        headers: ICS,
        body: event('in-tasks', 'DTSTART:20240101T100000Z'),
      });
      assert.equal(refused.status, 403);
      assert.match(await refused.text(), /supported-calendar-component/);
      // A plain MKCOL in a calendar home is refused
      const plain = await f.request('MKCOL', `/dav/calendars/${f.alice.address}/plain/`);
      assert.equal(plain.status, 403);
    });

    it('PROPPATCHes calendar-color and calendar-description', async () => {
      const res = await f.request('PROPPATCH', cal, {
        headers: XML,
        body: `<d:propertyupdate xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav" xmlns:a="http://apple.com/ns/ical/"><d:set><d:prop><a:calendar-color>#00ff00</a:calendar-color><c:calendar-description>Mine</c:calendar-description><a:calendar-order>2</a:calendar-order></d:prop></d:set></d:propertyupdate>`,
      });
      assert.equal(res.status, 207);
      const get = await f.request('PROPFIND', cal, {
        headers: { ...XML, depth: '0' },
        body: `<d:propfind xmlns:d="DAV:" xmlns:a="http://apple.com/ns/ical/"><d:prop><a:calendar-color/></d:prop></d:propfind>`,
      });
      assert.match(await get.text(), /#00ff00/);
    });

    it('refuses other users', async () => {
      const res = await f.request('PROPFIND', cal, { as: f.bob, headers: { depth: '0' } });
      assert.equal(res.status, 403);
      const put = await f.request('PUT', `${cal}x.ics`, {
        as: f.bob,
        headers: ICS,
        body: event('bob', 'DTSTART:20240101T100000Z'),
      });
      assert.equal(put.status, 403);
    });
  });

  describe('objects: create, update, delete, sync', () => {
    let token = '';

    it('creates, reads, updates and deletes through tsdav with ETags', async () => {
      const before = await client.syncCollection({
        url: calendar.url,
        props: { 'd:getetag': {} } as never,
        syncLevel: 1,
        syncToken: '',
      });
      assert.ok(Array.isArray(before));
      const created = await client.createCalendarObject({
        calendar,
        filename: 'meeting.ics',
        iCalString: event(
          'meeting-1',
          'DTSTART:20240110T100000Z',
          'DTEND:20240110T110000Z',
          'SUMMARY:Meeting',
          'BEGIN:VALARM',
          'ACTION:DISPLAY',
          'TRIGGER:-PT15M',
          'DESCRIPTION:Soon',
          'END:VALARM',
        ),
      });
      assert.equal(created.status, 201);
      const etag = created.headers.get('etag');
      assert.ok(etag);
      const objects = await client.fetchCalendarObjects({ calendar });
      const obj = objects.find((o) => o.url.endsWith('meeting.ics'));
      assert.ok(obj);
      assert.equal(obj.etag, etag);
      assert.match(String(obj.data), /BEGIN:VALARM[\s\S]*TRIGGER:-PT15M[\s\S]*END:VALARM/);
      const updated = await client.updateCalendarObject({
        calendarObject: {
          ...obj,
          data: String(obj.data).replace('SUMMARY:Meeting', 'SUMMARY:Moved'),
        },
      });
      assert.equal(updated.status, 204);
      assert.notEqual(updated.headers.get('etag'), etag);
      // A stale If-Match fails
      const stale = await put('meeting.ics', event('meeting-1', 'DTSTART:20240110T100000Z'), {
        'if-match': etag as string,
      });
      assert.equal(stale.status, 412);
      const get = await f.request('GET', `${cal}meeting.ics`);
      assert.match(await get.text(), /SUMMARY:Moved/);
    });

    it('reports changes with sync-collection, and deletions as 404', async () => {
      const initial = await report(
        cal,
        `<d:sync-collection xmlns:d="DAV:"><d:sync-token/><d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>`,
        '0',
      );
      assert.equal(initial.status, 207);
      token = /<d:sync-token>([^<]+)</.exec(initial.text)?.[1] ?? '';
      assert.match(token, /^urn:commune:sync:\d+$/);
      assert.ok(hrefsOf(initial.text).some((h) => h.endsWith('meeting.ics')));
      assert.equal(
        (await put('other.ics', event('other-1', 'DTSTART:20240111T100000Z'))).status,
        201,
      );
      assert.equal((await f.request('DELETE', `${cal}meeting.ics`)).status, 204);
      const delta = await report(
        cal,
        `<d:sync-collection xmlns:d="DAV:"><d:sync-token>${token}</d:sync-token><d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>`,
        '0',
      );
      assert.equal(delta.status, 207);
      assert.match(delta.text, /meeting\.ics<\/d:href><d:status>HTTP\/1.1 404/);
      assert.match(delta.text, /other\.ics/);
      const bad = await report(
        cal,
        `<d:sync-collection xmlns:d="DAV:"><d:sync-token>urn:bogus</d:sync-token><d:sync-level>1</d:sync-level><d:prop/></d:sync-collection>`,
        '0',
      );
      assert.equal(bad.status, 403);
      assert.match(bad.text, /valid-sync-token/);
    });

    it('tsdav smart sync sees the changes and getctag moves', async () => {
      const [fresh] = (await client.fetchCalendars()).filter((c) => c.url === calendar.url);
      assert.ok(fresh);
      assert.notEqual(fresh.ctag, calendar.ctag);
      const dirty = await client.isCollectionDirty({ collection: calendar });
      assert.equal(dirty.isDirty, true);
    });
  });

  describe('bad input: the RFC 4791 §5.3.2.1 preconditions, nothing stored', () => {
    const refused = async (
      name: string,
      body: string | Uint8Array,
      condition: RegExp,
      headers = ICS,
    ) => {
      const res = await f.request('PUT', `${cal}${name}`, { body, headers });
      assert.equal(res.status, 403, `${name}: ${res.status}`);
      assert.match(await res.text(), condition);
      assert.equal((await f.request('GET', `${cal}${name}`)).status, 404);
    };

    it('malformed iCalendar is valid-calendar-data', async () => {
      await refused('bad1.ics', 'BEGIN:VCALENDAR\r\nthis is not ical\r\n', /valid-calendar-data/);
      await refused('bad2.ics', 'hello', /valid-calendar-data/);
      await refused('bad3.ics', event('bad3', 'DTSTART:2024garbage'), /valid-calendar-data/);
    });

    it('two UIDs, METHOD or no UID is valid-calendar-object-resource', async () => {
      const two = ical(
        'BEGIN:VEVENT',
        'UID:a',
        'DTSTART:20240101T100000Z',
        'END:VEVENT',
        'BEGIN:VEVENT',
        'UID:b',
        'DTSTART:20240101T100000Z',
        'END:VEVENT',
      );
      await refused('two.ics', two, /valid-calendar-object-resource/);
      await refused(
        'method.ics',
        ical('METHOD:REQUEST', 'BEGIN:VEVENT', 'UID:m', 'DTSTART:20240101T100000Z', 'END:VEVENT'),
        /valid-calendar-object-resource/,
      );
      await refused(
        'nouid.ics',
        ical('BEGIN:VEVENT', 'DTSTART:20240101T100000Z', 'END:VEVENT'),
        /valid-calendar-object-resource/,
      );
    });

    it('a wrong media type is supported-calendar-data', async () => {
      await refused('text.ics', event('t', 'DTSTART:20240101T100000Z'), /supported-calendar-data/, {
        'content-type': 'text/plain',
      });
    });

    it('a 10 MB event is max-resource-size', async () => {
      const big = event(
        'big',
        'DTSTART:20240101T100000Z',
        `DESCRIPTION:${'x'.repeat(10 * 1024 * 1024)}`,
      );
      await refused('big.ics', big, /max-resource-size/);
    });

    it('an endless hourly rule (over 10,000 instances) is max-instances; endless daily is fine', async () => {
      await refused(
        'hourly.ics',
        event('hourly', 'DTSTART:20240101T100000Z', 'RRULE:FREQ=HOURLY'),
        /max-instances/,
      );
      await refused(
        'count.ics',
        event('count', 'DTSTART:20240101T100000Z', 'RRULE:FREQ=DAILY;COUNT=20000'),
        /max-instances/,
      );
      const daily = await f.request('PUT', `${work}daily.ics`, {
        headers: ICS,
        body: event('daily', 'DTSTART:20240101T100000Z', 'DURATION:PT30M', 'RRULE:FREQ=DAILY'),
      });
      assert.equal(daily.status, 201);
    });

    it('UID reuse in another resource is no-uid-conflict naming the holder', async () => {
      const res = await f.request('PUT', `${work}copy.ics`, {
        body: event('daily', 'DTSTART:20240101T100000Z'),
        headers: ICS,
      });
      assert.equal(res.status, 403);
      const text = await res.text();
      assert.match(text, /no-uid-conflict/);
      assert.match(text, /daily\.ics/);
      assert.equal((await f.request('GET', `${work}copy.ics`)).status, 404);
      // The same UID in another calendar is fine
      assert.equal(
        (await put('daily-copy.ics', event('daily', 'DTSTART:20200101T100000Z'))).status,
        201,
      );
      assert.equal((await f.request('DELETE', `${cal}daily-copy.ics`)).status, 204);
    });
  });

  describe('calendar-query', () => {
    before(async () => {
      // Weekly at 10:00 Berlin from 2024-03-04, across the DST change of 2024-03-31:
      // one instance moved, one excluded.
      const weekly = ical(
        ...BERLIN,
        'BEGIN:VEVENT',
        'UID:weekly',
        'DTSTAMP:20240101T000000Z',
        'DTSTART;TZID=Europe/Berlin:20240304T100000',
        'DTEND;TZID=Europe/Berlin:20240304T110000',
        'RRULE:FREQ=WEEKLY;UNTIL=20240430T000000Z',
        'EXDATE;TZID=Europe/Berlin:20240415T100000',
        'SUMMARY:Weekly sync',
        'END:VEVENT',
        'BEGIN:VEVENT',
        'UID:weekly',
        'DTSTAMP:20240101T000000Z',
        'RECURRENCE-ID;TZID=Europe/Berlin:20240408T100000',
        'DTSTART;TZID=Europe/Berlin:20240409T150000',
        'DTEND;TZID=Europe/Berlin:20240409T160000',
        'SUMMARY:Weekly sync (moved)',
        'END:VEVENT',
      );
      for (const [name, body] of [
        ['weekly.ics', weekly],
        [
          'allday.ics',
          event(
            'allday',
            'DTSTART;VALUE=DATE:20240601',
            'DTEND;VALUE=DATE:20240602',
            'SUMMARY:Holiday',
            'CATEGORIES:Fun,Rest',
          ),
        ],
        [
          'floating.ics',
          event(
            'floating',
            'DTSTART:20240701T090000',
            'DTEND:20240701T100000',
            'SUMMARY:Floating breakfast',
            'LOCATION:Café Übersee',
          ),
        ],
        [
          'rdate.ics',
          event(
            'rdate',
            'DTSTART:20240801T120000Z',
            'DURATION:PT1H',
            'RDATE:20240805T120000Z,20240810T120000Z',
            'SUMMARY:Lunch',
          ),
        ],
        [
          'count.ics',
          event(
            'counted',
            'DTSTART:20240901T080000Z',
            'DURATION:PT1H',
            'RRULE:FREQ=DAILY;COUNT=3',
            'SUMMARY:Three days',
            'TRANSP:TRANSPARENT',
          ),
        ],
        [
          'attendee.ics',
          event(
            'att',
            'DTSTART:20241001T080000Z',
            'DURATION:PT1H',
            'SUMMARY:Review',
            'ATTENDEE;PARTSTAT=ACCEPTED;CN=Bob:mailto:bob@example.test',
            'STATUS:TENTATIVE',
          ),
        ],
        [
          'todo.ics',
          ical(
            'BEGIN:VTODO',
            'UID:todo1',
            'DTSTAMP:20240101T000000Z',
            'SUMMARY:Buy milk',
            'DUE:20241005T120000Z',
            'STATUS:NEEDS-ACTION',
            'END:VTODO',
          ),
        ],
      ] as const) {
        const res = await put(name, body);
        assert.equal(res.status, 201, `${name}: ${await res.text()}`);
      }
    });

    const names = (xml: string) =>
      hrefsOf(xml)
        .map((h) => h.slice(h.lastIndexOf('/') + 1))
        .sort();

    it('finds weekly instances across DST in UTC, honours overrides and EXDATE', async () => {
      const tr = (s: string, e: string) =>
        query(
          `<c:comp-filter name="VEVENT"><c:time-range start="${s}" end="${e}"/></c:comp-filter>`,
        );
      // 2024-03-11 10:00 CET = 09:00Z; 2024-04-01 10:00 CEST = 08:00Z
      assert.deepEqual(
        names((await report(cal, tr('20240311T090000Z', '20240311T093000Z'))).text),
        ['weekly.ics'],
      );
      assert.deepEqual(
        names((await report(cal, tr('20240311T080000Z', '20240311T090000Z'))).text),
        [],
      );
      assert.deepEqual(
        names((await report(cal, tr('20240401T080000Z', '20240401T083000Z'))).text),
        ['weekly.ics'],
      );
      assert.deepEqual(
        names((await report(cal, tr('20240401T090000Z', '20240401T093000Z'))).text),
        [],
      );
      // Override moved 04-08 to 04-09 15:00 CEST = 13:00Z; EXDATE drops 04-15
      assert.deepEqual(
        names((await report(cal, tr('20240408T000000Z', '20240409T000000Z'))).text),
        [],
      );
      assert.deepEqual(
        names((await report(cal, tr('20240409T130000Z', '20240409T133000Z'))).text),
        ['weekly.ics'],
      );
      assert.deepEqual(
        names((await report(cal, tr('20240415T000000Z', '20240416T000000Z'))).text),
        [],
      );
      // UNTIL ends it
      assert.deepEqual(
        names((await report(cal, tr('20240506T000000Z', '20240507T000000Z'))).text),
        [],
      );
    });

    it('handles all-day, floating, RDATE and COUNT', async () => {
      const tr = async (s: string, e: string) =>
        names(
          (
            await report(
              cal,
              query(
                `<c:comp-filter name="VEVENT"><c:time-range start="${s}" end="${e}"/></c:comp-filter>`,
              ),
            )
          ).text,
        );
      assert.deepEqual(await tr('20240601T230000Z', '20240602T000000Z'), ['allday.ics']);
      assert.deepEqual(await tr('20240602T000000Z', '20240602T010000Z'), []);
      assert.deepEqual(await tr('20240701T093000Z', '20240701T094000Z'), ['floating.ics']);
      assert.deepEqual(await tr('20240805T120000Z', '20240805T123000Z'), ['rdate.ics']);
      assert.deepEqual(await tr('20240803T120000Z', '20240803T123000Z'), []);
      assert.deepEqual(await tr('20240903T080000Z', '20240903T083000Z'), ['count.ics']);
      assert.deepEqual(await tr('20240904T080000Z', '20240904T083000Z'), []);
      // An endless daily rule far beyond the index window is still found (expanded on demand)
      const far = await report(
        work,
        query(
          '<c:comp-filter name="VEVENT"><c:time-range start="20400101T100000Z" end="20400101T101000Z"/></c:comp-filter>',
        ),
      );
      assert.deepEqual(names(far.text), ['daily.ics']);
      const farMiss = await report(
        work,
        query(
          '<c:comp-filter name="VEVENT"><c:time-range start="20400101T110000Z" end="20400101T120000Z"/></c:comp-filter>',
        ),
      );
      assert.deepEqual(names(farMiss.text), []);
    });

    it('filters by component, properties, parameters and text-match collations', async () => {
      const q = async (filter: string) => names((await report(cal, query(filter))).text);
      assert.deepEqual(await q('<c:comp-filter name="VTODO"/>'), ['todo.ics']);
      assert.deepEqual(
        await q(
          '<c:comp-filter name="VEVENT"><c:prop-filter name="SUMMARY"><c:text-match collation="i;ascii-casemap">LUNCH</c:text-match></c:prop-filter></c:comp-filter>',
        ),
        ['rdate.ics'],
      );
      assert.deepEqual(
        await q(
          '<c:comp-filter name="VEVENT"><c:prop-filter name="SUMMARY"><c:text-match collation="i;octet">LUNCH</c:text-match></c:prop-filter></c:comp-filter>',
        ),
        [],
      );
      assert.deepEqual(
        await q(
          '<c:comp-filter name="VEVENT"><c:prop-filter name="LOCATION"><c:text-match collation="i;unicode-casemap">ÜBERSEE</c:text-match></c:prop-filter></c:comp-filter>',
        ),
        ['floating.ics'],
      );
      assert.deepEqual(
        await q(
          '<c:comp-filter name="VEVENT"><c:prop-filter name="ATTENDEE"><c:param-filter name="PARTSTAT"><c:text-match>ACCEPTED</c:text-match></c:param-filter></c:prop-filter></c:comp-filter>',
        ),
        ['attendee.ics'],
      );
      assert.deepEqual(
        await q(
          '<c:comp-filter name="VEVENT"><c:prop-filter name="CATEGORIES"><c:text-match>rest</c:text-match></c:prop-filter></c:comp-filter>',
        ),
        ['allday.ics'],
      );
      const withoutRrule = await q(
        '<c:comp-filter name="VEVENT"><c:prop-filter name="RRULE"><c:is-not-defined/></c:prop-filter></c:comp-filter>',
      );
      assert.ok(!withoutRrule.includes('daily.ics') && withoutRrule.includes('allday.ics'));
      assert.ok(
        (
          await q(
            '<c:comp-filter name="VEVENT"><c:prop-filter name="SUMMARY"><c:text-match negate-condition="yes">Lunch</c:text-match></c:prop-filter></c:comp-filter>',
          )
        ).includes('allday.ics'),
      );
      const bad = await report(
        cal,
        query(
          '<c:comp-filter name="VEVENT"><c:prop-filter name="SUMMARY"><c:text-match collation="i;klingon">x</c:text-match></c:prop-filter></c:comp-filter>',
        ),
      );
      assert.equal(bad.status, 403);
      assert.match(bad.text, /supported-collation/);
    });

    it('finds todos by time range and alarms by trigger', async () => {
      const q = async (filter: string) => names((await report(cal, query(filter))).text);
      assert.deepEqual(
        await q(
          '<c:comp-filter name="VTODO"><c:time-range start="20241005T000000Z" end="20241006T000000Z"/></c:comp-filter>',
        ),
        ['todo.ics'],
      );
      const put2 = await put(
        'alarm.ics',
        event(
          'alarm',
          'DTSTART:20241101T100000Z',
          'DURATION:PT1H',
          'BEGIN:VALARM',
          'ACTION:DISPLAY',
          'DESCRIPTION:x',
          'TRIGGER:-PT30M',
          'END:VALARM',
        ),
      );
      assert.equal(put2.status, 201);
      assert.deepEqual(
        await q(
          '<c:comp-filter name="VEVENT"><c:comp-filter name="VALARM"><c:time-range start="20241101T092500Z" end="20241101T093500Z"/></c:comp-filter></c:comp-filter>',
        ),
        ['alarm.ics'],
      );
    });

    it('expands recurring events into UTC instances and limits recurrence sets', async () => {
      const res = await report(
        cal,
        query(
          '<c:comp-filter name="VEVENT"><c:time-range start="20240401T000000Z" end="20240416T000000Z"/></c:comp-filter>',
          '<c:calendar-data><c:expand start="20240401T000000Z" end="20240416T000000Z"/></c:calendar-data>',
        ),
      );
      assert.equal(res.status, 207);
      const data = res.text.replace(/&#13;/g, '');
      assert.doesNotMatch(data, /RRULE|VTIMEZONE/);
      assert.match(data, /DTSTART:20240401T080000Z/);
      assert.match(data, /RECURRENCE-ID:20240408T080000Z/);
      assert.match(data, /DTSTART:20240409T130000Z/);
      assert.doesNotMatch(data, /20240415/);
      const objects = await client.fetchCalendarObjects({
        calendar,
        timeRange: { start: '2024-04-01T00:00:00Z', end: '2024-04-16T00:00:00Z' },
        expand: true,
      });
      assert.ok(objects.some((o) => /DTSTART:20240401T080000Z/.test(String(o.data))));
      const limited = await report(
        cal,
        query(
          '<c:comp-filter name="VEVENT"><c:time-range start="20240301T000000Z" end="20240320T000000Z"/></c:comp-filter>',
          '<c:calendar-data><c:limit-recurrence-set start="20240301T000000Z" end="20240320T000000Z"/></c:calendar-data>',
        ),
      );
      assert.match(limited.text, /RRULE/);
      assert.doesNotMatch(limited.text, /RECURRENCE-ID/);
    });

    it('returns only the selected components and properties', async () => {
      const res = await report(
        cal,
        query(
          '<c:comp-filter name="VTODO"/>',
          '<c:calendar-data><c:comp name="VCALENDAR"><c:prop name="VERSION"/><c:comp name="VTODO"><c:prop name="SUMMARY"/><c:prop name="UID"/></c:comp></c:comp></c:calendar-data>',
        ),
      );
      assert.match(res.text, /SUMMARY:Buy milk/);
      assert.doesNotMatch(res.text, /DUE:/);
      assert.doesNotMatch(res.text, /PRODID/);
    });
  });

  describe('calendar-multiget and free-busy-query', () => {
    it('returns named objects and 404 for unknown ones', async () => {
      const res = await client.calendarMultiGet({
        url: calendar.url,
        props: { 'd:getetag': {}, 'c:calendar-data': {} } as never,
        objectUrls: [`${cal}allday.ics`, `${cal}todo.ics`],
        depth: '1',
      });
      const found = res.find((r) => String(r.href).endsWith('allday.ics'));
      assert.match(JSON.stringify(found?.props), /Holiday/);
      assert.equal(res.length, 2);
      const raw = await report(
        cal,
        `<c:calendar-multiget xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><d:getetag/><c:calendar-data/></d:prop><d:href>${cal}allday.ics</d:href><d:href>${cal}missing.ics</d:href><d:href>/dav/calendars/${f.bob.address}/default/x.ics</d:href></c:calendar-multiget>`,
      );
      assert.equal(raw.status, 207);
      assert.match(raw.text, /missing\.ics<\/d:href><d:status>HTTP\/1.1 404/);
      assert.match(raw.text, /SUMMARY:Holiday/);
    });

    it('answers busy time from the index, skipping transparent events', async () => {
      const res = await report(
        cal,
        `<c:free-busy-query xmlns:c="urn:ietf:params:xml:ns:caldav"><c:time-range start="20240601T000000Z" end="20241002T000000Z"/></c:free-busy-query>`,
      );
      assert.equal(res.status, 200);
      assert.match(res.text, /BEGIN:VFREEBUSY/);
      assert.match(res.text, /FREEBUSY;FBTYPE=BUSY-TENTATIVE:20241001T080000Z\/20241001T090000Z/);
      assert.match(res.text, /FREEBUSY:20240601T000000Z\/20240602T000000Z/);
      assert.match(res.text, /FREEBUSY:20240805T120000Z\/20240805T130000Z/);
      assert.doesNotMatch(res.text, /20240901T080000Z/);
    });
  });
});
