import assert from 'node:assert/strict';
import { startDavFixture, type DavFixture } from '../dav-fixture.ts';

const XML = { 'content-type': 'application/xml; charset=utf-8' };
const ICS = { 'content-type': 'text/calendar; charset=utf-8' };

const BERLIN = [
  'BEGIN:VCALENDAR',
  'VERSION:2.0',
  'PRODID:-//test//EN',
  'BEGIN:VTIMEZONE',
  'TZID:Europe/Berlin',
  'BEGIN:DAYLIGHT',
  'TZOFFSETFROM:+0100',
  'TZOFFSETTO:+0200',
  'DTSTART:19700329T020000',
  'RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU',
  'END:DAYLIGHT',
  'BEGIN:STANDARD',
  'TZOFFSETFROM:+0200',
  'TZOFFSETTO:+0100',
  'DTSTART:19701025T030000',
  'RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU',
  'END:STANDARD',
  'END:VTIMEZONE',
  'END:VCALENDAR',
  '',
].join('\r\n');

const TOKYO = [
  'BEGIN:VCALENDAR',
  'VERSION:2.0',
  'PRODID:-//test//EN',
  'BEGIN:VTIMEZONE',
  'TZID:Asia/Tokyo',
  'BEGIN:STANDARD',
  'TZOFFSETFROM:+0900',
  'TZOFFSETTO:+0900',
  'DTSTART:19700101T000000',
  'END:STANDARD',
  'END:VTIMEZONE',
  'END:VCALENDAR',
  '',
].join('\r\n');

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/\r/g, '&#13;');
}

function event(uid: string, ...props: string[]): string {
  return [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'PRODID:-//test//EN',
    'BEGIN:VEVENT',
    `UID:${uid}`,
    'DTSTAMP:20240101T000000Z',
    ...props,
    'END:VEVENT',
    'END:VCALENDAR',
    '',
  ].join('\r\n');
}

function names(xml: string): string[] {
  return [...xml.matchAll(/<d:href>([^<]+)<\/d:href>/g)]
    .map((m) => decodeURIComponent(m[1] ?? ''))
    .map((h) => h.slice(h.lastIndexOf('/') + 1))
    .sort();
}

function rangeQuery(start: string, end: string, timezone?: string): string {
  return `<?xml version="1.0"?><c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><d:getetag/></d:prop><c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT"><c:time-range start="${start}" end="${end}"/></c:comp-filter></c:comp-filter></c:filter>${timezone === undefined ? '' : `<c:timezone>${escape(timezone)}</c:timezone>`}</c:calendar-query>`;
}

describe('CalDAV floating time in the calendar time zone (RFC 4791 §9.9)', function () {
  this.timeout(60_000);
  let f: DavFixture;
  let home: string;

  const report = async (path: string, body: string) => {
    const res = await f.request('REPORT', path, { body, headers: { ...XML, depth: '1' } });
    return { status: res.status, text: await res.text() };
  };
  const found = async (cal: string, start: string, end: string, timezone?: string) => {
    const res = await report(cal, rangeQuery(start, end, timezone));
    assert.equal(res.status, 207, res.text);
    return names(res.text);
  };

  before(async () => {
    f = await startDavFixture();
    home = `/dav/calendars/${f.alice.address}/`;
    const made = await f.request('MKCALENDAR', `${home}berlin/`, {
      headers: XML,
      body: `<?xml version="1.0"?><c:mkcalendar xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:set><d:prop><c:calendar-timezone>${escape(BERLIN)}</c:calendar-timezone></d:prop></d:set></c:mkcalendar>`,
    });
    assert.equal(made.status, 201);
    for (const cal of ['berlin', 'default']) {
      for (const [name, body] of [
        ['floating.ics', event('floating', 'DTSTART:20240701T090000', 'DTEND:20240701T100000')],
        ['allday.ics', event('allday', 'DTSTART;VALUE=DATE:20240601')],
        ['utc.ics', event('utc', 'DTSTART:20240701T120000Z', 'DTEND:20240701T130000Z')],
        [
          'weekly.ics',
          event('weekly', 'DTSTART:20240101T180000', 'DURATION:PT1H', 'RRULE:FREQ=WEEKLY;COUNT=60'),
        ],
      ] as const) {
        const res = await f.request('PUT', `${home}${cal}/${name}`, { body, headers: ICS });
        assert.equal(res.status, 201, `${cal}/${name}: ${await res.text()}`);
      }
    }
  });
  after(async () => {
    await f.close();
  });

  it('matches a floating event in the calendar-timezone of its calendar', async () => {
    const berlin = `${home}berlin/`;
    // 09:00 floating in Berlin summer time is 07:00Z
    assert.deepEqual(await found(berlin, '20240701T070000Z', '20240701T073000Z'), ['floating.ics']);
    assert.deepEqual(await found(berlin, '20240701T093000Z', '20240701T094000Z'), []);
    // UTC times are not moved
    assert.deepEqual(await found(berlin, '20240701T120000Z', '20240701T123000Z'), ['utc.ics']);
    // A weekly floating rule: 18:00 Berlin is 17:00Z in winter, 16:00Z in summer
    assert.deepEqual(await found(berlin, '20240108T170000Z', '20240108T173000Z'), ['weekly.ics']);
    assert.deepEqual(await found(berlin, '20240108T180000Z', '20240108T183000Z'), []);
    assert.deepEqual(await found(berlin, '20240610T160000Z', '20240610T163000Z'), ['weekly.ics']);
  });

  it('expands floating instances in the zone (calendar-query and calendar-multiget)', async () => {
    const berlin = `${home}berlin/`;
    const expand =
      '<c:calendar-data><c:expand start="20240108T000000Z" end="20240109T000000Z"/></c:calendar-data>';
    const query = `<?xml version="1.0"?><c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop>${expand}</d:prop><c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT"><c:time-range start="20240108T000000Z" end="20240109T000000Z"/></c:comp-filter></c:comp-filter></c:filter></c:calendar-query>`;
    const res = await report(berlin, query);
    assert.equal(res.status, 207, res.text);
    // 18:00 floating in Berlin winter time is 17:00Z, the RECURRENCE-ID likewise
    assert.match(res.text, /DTSTART:20240108T170000Z/);
    assert.match(res.text, /RECURRENCE-ID:20240108T170000Z/);
    assert.doesNotMatch(res.text, /DTSTART:20240108T180000Z/);
    const summer =
      '<c:calendar-data><c:expand start="20240701T000000Z" end="20240702T000000Z"/></c:calendar-data>';
    const multiget = `<?xml version="1.0"?><c:calendar-multiget xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop>${summer}</d:prop><d:href>${berlin}floating.ics</d:href></c:calendar-multiget>`;
    const got = await report(berlin, multiget);
    assert.equal(got.status, 207, got.text);
    // 09:00 floating in Berlin summer time is 07:00Z
    assert.match(got.text, /DTSTART:20240701T070000Z/);
    const plain = await report(
      `${home}default/`,
      multiget
        .replace(berlin, `${home}default/`)
        .replace(`${berlin}floating`, `${home}default/floating`),
    );
    assert.match(plain.text, /DTSTART:20240701T090000Z/, 'no zone: floating read as UTC');
  });

  it('takes an all-day event as the whole day in that zone', async () => {
    const berlin = `${home}berlin/`;
    assert.deepEqual(await found(berlin, '20240531T223000Z', '20240531T230000Z'), ['allday.ics']);
    assert.deepEqual(await found(berlin, '20240601T223000Z', '20240601T230000Z'), []);
  });

  it('falls back to UTC in a calendar without a time zone', async () => {
    const cal = `${home}default/`;
    assert.deepEqual(await found(cal, '20240701T093000Z', '20240701T094000Z'), ['floating.ics']);
    assert.deepEqual(await found(cal, '20240701T070000Z', '20240701T073000Z'), []);
    assert.deepEqual(await found(cal, '20240601T223000Z', '20240601T230000Z'), ['allday.ics']);
  });

  it("uses the query's CALDAV:timezone over the calendar's", async () => {
    // 09:00 floating in Tokyo is 00:00Z
    assert.deepEqual(await found(`${home}berlin/`, '20240701T000000Z', '20240701T003000Z', TOKYO), [
      'floating.ics',
    ]);
    assert.deepEqual(
      await found(`${home}default/`, '20240701T000000Z', '20240701T003000Z', TOKYO),
      ['floating.ics'],
    );
    const bad = await report(
      `${home}berlin/`,
      rangeQuery('20240701T000000Z', '20240701T003000Z', 'not a calendar'),
    );
    assert.equal(bad.status, 403);
    assert.match(bad.text, /valid-calendar-data/);
  });

  it('follows a changed calendar-timezone, and free-busy reads floating times in it', async () => {
    const cal = `${home}moving/`;
    assert.equal((await f.request('MKCALENDAR', cal)).status, 201);
    const put = await f.request('PUT', `${cal}floating.ics`, {
      headers: ICS,
      body: event('floating', 'DTSTART:20240701T090000', 'DTEND:20240701T100000'),
    });
    assert.equal(put.status, 201);
    assert.deepEqual(await found(cal, '20240701T090000Z', '20240701T093000Z'), ['floating.ics']);
    const patched = await f.request('PROPPATCH', cal, {
      headers: XML,
      body: `<?xml version="1.0"?><d:propertyupdate xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:set><d:prop><c:calendar-timezone>${escape(TOKYO)}</c:calendar-timezone></d:prop></d:set></d:propertyupdate>`,
    });
    assert.equal(patched.status, 207);
    assert.deepEqual(await found(cal, '20240701T090000Z', '20240701T093000Z'), []);
    assert.deepEqual(await found(cal, '20240701T000000Z', '20240701T003000Z'), ['floating.ics']);
    const fb = await f.request('REPORT', cal, {
      headers: { ...XML, depth: '1' },
      body: '<?xml version="1.0"?><c:free-busy-query xmlns:c="urn:ietf:params:xml:ns:caldav"><c:time-range start="20240630T000000Z" end="20240702T000000Z"/></c:free-busy-query>',
    });
    assert.equal(fb.status, 200);
    assert.match(await fb.text(), /FREEBUSY:20240701T000000Z\/20240701T010000Z/);
  });
});

describe('CalDAV dense endless rules (RFC 4791 §5.3.2.1 max-instances)', function () {
  this.timeout(60_000);
  let f: DavFixture;
  let cal: string;

  before(async () => {
    f = await startDavFixture();
    cal = `/dav/calendars/${f.alice.address}/default/`;
  });
  after(async () => {
    await f.close();
  });

  for (const rule of [
    'FREQ=SECONDLY',
    'FREQ=HOURLY',
    'FREQ=MINUTELY;BYHOUR=9',
    'FREQ=HOURLY;BYMINUTE=0,15,30,45',
  ]) {
    it(`refuses ${rule} without end with max-instances, storing nothing`, async () => {
      const name = `${rule.replace(/[^A-Z0-9]+/gi, '-')}.ics`;
      const before = await f.request('PROPFIND', cal, { headers: { ...XML, depth: '1' } });
      const count = (await before.text()).split('</d:response>').length;
      const res = await f.request('PUT', `${cal}${name}`, {
        headers: ICS,
        body: event(name, 'DTSTART:20200101T100000Z', 'DURATION:PT5M', `RRULE:${rule}`),
      });
      assert.equal(res.status, 403);
      assert.match(await res.text(), /<cal:max-instances [^>]*\/>/);
      assert.equal((await f.request('GET', `${cal}${name}`)).status, 404);
      const after = await f.request('PROPFIND', cal, { headers: { ...XML, depth: '1' } });
      assert.equal((await after.text()).split('</d:response>').length, count);
    });
  }

  it('stores a sparse sub-daily rule and finds its instances', async () => {
    const res = await f.request('PUT', `${cal}office.ics`, {
      headers: ICS,
      body: event(
        'office',
        'DTSTART:20200106T090000Z',
        'DURATION:PT15M',
        'RRULE:FREQ=MINUTELY;INTERVAL=30;BYHOUR=9,10;BYDAY=MO',
      ),
    });
    assert.equal(res.status, 201);
    const query = async (s: string, e: string) => {
      const r = await f.request('REPORT', cal, {
        headers: { ...XML, depth: '1' },
        body: rangeQuery(s, e),
      });
      return names(await r.text());
    };
    // Monday 2026-11-30 10:30Z is an instance; 11:00Z is not, nor Tuesday
    assert.deepEqual(await query('20261130T103000Z', '20261130T104000Z'), ['office.ics']);
    assert.deepEqual(await query('20261130T110000Z', '20261130T120000Z'), []);
    assert.deepEqual(await query('20261201T090000Z', '20261201T120000Z'), []);
  });
});
