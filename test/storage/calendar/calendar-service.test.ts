import assert from 'node:assert/strict';
import { MemoryStore } from '../../../src/storage/backends/memory-store.ts';
import { CalendarService } from '../../../src/storage/calendar/calendar-service.ts';
import type { CompFilter } from '../../../src/storage/calendar/calendar-filter.ts';
import { LocalChangeBus } from '../../../src/storage/local-change-bus.ts';
import { MemoryBlobStore } from '../../../src/storage/memory-blob-store.ts';
import { Storage } from '../../../src/storage/storage.ts';

const HOUR = 3_600_000;
const NOW = Date.UTC(2026, 5, 1);
const ICS = { contentType: 'text/calendar' };

function event(uid: string, start: string, summary = uid): Uint8Array {
  return Buffer.from(
    [
      'BEGIN:VCALENDAR',
      'VERSION:2.0',
      'PRODID:-//test//EN',
      'BEGIN:VEVENT',
      `UID:${uid}`,
      'DTSTAMP:20260101T000000Z',
      `DTSTART:${start}`,
      'DURATION:PT1H',
      `SUMMARY:${summary}`,
      'END:VEVENT',
      'END:VCALENDAR',
      '',
    ].join('\r\n'),
  );
}

function range(start: number, end: number): CompFilter {
  return {
    name: 'VCALENDAR',
    isNotDefined: false,
    props: [],
    comps: [
      { name: 'VEVENT', isNotDefined: false, timeRange: { start, end }, props: [], comps: [] },
    ],
  };
}

const at = (h: number): number => Date.UTC(2026, 5, 1, h);

describe('CalendarService with its member cache', () => {
  // Two services on one store: two nodes of a cluster, each with its own cache
  const storage = new Storage({
    store: new MemoryStore(),
    blobs: new MemoryBlobStore(),
    bus: new LocalChangeBus(),
  });
  const a = new CalendarService({ storage, now: () => NOW });
  const b = new CalendarService({ storage, now: () => NOW });
  const names = async (svc: CalendarService, start: number, end: number) =>
    (await svc.query(7, 'work', range(start, end))).map((m) => m.resource.name);

  before(async () => {
    await a.createCalendar(7, 'work', new Map());
    await a.createCalendar(7, 'home', new Map());
  });

  it('sees writes made through the other service, and only current members', async () => {
    await a.put(7, 'work', 'one.ics', event('one', '20260601T100000Z'), ICS);
    await a.put(7, 'work', 'two.ics', event('two', '20260601T120000Z'), ICS);
    assert.deepEqual(await names(b, at(9), at(13)), ['one.ics', 'two.ics']);
    assert.deepEqual(
      (await b.store.listResources(7, 'work')).map((r) => r.name),
      ['one.ics', 'two.ics'],
    );
    // Moved, removed, added: b catches up from the change log
    await a.put(7, 'work', 'one.ics', event('one', '20260601T150000Z'), ICS);
    await a.remove(7, 'work', 'two.ics');
    await a.put(7, 'work', 'three.ics', event('three', '20260601T100000Z'), ICS);
    await a.put(7, 'home', 'elsewhere.ics', event('else', '20260601T100000Z'), ICS);
    assert.deepEqual(await names(b, at(9), at(13)), ['three.ics']);
    assert.deepEqual(await names(b, at(15), at(16)), ['one.ics']);
    const listed = await b.store.listResources(7, 'work');
    assert.deepEqual(
      listed.map((r) => r.name),
      ['one.ics', 'three.ics'],
    );
    const one = listed[0];
    assert.ok(one);
    assert.match(await b.store.text(one), /DTSTART:20260601T150000Z/);
  });

  it('starts over for a calendar removed and made again', async () => {
    assert.deepEqual(await names(b, at(9), at(16)), ['one.ics', 'three.ics']);
    await a.store.removeCollection(7, 'work');
    await a.createCalendar(7, 'work', new Map());
    await a.put(7, 'work', 'new.ics', event('new', '20260601T100000Z'), ICS);
    assert.deepEqual(await names(b, at(9), at(16)), ['new.ics']);
    assert.deepEqual(
      (await b.store.listResources(7, 'work')).map((r) => r.name),
      ['new.ics'],
    );
  });

  it('answers free-busy from the same members', async () => {
    const busy = await b.freeBusy(7, 'work', { start: at(0), end: at(24) });
    assert.deepEqual(busy, [{ start: at(10), end: at(10) + HOUR, busy: 0 }]);
  });
});
