/**
 * The Date header (RFC 5322 §3.3, with the obsolete forms of §4.3: two-digit years,
 * alphabetic zones, missing seconds or day name). SEARCH SENTBEFORE/SENTON/SENTSINCE compare
 * the calendar date as written, "disregarding time and timezone" (RFC 9051 §6.4.4).
 */

export interface MessageDate {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  /** The instant, UTC milliseconds. */
  readonly time: number;
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const ZONES: Readonly<Record<string, number>> = {
  ut: 0,
  utc: 0,
  gmt: 0,
  z: 0,
  est: -300,
  edt: -240,
  cst: -360,
  cdt: -300,
  mst: -420,
  mdt: -360,
  pst: -480,
  pdt: -420,
};

const DATE_RE =
  /^\s*(?:[a-z]+\s*,?\s*)?(\d{1,2})\s*[- ]?\s*([a-z]{3})[a-z]*\s*[- ]?\s*(\d{2,4})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([+-]\d{4}|[a-z]+)?/i;

/** Parse a Date header value; null when it is not a date. */
export function parseMessageDate(value: string | null): MessageDate | null {
  if (value === null) return null;
  const m = DATE_RE.exec(value);
  if (m === null) return null;
  const day = Number(m[1]);
  const month = MONTHS.indexOf((m[2] ?? '').toLowerCase()) + 1;
  let year = Number(m[3]);
  if ((m[3] ?? '').length <= 2) year += year < 50 ? 2000 : 1900;
  else if ((m[3] ?? '').length === 3) year += 1900;
  const hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = Number(m[6] ?? '0');
  if (month === 0 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return null;
  const zoneText = (m[7] ?? '').toLowerCase();
  let zone: number;
  if (/^[+-]\d{4}$/.test(zoneText)) {
    const sign = zoneText[0] === '-' ? -1 : 1;
    zone = sign * (Number(zoneText.slice(1, 3)) * 60 + Number(zoneText.slice(3, 5)));
  } else {
    zone = ZONES[zoneText] ?? 0;
  }
  const time = Date.UTC(year, month - 1, day, hour, minute, second) - zone * 60_000;
  if (!Number.isFinite(time)) return null;
  return { year, month, day, time };
}
