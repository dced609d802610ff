/**
 * The calendar domain service (RFC 4791 semantics, written once for CalDAV and later JMAP and
 * scheduling): calendars per account (a default one made on first access), calendar object
 * resources validated on write (one UID per resource and per calendar, supported component
 * types, size and instance limits), an occurrence index for time-range queries and free-busy,
 * and per-calendar change lists for sync.
 */

import type ICAL from 'ical.js';
import { CommuneError } from '../../core/errors.ts';
import { mapLimited } from '../../core/map-limited.ts';
import { Subspace } from '../keys.ts';
import type { Storage } from '../storage.ts';
import {
  CalendarDataError,
  parseICalendar,
  validateCalendarObject,
  type BusyType,
} from './calendar-object.ts';
import { expandOccurrences, FLOATING_SLACK_MS, type Timezone } from './expand-occurrences.ts';
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
  /** The content when the query had to read it (else read it with `store.text`). */
  readonly text: string | undefined;
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
   * range leaves the index window or other filters need their content. `floating` is the
   * zone floating times and dates are read in (§9.9; UTC when undefined): objects that have
   * them are then looked up in the index with the range widened by the largest UTC offset,
   * and expanded in that zone.
   */
  async query(
    account: number,
    calendar: string,
    filter: CompFilter,
    floating?: Timezone,
  ): Promise<CalendarMatch[]> {
    const range = objectTimeRange(filter);
    const wanted = filter.comps[0]?.isNotDefined ? undefined : filter.comps[0]?.name.toUpperCase();
    const simple = isSimpleFilter(filter);
    const members = await this.store.members(account, calendar);
    const accept: Versioned<ResourceRecord>[] = [];
    const examine: Versioned<ResourceRecord>[] = [];
    if (range) {
      for (const [name, idx] of members.indexes as ReadonlyMap<string, StoredIndex>) {
        if (wanted !== undefined && idx.c !== wanted) continue;
        const hit = lookUp(idx, range, floating);
        if (hit === false) continue;
        const resource = members.resources.get(name);
        if (!resource) continue;
        if (hit === true && simple) accept.push(resource);
        else examine.push(resource);
      }
    } else {
      for (const r of members.sorted()) {
        if (simple && wanted !== undefined && r.record.component !== wanted) continue;
        if (simple && filter.comps.length > 0) accept.push(r);
        else examine.push(r);
      }
    }
    const examined = await mapLimited(examine, 8, async (resource) => {
      const text = await this.store.text(resource);
      return matchCalendar(parseICalendar(text), filter, floating) ? { resource, text } : undefined;
    });
    const out: CalendarMatch[] = accept.map((resource) => ({ resource, text: undefined }));
    for (const m of examined) if (m) out.push(m);
    out.sort((a, b) => (a.resource.name < b.resource.name ? -1 : 1));
    return out;
  }

  /**
   * Busy time of a calendar in a range (RFC 4791 §7.10), from the index where it can;
   * floating times and dates in `floating` (UTC when undefined).
   */
  async freeBusy(
    account: number,
    calendar: string,
    range: TimeRange,
    floating?: Timezone,
  ): Promise<BusyPeriod[]> {
    const out: BusyPeriod[] = [];
    const examine: Versioned<ResourceRecord>[] = [];
    const members = await this.store.members(account, calendar);
    for (const [name, idx] of members.indexes as ReadonlyMap<string, StoredIndex>) {
      if (idx.c !== 'VEVENT') continue;
      const hit = lookUp(idx, range, floating);
      if (hit === false) continue;
      if (hit === undefined) {
        const resource = members.resources.get(name);
        if (resource) examine.push(resource);
        continue;
      }
      for (const [s, e, busy] of idx.occ) {
        if (s < range.end && e > range.start && e > s) out.push({ start: s, end: e, busy });
      }
    }
    for (const resource of examine) {
      const root = parseICalendar(await this.store.text(resource));
      for (const o of expandOccurrences(root, range.start, range.end, { floating })) {
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

/**
 * What the index says about a range: true/false, or undefined when the object must be
 * expanded (the range leaves the window, or floating times meet a zone other than UTC).
 */
function lookUp(
  idx: StoredIndex,
  range: TimeRange,
  floating: Timezone | undefined,
): boolean | undefined {
  if (floating === undefined || idx.f === 0) return indexOverlaps(idx, range.start, range.end);
  const near = indexOverlaps(idx, range.start - FLOATING_SLACK_MS, range.end + FLOATING_SLACK_MS);
  return near === false ? false : undefined;
}

/** Parse a stored object (for reports that transform calendar-data). */
export function parseStored(text: string): Component {
  return parseICalendar(text);
}
