/**
 * The comparisons every SEARCH evaluator shares (search-evaluator.ts, the general one, and
 * fast-search.ts, the in-memory one), so both answer every key alike (RFC 9051 §6.4.4):
 * case-insensitive substring matching over folded text, calendar-day comparisons that
 * disregard time and timezone, and the system flags of the flag keys.
 */

import { DELETED, SEEN } from '../message-flags.ts';
import type { MessageSummary } from '../mail-types.ts';

/** Normal form for case-insensitive substring matching. */
export function foldText(text: string): string {
  return text.normalize('NFC').toLowerCase();
}

/** The flag a flag key (ANSWERED, UNSEEN, ...) tests, without its UN prefix. */
export const FLAG_OF: Readonly<Record<string, string>> = {
  ANSWERED: '\\Answered',
  DELETED,
  DRAFT: '\\Draft',
  FLAGGED: '\\Flagged',
  SEEN,
};

/** A calendar date as one comparable number (yyyymmdd). */
export function dayNumber(year: number, month: number, day: number): number {
  return year * 10_000 + month * 100 + day;
}

/** The calendar day of INTERNALDATE in the zone it was given in. */
export function internalDay(s: MessageSummary): number {
  const d = new Date(s.internalDate + s.zone * 60_000);
  return dayNumber(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate());
}

/** BEFORE / ON / SINCE (and the SENT variants) on day numbers. */
export function compareDays(key: string, day: number, wanted: number): boolean {
  if (key.endsWith('BEFORE')) return day < wanted;
  if (key.endsWith('ON')) return day === wanted;
  return day >= wanted;
}
