/**
 * Search (RFC 4511 §4.5): base, one-level, subtree and subordinate scopes over the directory
 * tree, every filter type through matchFilter, attribute selection (§4.5.1.8: a list of
 * descriptions, `*` for all user attributes, `+` for all operational ones (RFC 3673), `1.1`
 * for none), typesOnly, sizeLimit (sizeLimitExceeded after the entries so far) and timeLimit,
 * the simple paged results control (RFC 2696, cookies kept per connection) and server-side
 * sorting (RFC 2891).
 *
 * Equality items on indexed attributes (uid, mail, cn, ...) narrow the candidates through the
 * snapshot's index; every candidate is still checked against scope, access and the whole
 * filter, so the index only saves work. Entries stream out as they are found (waiting when
 * the socket is full) unless sorting or paging needs the whole result first.
 */

import { randomBytes } from 'node:crypto';
import { isBerError } from '../ber/ber-error.ts';
import type { PagedResults, SortKey, SortResult } from '../controls.ts';
import {
  ControlOid,
  decodePagedResults,
  decodeSortRequest,
  encodePagedResults,
  encodeSortResponse,
  SortResultCode,
} from '../controls.ts';
import type { LdapEntry, LdapSchema, TreeSnapshot } from '../directory-tree.ts';
import type { Filter } from '../filter.ts';
import { filterToString, matchFilter } from '../filter.ts';
import type { Control, PartialAttribute, SearchRequest, SearchScope } from '../messages.ts';
import { prepareCaseExact, prepareCaseIgnore } from '../string-prep.ts';
import { normalizeDn } from '../dn.ts';
import { ResultCode } from '../result-code.ts';
import type { LdapOperation, OperationContext, OperationResult, PagedSearch } from './operation.ts';
import { LdapError, canRead } from './operation.ts';
import { resolveEntry } from './resolve-entry.ts';

/** Scanned entries between checks of abandon and the time limit (and a turn of the loop). */
const CHECK_EVERY = 512;

export const searchOperation: LdapOperation<'searchRequest'> = {
  name: 'search',
  request: 'searchRequest',
  states: ['anonymous', 'bound'],
  controls: [ControlOid.pagedResults, ControlOid.sortRequest, ControlOid.manageDsaIT],
  tracked: true,
  logLevel: 'debug',
  async run(ctx) {
    const request = ctx.message.protocolOp;
    const { tree, settings } = ctx.server;
    ctx.note({
      base: request.baseObject,
      scope: request.scope,
      filter: filterToString(request.filter).slice(0, 200),
    });
    const paging = controlValue(ctx.message.controls, ControlOid.pagedResults, decodePagedResults);
    const sorting = controlValue(ctx.message.controls, ControlOid.sortRequest, decodeSortRequest);
    const timeLimit = lowest(request.timeLimit, settings.timeLimit);
    const deadline = timeLimit === 0 ? Infinity : Date.now() + timeLimit * 1000;
    const selection = parseSelection(request.attributes, tree.schema);

    // step: a paged search continues from its cookie, or is dropped with size 0 (RFC 2696 §3)
    if (paging !== undefined && paging.value.cookie.length > 0) {
      return continuePaged(ctx, paging.value, selection);
    }

    const snapshot = await tree.snapshot();
    const base = resolveEntry(snapshot, request.baseObject, ctx.session.state, settings);
    const sizeLimit =
      paging === undefined ? lowest(request.sizeLimit, settings.sizeLimit) : request.sizeLimit;
    const readable = (e: LdapEntry): boolean => canRead(e, ctx.session.state, settings);
    const matches = matcher(request.filter, tree.schema);
    const candidates = planCandidates(snapshot, base, request.scope, request.filter);

    // step: stream when neither sorting nor paging needs the whole result first
    if (paging === undefined && sorting === undefined) {
      let sent = 0;
      let scanned = 0;
      for (const entry of candidates) {
        if (++scanned % CHECK_EVERY === 0) {
          await turn();
          if (ctx.abandoned()) return undefined;
          if (Date.now() > deadline) return timeExceeded(ctx, sent);
        }
        if (!readable(entry) || !matches(entry)) continue;
        if (sizeLimit > 0 && sent >= sizeLimit) return sizeExceeded(ctx, sent);
        await ctx.send(entryResponse(entry, selection, request.typesOnly));
        if (ctx.abandoned()) return undefined;
        sent++;
      }
      ctx.note({ entries: sent });
      return { resultCode: ResultCode.success };
    }

    // step: collect, sort, cut at the size limit
    let found: LdapEntry[] = [];
    let scanned = 0;
    for (const entry of candidates) {
      if (++scanned % CHECK_EVERY === 0) {
        await turn();
        if (ctx.abandoned()) return undefined;
        if (Date.now() > deadline) return timeExceeded(ctx, 0);
      }
      if (readable(entry) && matches(entry)) found.push(entry);
    }
    const responseControls: Control[] = [];
    if (sorting !== undefined) {
      const sorted = sortEntries(found, sorting.value, tree.schema);
      responseControls.push(encodeSortResponse(sorted.result));
      if (sorted.result.sortResult !== SortResultCode.success && sorting.critical) {
        return {
          resultCode: ResultCode.unavailableCriticalExtension,
          diagnosticMessage: 'cannot sort as asked',
          controls: responseControls,
        };
      }
      found = sorted.entries;
    }
    const exceeded = sizeLimit > 0 && found.length > sizeLimit;
    if (exceeded) found = found.slice(0, sizeLimit);

    if (paging === undefined) {
      const sent = await sendAll(ctx, found, selection, request.typesOnly);
      if (sent === undefined) return undefined;
      ctx.note({ entries: sent });
      return {
        resultCode: exceeded ? ResultCode.sizeLimitExceeded : ResultCode.success,
        controls: responseControls,
      };
    }
    // step: the first page; the rest waits under a cookie
    const state: PagedSearch = {
      key: pagedKey(request),
      entries: found,
      offset: 0,
      sizeExceeded: exceeded,
    };
    if (paging.value.size === 0) {
      return { resultCode: ResultCode.success, controls: [pagedControl(found.length, '')] };
    }
    return sendPage(ctx, state, paging.value.size, selection, responseControls);
  },
};

/** A control's decoded value, or undefined when absent; a malformed value is a protocolError. */
function controlValue<T>(
  controls: readonly Control[],
  oid: string,
  decode: (c: Control) => T,
): { value: T; critical: boolean } | undefined {
  const control = controls.find((c) => c.type === oid);
  if (control === undefined) return undefined;
  try {
    return { value: decode(control), critical: control.criticality };
  } catch (err) {
    if (isBerError(err)) {
      throw new LdapError(ResultCode.protocolError, `malformed control ${oid}: ${err.message}`);
    }
    throw err;
  }
}

/** The smaller of two limits where 0 means none. */
function lowest(a: number, b: number): number {
  if (a === 0) return b;
  if (b === 0) return a;
  return Math.min(a, b);
}

function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** The search's filter test: a compiled quick rejection first, then matchFilter. */
function matcher(filter: Filter, schema: LdapSchema): (entry: LdapEntry) => boolean {
  const reject = compileReject(filter, schema);
  return (entry) =>
    !(reject?.(entry) ?? false) && matchFilter(filter, entry.match, schema.filter) === 'TRUE';
}

type Reject = (entry: LdapEntry) => boolean;

/**
 * A cheap necessary condition, on values prepared once per snapshot: the returned test is
 * true only when the filter certainly does not match (equality and substring items on
 * caseIgnore attributes that no value can satisfy, combined through and/or). Undefined when
 * nothing can be told this way. Entries it lets through are decided by matchFilter.
 */
function compileReject(filter: Filter, schema: LdapSchema): Reject | undefined {
  switch (filter.type) {
    case 'and': {
      const parts = filter.filters.flatMap((f) => compileReject(f, schema) ?? []);
      if (parts.length === 0) return undefined;
      return (e) => parts.some((p) => p(e));
    }
    case 'or': {
      const parts: Reject[] = [];
      for (const f of filter.filters) {
        const p = compileReject(f, schema);
        if (p === undefined) return undefined;
        parts.push(p);
      }
      if (parts.length === 0) return undefined;
      return (e) => parts.every((p) => p(e));
    }
    case 'equalityMatch':
    case 'substrings': {
      if (filter.attribute.includes(';')) return undefined;
      const info = schema.attribute(filter.attribute);
      if (info?.rule !== 'caseIgnore') return undefined;
      const key = info.key;
      const raw =
        filter.type === 'equalityMatch'
          ? [filter.value]
          : [filter.initial ?? '', ...filter.any, filter.final ?? ''];
      // step: each piece, prepared and trimmed, must occur in some prepared value
      const pieces = raw.map((p) => prepareCaseIgnore(p)).filter((p) => p !== '');
      return (e) => {
        const values = e.prepared.get(key);
        if (values === undefined) return true;
        for (const v of values) if (pieces.every((p) => v.includes(p))) return false;
        return true;
      };
    }
    default:
      return undefined;
  }
}

function sizeExceeded(ctx: OperationContext<SearchRequest>, sent: number): OperationResult {
  ctx.note({ entries: sent });
  return { resultCode: ResultCode.sizeLimitExceeded };
}

function timeExceeded(ctx: OperationContext<SearchRequest>, sent: number): OperationResult {
  ctx.note({ entries: sent });
  return { resultCode: ResultCode.timeLimitExceeded };
}

// ---- candidates ---------------------------------------------------------------------------

/** Whether `entry` lies in `scope` of `base`. */
function inScope(entry: LdapEntry, base: LdapEntry, scope: SearchScope): boolean {
  if (scope === 'baseObject') return entry === base;
  if (entry.parent === undefined) return false;
  if (scope === 'singleLevel') return entry.parent === base.ndn;
  const below = base.ndn === '' || entry.ndn.endsWith(`,${base.ndn}`);
  return scope === 'wholeSubtree' ? below || entry === base : below;
}

/** Entries that may match, from the equality index when the filter allows, else the scope. */
function planCandidates(
  snapshot: TreeSnapshot,
  base: LdapEntry,
  scope: SearchScope,
  filter: Filter,
): Iterable<LdapEntry> {
  if (scope !== 'baseObject' && base !== snapshot.subschema) {
    const indexed = fromIndex(snapshot, filter);
    if (indexed !== undefined) return indexed.filter((e) => inScope(e, base, scope));
  }
  return snapshot.inScope(base, scope);
}

/** A superset of the entries matching `filter`, or undefined when the index cannot tell. */
function fromIndex(snapshot: TreeSnapshot, filter: Filter): LdapEntry[] | undefined {
  switch (filter.type) {
    case 'equalityMatch': {
      if (filter.attribute.includes(';')) return undefined;
      const key = normalizeKey(filter.attribute);
      const found = key === undefined ? undefined : snapshot.lookup(key, filter.value);
      return found === undefined ? undefined : [...found];
    }
    case 'and': {
      let best: LdapEntry[] | undefined;
      for (const f of filter.filters) {
        const c = fromIndex(snapshot, f);
        if (c !== undefined && (best === undefined || c.length < best.length)) best = c;
      }
      return best;
    }
    case 'or': {
      if (filter.filters.length === 0) return [];
      const union = new Set<LdapEntry>();
      for (const f of filter.filters) {
        const c = fromIndex(snapshot, f);
        if (c === undefined) return undefined;
        for (const e of c) union.add(e);
      }
      return [...union];
    }
    default:
      return undefined;
  }
}

/** Index keys of the attribute names clients search by (their aliases included). */
const INDEX_KEYS: ReadonlyMap<string, string> = new Map([
  ['uid', 'uid'],
  ['userid', 'uid'],
  ['0.9.2342.19200300.100.1.1', 'uid'],
  ['mail', 'mail'],
  ['rfc822mailbox', 'mail'],
  ['0.9.2342.19200300.100.1.3', 'mail'],
  ['cn', 'cn'],
  ['commonname', 'cn'],
  ['2.5.4.3', 'cn'],
  ['sn', 'sn'],
  ['surname', 'sn'],
  ['2.5.4.4', 'sn'],
  ['givenname', 'givenname'],
  ['gn', 'givenname'],
  ['2.5.4.42', 'givenname'],
  ['displayname', 'displayname'],
  ['2.16.840.1.113730.3.1.241', 'displayname'],
]);

function normalizeKey(attribute: string): string | undefined {
  return INDEX_KEYS.get(attribute.toLowerCase());
}

// ---- attributes -----------------------------------------------------------------------------

interface Selection {
  readonly allUser: boolean;
  readonly allOperational: boolean;
  /** Keys of attributes asked for by name. */
  readonly names: ReadonlySet<string>;
}

/** RFC 4511 §4.5.1.8; `1.1` with other descriptions is ignored, alone it selects nothing. */
function parseSelection(attributes: readonly string[], schema: LdapSchema): Selection {
  let allUser = attributes.length === 0;
  let allOperational = false;
  const names = new Set<string>();
  for (const a of attributes) {
    if (a === '*') allUser = true;
    else if (a === '+') allOperational = true;
    else if (a !== '1.1' && !a.includes(';')) {
      names.add(schema.attribute(a)?.key ?? a.toLowerCase());
    }
  }
  return { allUser, allOperational, names };
}

function entryResponse(
  entry: LdapEntry,
  selection: Selection,
  typesOnly: boolean,
): { type: 'searchResEntry'; objectName: string; attributes: PartialAttribute[] } {
  const attributes: PartialAttribute[] = [];
  for (const [key, attr] of entry.attributes) {
    const wanted =
      selection.names.has(key) ||
      (attr.operational
        ? selection.allOperational || (selection.allUser && entry.starIncludesOperational)
        : selection.allUser);
    if (wanted) attributes.push({ type: attr.name, values: typesOnly ? [] : attr.values });
  }
  return { type: 'searchResEntry', objectName: entry.dn, attributes };
}

/** Send entries; undefined when the search was abandoned meanwhile. */
async function sendAll(
  ctx: OperationContext<SearchRequest>,
  entries: readonly LdapEntry[],
  selection: Selection,
  typesOnly: boolean,
): Promise<number | undefined> {
  let sent = 0;
  for (const entry of entries) {
    if (ctx.abandoned()) return undefined;
    await ctx.send(entryResponse(entry, selection, typesOnly));
    if (ctx.abandoned()) return undefined;
    sent++;
  }
  return sent;
}

// ---- paged results (RFC 2696) ---------------------------------------------------------------

function pagedKey(request: SearchRequest): string {
  let base: string;
  try {
    base = normalizeDn(request.baseObject);
  } catch {
    base = request.baseObject;
  }
  return JSON.stringify([base, request.scope, filterToString(request.filter), request.typesOnly]);
}

function pagedControl(size: number, cookie: string): Control {
  return encodePagedResults({ size, cookie: Buffer.from(cookie, 'hex') });
}

async function continuePaged(
  ctx: OperationContext<SearchRequest>,
  paging: PagedResults,
  selection: Selection,
): Promise<OperationResult | undefined> {
  const cookie = Buffer.from(paging.cookie).toString('hex');
  const state = ctx.session.pagedSearches.get(cookie);
  if (state === undefined || state.key !== pagedKey(ctx.message.protocolOp)) {
    throw new LdapError(ResultCode.unwillingToPerform, 'paged results cookie is invalid');
  }
  ctx.session.pagedSearches.delete(cookie);
  if (paging.size === 0) {
    return { resultCode: ResultCode.success, controls: [pagedControl(0, '')] };
  }
  return sendPage(ctx, state, paging.size, selection, []);
}

async function sendPage(
  ctx: OperationContext<SearchRequest>,
  state: PagedSearch,
  pageSize: number,
  selection: Selection,
  controls: Control[],
): Promise<OperationResult | undefined> {
  const page = state.entries.slice(state.offset, state.offset + pageSize);
  const sent = await sendAll(ctx, page, selection, ctx.message.protocolOp.typesOnly);
  if (sent === undefined) return undefined;
  state.offset += page.length;
  ctx.note({ entries: sent, paged: true });
  const total = state.entries.length;
  if (state.offset >= total) {
    return {
      resultCode: state.sizeExceeded ? ResultCode.sizeLimitExceeded : ResultCode.success,
      controls: [...controls, pagedControl(total, '')],
    };
  }
  // step: keep the rest under a fresh cookie, dropping the oldest beyond the limit
  const cookie = randomBytes(12).toString('hex');
  const paged = ctx.session.pagedSearches;
  paged.set(cookie, state);
  while (paged.size > ctx.server.settings.maxPagedSearches) {
    const oldest = paged.keys().next();
    if (oldest.done === true) break;
    paged.delete(oldest.value);
  }
  return { resultCode: ResultCode.success, controls: [...controls, pagedControl(total, cookie)] };
}

// ---- server-side sorting (RFC 2891) ---------------------------------------------------------

const ORDERING_RULES: ReadonlyMap<string, 'caseIgnore' | 'caseExact' | 'integer'> = new Map([
  ['caseignoreorderingmatch', 'caseIgnore'],
  ['2.5.13.3', 'caseIgnore'],
  ['caseexactorderingmatch', 'caseExact'],
  ['2.5.13.6', 'caseExact'],
  ['integerorderingmatch', 'integer'],
  ['2.5.13.15', 'integer'],
]);

type SortValue = string | bigint | undefined;

/** Sort by the keys; entries without a value sort after all others (RFC 2891 §2). */
export function sortEntries(
  entries: readonly LdapEntry[],
  keys: readonly SortKey[],
  schema: LdapSchema,
): { entries: LdapEntry[]; result: SortResult } {
  const plans: { key: string; prepare: (v: string) => SortValue; reverse: boolean }[] = [];
  for (const k of keys) {
    const info = schema.attribute(k.attributeType);
    if (info === undefined) {
      return {
        entries: [...entries],
        result: { sortResult: SortResultCode.noSuchAttribute, attributeType: k.attributeType },
      };
    }
    let rule: string = info.rule;
    if (k.orderingRule !== undefined) {
      const ordering = ORDERING_RULES.get(k.orderingRule.toLowerCase());
      if (ordering === undefined) {
        return {
          entries: [...entries],
          result: {
            sortResult: SortResultCode.inappropriateMatching,
            attributeType: k.attributeType,
          },
        };
      }
      rule = ordering;
    }
    plans.push({ key: info.key, prepare: preparer(rule), reverse: k.reverseOrder });
  }
  // step: compute each entry's sort values once
  const rows = entries.map((entry) => ({
    entry,
    values: plans.map((p) => {
      let best: SortValue;
      for (const raw of entry.attributes.get(p.key)?.values ?? []) {
        const v = p.prepare(raw);
        if (v === undefined) continue;
        if (best === undefined || (p.reverse ? v > best : v < best)) best = v;
      }
      return best;
    }),
  }));
  rows.sort((a, b) => {
    for (const [i, p] of plans.entries()) {
      const x = a.values[i];
      const y = b.values[i];
      if (x === y) continue;
      if (x === undefined) return p.reverse ? -1 : 1;
      if (y === undefined) return p.reverse ? 1 : -1;
      const c = x < y ? -1 : 1;
      return p.reverse ? -c : c;
    }
    return 0;
  });
  return { entries: rows.map((r) => r.entry), result: { sortResult: SortResultCode.success } };
}

function preparer(rule: string): (v: string) => SortValue {
  switch (rule) {
    case 'integer':
      return (v) => (/^-?\d{1,40}$/.test(v.trim()) ? BigInt(v.trim()) : undefined);
    case 'caseExact':
      return prepareCaseExact;
    case 'distinguishedName':
      return (v) => {
        try {
          return normalizeDn(v);
        } catch {
          return undefined;
        }
      };
    case 'octetString':
      return (v) => v;
    default:
      return prepareCaseIgnore;
  }
}
