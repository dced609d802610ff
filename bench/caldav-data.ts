/**
 * The data and request bodies of the CalDAV/CardDAV benchmark (bench/caldav.ts), made
 * deterministically so Commune and Radicale get the same calendar, address book and requests.
 * (No default export: bench/run.ts skips this file.)
 *
 * The calendar: events spread over a year around an anchor day (hourly starts), of which 1 in
 * 100 weekly for 20 weeks, 1 in 100 weekly without end, 1 in 1,000 daily without end, 1 in 25
 * in Europe/Berlin time with its VTIMEZONE, 1 in 25 all-day; the rest in UTC.
 */

import { prng } from './bench-support.ts';

export const DAY_MS = 86_400_000;
/** Days the single events are spread over, centred on the anchor. */
export const SPREAD_DAYS = 360;

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

const WORDS = [
  'planning',
  'review',
  'standup',
  'lunch',
  'budget',
  'design',
  'retro',
  'interview',
  'dentist',
  'training',
  'release',
  'workshop',
];
const FIRST = ['Ada', 'Bob', 'Chen', 'Dana', 'Emil', 'Fatima', 'Gus', 'Hana', 'Ivo', 'Jun'];
const LAST = Array.from({ length: 50 }, (_, i) => `Family${String(i).padStart(2, '0')}`);

/** Start of the current UTC day: the anchor the calendar is spread around. */
export function anchorDay(now = Date.now()): number {
  return Math.floor(now / DAY_MS) * DAY_MS;
}

function utc(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

function localDate(ms: number): string {
  return utc(ms).slice(0, 8);
}

/** Resource name of event i. */
export function eventName(i: number): string {
  return `ev-${String(i).padStart(5, '0')}.ics`;
}

/** Resource name of contact i. */
export function cardName(i: number): string {
  return `card-${String(i).padStart(5, '0')}.vcf`;
}

/** The iCalendar text of event i (`rev` > 0 gives a changed version of it). */
export function eventText(i: number, anchor: number, rev = 0): string {
  const rnd = prng(i * 7919 + 17);
  const start =
    anchor - (SPREAD_DAYS / 2) * DAY_MS + Math.floor(rnd() * SPREAD_DAYS * 24) * 3_600_000;
  const word = WORDS[i % WORDS.length] ?? 'meeting';
  const lines = [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'PRODID:-//Commune bench//EN',
    'CALSCALE:GREGORIAN',
  ];
  const berlin = i % 25 === 3;
  if (berlin) lines.push(...BERLIN);
  lines.push(
    'BEGIN:VEVENT',
    `UID:bench-event-${i}@example.test`,
    `DTSTAMP:${utc(anchor)}`,
    `SEQUENCE:${rev}`,
  );
  if (i % 25 === 5) {
    lines.push(
      `DTSTART;VALUE=DATE:${localDate(start)}`,
      `DTEND;VALUE=DATE:${localDate(start + DAY_MS)}`,
    );
  } else if (berlin) {
    const local = utc(start).slice(0, 15);
    const localEnd = utc(start + 3_600_000).slice(0, 15);
    lines.push(`DTSTART;TZID=Europe/Berlin:${local}`, `DTEND;TZID=Europe/Berlin:${localEnd}`);
  } else {
    lines.push(`DTSTART:${utc(start)}`, `DTEND:${utc(start + 3_600_000)}`);
  }
  if (i % 100 === 0) lines.push('RRULE:FREQ=WEEKLY;COUNT=20');
  else if (i % 100 === 50) lines.push('RRULE:FREQ=WEEKLY');
  else if (i % 1000 === 7) lines.push('RRULE:FREQ=DAILY');
  lines.push(
    `SUMMARY:${word} ${i}${rev > 0 ? ` (rev ${rev})` : ''}`,
    `LOCATION:Room ${1 + (i % 40)}`,
    `DESCRIPTION:Agenda for the ${word} meeting number ${i}\\, please bring notes.`,
    'END:VEVENT',
    'END:VCALENDAR',
    '',
  );
  return lines.join('\r\n');
}

/** The vCard 3.0 text of contact i. */
export function cardText(i: number): string {
  const first = FIRST[i % FIRST.length] ?? 'Ann';
  const last = LAST[Math.floor(i / FIRST.length) % LAST.length] ?? 'Doe';
  return [
    'BEGIN:VCARD',
    'VERSION:3.0',
    `UID:bench-card-${i}@example.test`,
    `FN:${first} ${last} ${i}`,
    `N:${last};${first};;;`,
    `EMAIL;TYPE=INTERNET:user${i}@example.test`,
    `TEL;TYPE=CELL:+1 555 ${String(i).padStart(7, '0')}`,
    `ORG:Company ${i % 30}`,
    'END:VCARD',
    '',
  ].join('\r\n');
}

/** The n-th family name that some of `contacts` cards carry (for addressbook-query). */
export function familyName(n: number, contacts: number): string {
  const used = Math.max(1, Math.min(LAST.length, Math.ceil(contacts / FIRST.length)));
  return LAST[n % used] ?? 'Family00';
}

const CALDAV_HEAD =
  '<?xml version="1.0" encoding="utf-8"?><c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">';

/** calendar-query: the VEVENTs overlapping [start, start + days), etags and optionally data. */
export function timeRangeQuery(start: number, days: number, withData: boolean): string {
  return `${CALDAV_HEAD}<d:prop><d:getetag/>${withData ? '<c:calendar-data/>' : ''}</d:prop><c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT"><c:time-range start="${utc(start)}" end="${utc(start + days * DAY_MS)}"/></c:comp-filter></c:comp-filter></c:filter></c:calendar-query>`;
}

export function calendarMultiget(hrefs: readonly string[]): string {
  return `<?xml version="1.0" encoding="utf-8"?><c:calendar-multiget xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><d:getetag/><c:calendar-data/></d:prop>${hrefs.map((h) => `<d:href>${h}</d:href>`).join('')}</c:calendar-multiget>`;
}

export function syncCollection(token: string): string {
  return `<?xml version="1.0" encoding="utf-8"?><d:sync-collection xmlns:d="DAV:"><d:sync-token>${token}</d:sync-token><d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>`;
}

export const PROPFIND_MEMBERS =
  '<?xml version="1.0" encoding="utf-8"?><d:propfind xmlns:d="DAV:"><d:prop><d:resourcetype/><d:getetag/><d:getcontenttype/></d:prop></d:propfind>';

export function addressbookQuery(family: string): string {
  return `<?xml version="1.0" encoding="utf-8"?><card:addressbook-query xmlns:d="DAV:" xmlns:card="urn:ietf:params:xml:ns:carddav"><d:prop><d:getetag/><card:address-data/></d:prop><card:filter><card:prop-filter name="FN"><card:text-match collation="i;unicode-casemap" match-type="contains">${family}</card:text-match></card:prop-filter></card:filter></card:addressbook-query>`;
}

export function addressbookMultiget(hrefs: readonly string[]): string {
  return `<?xml version="1.0" encoding="utf-8"?><card:addressbook-multiget xmlns:d="DAV:" xmlns:card="urn:ietf:params:xml:ns:carddav"><d:prop><d:getetag/><card:address-data/></d:prop>${hrefs.map((h) => `<d:href>${h}</d:href>`).join('')}</card:addressbook-multiget>`;
}

export const MKCALENDAR_BODY =
  '<?xml version="1.0" encoding="utf-8"?><c:mkcalendar xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:set><d:prop><d:displayname>Bench</d:displayname></d:prop></d:set></c:mkcalendar>';

export const MKADDRESSBOOK_BODY =
  '<?xml version="1.0" encoding="utf-8"?><d:mkcol xmlns:d="DAV:" xmlns:card="urn:ietf:params:xml:ns:carddav"><d:set><d:prop><d:resourcetype><d:collection/><card:addressbook/></d:resourcetype><d:displayname>Bench</d:displayname></d:prop></d:set></d:mkcol>';
