/**
 * The calendar domain service (RFC 4791 semantics, written once for CalDAV and later JMAP and
 * scheduling): calendars per account (a default one made on first access), calendar object
 * resources validated on write (one UID per resource and per calendar, supported component
 * types, size and instance limits), an occurrence index for time-range queries and free-busy,
 * and per-calendar change lists for sync.
 */

import type ICAL from 'ical.js';
import { CommuneError } from '../../core/errors.ts';
import { Subspace } from '../keys.ts';
import type { Storage } from '../storage.ts';
import {
  CalendarDataError,
  expandOccurrences,
  parseICalendar,
  validateCalendarObject,
  type BusyType,
} from './calendar-object.ts';
import {
  isSimpleFilter,
  matchCalendar,
  objectTimeRange,
  type CompFilter,
  type TimeRange,
} from './calendar-filter.ts';
import {
  CollectionStore,
  type CollectionRecord,
  type ResourceChange,
  type ResourceRecord,
  type Versioned,
} from './collection-store.ts';
import { buildOccurrenceIndex, indexOverlaps, type OccurrenceIndex } from './occurrence-index.ts';

type Component = InstanceType<typeof ICAL.Component>;

export const DEFAULT_CALENDAR = 'default';
export const DEFAULT_COMPONENTS: readonly string[] = ['VEVENT', 'VTODO'];

export interface CalendarLimits {
  /** Largest calendar object resource, bytes (RFC 4791 §5.2.5). */
  readonly maxResourceSize: number;
  /** Most instances of one recurrence set inside the index window (§5.2.8). */
  readonly maxInstances: number;
  /** How far back and ahead of now the occurrence index reaches, ms. */
  readonly indexBack: number;
  readonly indexAhead: number;
}

export const DEFAULT_CALENDAR_LIMITS: CalendarLimits = {
  maxResourceSize: 2 * 1024 * 1024,
  maxInstances: 10_000,
  indexBack: 366 * 86_400_000,
  indexAhead: 2 * 366 * 86_400_000,
};

/** The stored index of one object: occurrences plus its component type. */
interface StoredIndex extends OccurrenceIndex {
  readonly c: string;
}

export interface CalendarMatch {
  readonly resource: Versioned<ResourceRecord>;
  readonly text: string;
}

export interface BusyPeriod {
  readonly start: number;
  readonly end: number;
  readonly busy: BusyType;
}

export class CalendarService {
  readonly store: CollectionStore;
  readonly limits: CalendarLimits;
  readonly #now: () => number;

  constructor(options: { storage: Storage; limits?: Partial<CalendarLimits>; now?: () => number }) {
    this.#now = options.now ?? Date.now;
    this.store = new CollectionStore({
      storage: options.storage,
      subspace: Subspace.calendar,
      family: 'calendar',
      now: this.#now,
    });
    this.limits = { ...DEFAULT_CALENDAR_LIMITS, ...options.limits };
  }

  /** Make the default calendar the first time an account's home is used. */
  ensureHome(account: number): Promise<void> {
    return this.store.ensureHome(
      account,
      new Map([[DEFAULT_CALENDAR, { props: {}, components: DEFAULT_COMPONENTS }]]),
    );
  }

  calendars(account: number): Promise<Versioned<CollectionRecord>[]> {
    return this.store.listCollections(account);
  }

  calendar(account: number, name: string): Promise<Versioned<CollectionRecord> | undefined> {
    return this.store.getCollection(account, name);
  }

  /** MKCALENDAR (RFC 4791 §5.3.1): `components` empty means the default set. */
  createCalendar(
    account: number,
    name: string,
    props: ReadonlyMap<string, string>,
    components: readonly string[] = DEFAULT_COMPONENTS,
  ): Promise<Versioned<CollectionRecord>> {
    if (name === '' || name.includes('/')) {
      throw new CommuneError('invalid-argument', 'invalid calendar name');
    }
    return this.store.createCollection(account, name, {
      props: Object.fromEntries(props),
      components: components.length > 0 ? components : DEFAULT_COMPONENTS,
    });
  }

  /**
   * Store a calendar object resource after validating it (RFC 4791 §5.3.2.1). Throws
   * CalendarDataError with the precondition name, or UidConflictError.
   */
  async put(
    account: number,
    calendar: string,
    name: string,
    text: Uint8Array,
    options: {
      contentType: string;
      check?: (existing: Versioned<ResourceRecord> | undefined) => void;
    },
  ): Promise<{ resource: Versioned<ResourceRecord>; created: boolean }> {
    const mime = options.contentType.split(';')[0]?.trim().toLowerCase();
    if (mime !== 'text/calendar') {
      throw new CalendarDataError('supported-calendar-data', 'only text/calendar is stored here');
    }
    if (text.length > this.limits.maxResourceSize) {
      throw new CalendarDataError('max-resource-size', 'the calendar object is too large');
    }
    let source: string;
    try {
      source = new TextDecoder('utf-8', { fatal: true }).decode(text);
    } catch {
      throw new CalendarDataError('supported-calendar-data', 'calendar data must be UTF-8');
    }
    const col = await this.store.getCollection(account, calendar);
    if (!col) throw new CommuneError('conflict', 'the calendar does not exist');
    const parsed = validateCalendarObject(
      source,
      col.record.components ?? DEFAULT_COMPONENTS,
      this.limits.maxInstances,
    );
    const index = buildOccurrenceIndex(parsed.root, {
      now: this.#now(),
      back: this.limits.indexBack,
      ahead: this.limits.indexAhead,
      maxInstances: this.limits.maxInstances,
    });
    const stored: StoredIndex = { ...index, c: parsed.component };
    return this.store.putResource(account, calendar, name, {
      text,
      uid: parsed.uid,
      component: parsed.component,
      contentType: 'text/calendar; charset=utf-8',
      index: stored,
      ...(options.check ? { check: options.check } : {}),
    });
  }

  /**
   * calendar-query (RFC 4791 §7.8): the objects matching a filter. A time range on the
   * component level is answered from the occurrence index; objects are parsed only when the
   * range leaves the index window or other filters need their content.
   */
  async query(account: number, calendar: string, filter: CompFilter): Promise<CalendarMatch[]> {
    const range = objectTimeRange(filter);
    const wanted = filter.comps[0]?.isNotDefined ? undefined : filter.comps[0]?.name.toUpperCase();
    const simple = isSimpleFilter(filter);
    const accept: string[] = [];
    const examine: string[] = [];
    if (range) {
      for await (const [name, idx] of this.store.scanIndex<StoredIndex>(account, calendar)) {
        if (wanted !== undefined && idx.c !== wanted) continue;
        const hit = indexOverlaps(idx, range.start, range.end);
        if (hit === false) continue;
        if (hit === true && simple) accept.push(name);
        else examine.push(name);
      }
    } else {
      for (const r of await this.store.listResources(account, calendar)) {
        if (simple && wanted !== undefined && r.record.component !== wanted) continue;
        if (simple && filter.comps.length > 0) accept.push(r.name);
        else examine.push(r.name);
      }
    }
    const out: CalendarMatch[] = [];
    const resources = await this.store.getResources(account, calendar, [...accept, ...examine]);
    for (let i = 0; i < resources.length; i++) {
      const resource = resources[i];
      if (!resource) continue;
      const text = await this.store.text(resource);
      if (i >= accept.length && !matchCalendar(parseICalendar(text), filter)) continue;
      out.push({ resource, text });
    }
    out.sort((a, b) => (a.resource.name < b.resource.name ? -1 : 1));
    return out;
  }

  /** Busy time of a calendar in a range (RFC 4791 §7.10), from the index where it can. */
  async freeBusy(account: number, calendar: string, range: TimeRange): Promise<BusyPeriod[]> {
    const out: BusyPeriod[] = [];
    const examine: string[] = [];
    for await (const [name, idx] of this.store.scanIndex<StoredIndex>(account, calendar)) {
      if (idx.c !== 'VEVENT') continue;
      const hit = indexOverlaps(idx, range.start, range.end);
      if (hit === false) continue;
      if (hit === undefined) {
        examine.push(name);
        continue;
      }
      for (const [s, e, busy] of idx.occ) {
        if (s < range.end && e > range.start && e > s) out.push({ start: s, end: e, busy });
      }
    }
    for (const resource of await this.store.getResources(account, calendar, examine)) {
      if (!resource) continue;
      const root = parseICalendar(await this.store.text(resource));
      for (const o of expandOccurrences(root, range.start, range.end)) {
        if (o.end > o.start) out.push({ start: o.start, end: o.end, busy: o.busy });
      }
    }
    return out
      .filter((p) => p.busy !== 3)
      .map((p) => ({
        ...p,
        start: Math.max(p.start, range.start),
        end: Math.min(p.end, range.end),
      }))
      .sort((a, b) => a.start - b.start);
  }

  remove(
    account: number,
    calendar: string,
    name: string,
    check?: (existing: Versioned<ResourceRecord> | undefined) => void,
  ): Promise<void> {
    return this.store.removeResource(account, calendar, name, check);
  }

  changesSince(account: number, calendar: string, since: bigint): Promise<ResourceChange[]> {
    return this.store.changesSince(account, calendar, since);
  }
}

/** Parse a stored object (for reports that transform calendar-data). */
export function parseStored(text: string): Component {
  return parseICalendar(text);
}
