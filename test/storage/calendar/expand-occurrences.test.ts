import assert from 'node:assert/strict';
import ICAL from 'ical.js';
import {
  CalendarDataError,
  parseICalendar,
} from '../../../src/storage/calendar/calendar-object.ts';
import {
  expandOccurrences,
  msOf,
  timezoneOf,
  usesFloating,
} from '../../../src/storage/calendar/expand-occurrences.ts';
import { buildOccurrenceIndex } from '../../../src/storage/calendar/occurrence-index.ts';

type Component = InstanceType<typeof ICAL.Component>;

const BERLIN = [
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
];

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 10, 30);
const WINDOW = { now: NOW, back: 366 * DAY, ahead: 2 * 366 * DAY, maxInstances: 10_000 };

function calendar(...events: string[][]): Component {
  const lines = ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//test//EN', ...BERLIN];
  for (const props of events) {
    lines.push('BEGIN:VEVENT', 'UID:u', 'DTSTAMP:20240101T000000Z', ...props, 'END:VEVENT');
  }
  lines.push('END:VCALENDAR', '');
  return parseICalendar(lines.join('\r\n'));
}

/** The instances [start, end] of ical.js's own iteration, every one worked out in full. */
function reference(root: Component, from: number, to: number): string[] {
  const items = root.getAllSubcomponents().filter((c) => c.name !== 'vtimezone');
  const master = items.find((c) => !c.hasProperty('recurrence-id')) as Component;
  const event = new ICAL.Event(master, {
    strictExceptions: true,
    exceptions: items.filter((c) => c !== master),
  });
  const it = event.iterator();
  const out: string[] = [];
  for (let next = it.next(); next && msOf(next) < to + 5 * DAY; next = it.next()) {
    const d = event.getOccurrenceDetails(next);
    const s = msOf(d.startDate);
    const e = Math.max(s, msOf(d.endDate));
    if (s === e ? from <= s && to > s : from < e && to > s) out.push(`${s}/${e}`);
  }
  return out.sort();
}

function ours(root: Component, from: number, to: number): string[] {
  return expandOccurrences(root, from, to)
    .map((o) => `${o.start}/${o.end}`)
    .sort();
}

function refused(root: Component): void {
  assert.throws(
    () => buildOccurrenceIndex(root, WINDOW),
    (err: unknown) => err instanceof CalendarDataError && err.condition === 'max-instances',
  );
}

describe('expandOccurrences', () => {
  const from = NOW - 366 * DAY;
  const to = NOW + 2 * 366 * DAY;
  // An override moved far into the window, and one keyed by its local time only
  const override = [
    'RECURRENCE-ID;TZID=Europe/Berlin:20240101T093000',
    'DTSTART:20261201T120000Z',
    'DURATION:PT1H',
  ];

  for (const [name, rule] of [
    ['hourly every 7 h in Berlin time', ['RRULE:FREQ=HOURLY;INTERVAL=7']],
    [
      'minutely/45 limited by hour and day',
      ['RRULE:FREQ=MINUTELY;INTERVAL=45;BYHOUR=9,10,11;BYDAY=MO,WE'],
    ],
    [
      'daily across DST with an EXDATE',
      ['RRULE:FREQ=DAILY', 'EXDATE;TZID=Europe/Berlin:20261201T093000'],
    ],
    ['hourly every 24 h across DST', ['RRULE:FREQ=HOURLY;INTERVAL=24']],
    ['every other week on Monday and Wednesday', ['RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE']],
    ['daily at two hours on weekdays', ['RRULE:FREQ=DAILY;BYHOUR=9,15;BYDAY=MO,TU,WE,TH,FR']],
  ] as const) {
    it(`steps over the past but gives ical.js's instances: ${name}`, () => {
      const root = calendar(
        [
          'DTSTART;TZID=Europe/Berlin:20240101T093000',
          'DTEND;TZID=Europe/Berlin:20240101T100000',
          ...rule,
        ],
        override,
      );
      const got = ours(root, from, to);
      assert.ok(got.length > 100, `${got.length} instances`);
      assert.deepEqual(got, reference(root, from, to));
      assert.ok(got.includes(`${Date.UTC(2026, 11, 1, 12)}/${Date.UTC(2026, 11, 1, 13)}`));
    });
  }

  it('steps over the past of all-day and UTC rules too', () => {
    for (const props of [
      ['DTSTART;VALUE=DATE:20200101', 'RRULE:FREQ=WEEKLY;BYDAY=TU,FR'],
      ['DTSTART:20200101T100000Z', 'DURATION:PT90M', 'RRULE:FREQ=DAILY;INTERVAL=3'],
      ['DTSTART:20200101T100000Z', 'DURATION:PT90M', 'RRULE:FREQ=DAILY;UNTIL=20261001T000000Z'],
    ]) {
      const root = calendar(props);
      const got = ours(root, from, to);
      assert.ok(got.length > 100, `${props.join(' ')}: ${got.length} instances`);
      assert.deepEqual(got, reference(root, from, to), props.join(' '));
    }
  });

  it('applies an override matched by local time to a floating rule, as ical.js does', () => {
    const root = calendar(
      ['DTSTART:20240101T093000', 'DURATION:PT20M', 'RRULE:FREQ=HOURLY;INTERVAL=3;BYHOUR=3,9,15'],
      override,
    );
    assert.deepEqual(ours(root, from, to), reference(root, from, to));
  });

  it('reads floating times and dates in the zone given, UTC otherwise', () => {
    const root = calendar(['DTSTART:20240701T090000', 'DTEND:20240701T100000']);
    const berlin = timezoneOf(['BEGIN:VCALENDAR', ...BERLIN, 'END:VCALENDAR'].join('\r\n'));
    const [utc] = expandOccurrences(root, 0, Date.UTC(2030, 0, 1));
    const [local] = expandOccurrences(root, 0, Date.UTC(2030, 0, 1), { floating: berlin });
    assert.equal(utc?.start, Date.UTC(2024, 6, 1, 9));
    assert.equal(local?.start, Date.UTC(2024, 6, 1, 7));
    assert.equal(local?.end, Date.UTC(2024, 6, 1, 8));
    // An all-day event on the day of the change to winter time lasts 25 hours there
    const day = calendar(['DTSTART;VALUE=DATE:20241027']);
    const [d] = expandOccurrences(day, 0, Date.UTC(2030, 0, 1), { floating: berlin });
    assert.equal(d?.start, Date.UTC(2024, 9, 26, 22));
    assert.equal(d?.end, Date.UTC(2024, 9, 27, 23));
    assert.equal(usesFloating(root), true);
    assert.equal(usesFloating(day), true);
    assert.equal(usesFloating(calendar(['DTSTART:20240701T090000Z'])), false);
  });

  it('refuses a time zone text without a VTIMEZONE', () => {
    assert.throws(() => timezoneOf('BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n'), CalendarDataError);
    assert.throws(() => timezoneOf('not a calendar'), CalendarDataError);
  });
});

describe('buildOccurrenceIndex bounds', () => {
  it('refuses endless sub-daily rules with too many instances, with or without BYxxx parts', () => {
    for (const rule of [
      'RRULE:FREQ=HOURLY',
      'RRULE:FREQ=SECONDLY',
      'RRULE:FREQ=MINUTELY;INTERVAL=5',
      'RRULE:FREQ=HOURLY;BYMINUTE=0,30',
      'RRULE:FREQ=MINUTELY;BYHOUR=9',
      'RRULE:FREQ=SECONDLY;BYHOUR=9;BYMINUTE=0',
    ]) {
      refused(calendar(['DTSTART:20240101T100000Z', rule]));
      refused(calendar(['DTSTART:19900101T100000Z', rule]));
    }
  });

  it('accepts sparse sub-daily rules and endless daily ones, indexing every instance', () => {
    const office = buildOccurrenceIndex(
      calendar([
        'DTSTART;TZID=Europe/Berlin:20240101T090000',
        'DURATION:PT30M',
        'RRULE:FREQ=MINUTELY;INTERVAL=30;BYHOUR=9,10;BYDAY=MO',
      ]),
      WINDOW,
    );
    // 4 a week over the 3-year window
    assert.ok(office.occ.length > 600 && office.occ.length < 640, `${office.occ.length}`);
    assert.equal(office.span[1], 8.64e15);
    const daily = buildOccurrenceIndex(
      calendar(['DTSTART:19900101T100000Z', 'DURATION:PT1H', 'RRULE:FREQ=DAILY']),
      WINDOW,
    );
    assert.ok(daily.occ.length >= 1097 && daily.occ.length <= 1099, `${daily.occ.length}`);
    assert.equal(daily.span[0], Date.UTC(1990, 0, 1, 10));
    assert.equal(daily.f, 0);
  });

  it('keeps a finite rule that ended before the window by its span', () => {
    const index = buildOccurrenceIndex(
      calendar([
        'DTSTART:20200101T100000Z',
        'DURATION:PT1H',
        'RRULE:FREQ=HOURLY;UNTIL=20200201T000000Z',
      ]),
      WINDOW,
    );
    assert.deepEqual(index.occ, []);
    assert.equal(index.span[0], Date.UTC(2020, 0, 1, 10));
    assert.ok(index.span[1] >= Date.UTC(2020, 0, 31, 23) + 3_600_000);
  });
});
