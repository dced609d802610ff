/**
 * date-time in responses (RFC 9051 §9):
 *   date-time = DQUOTE date-day-fixed "-" date-month "-" date-year SP time SP zone DQUOTE
 *   date-day-fixed = (SP DIGIT) / 2DIGIT
 */

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

const pad2 = (n: number): string => String(n).padStart(2, '0');

/** `date` in zone `zone` (minutes east of UTC), without the quotes: " 7-Jul-1996 02:44:25 -0700". */
export function formatDateTime(date: Date, zone = 0): string {
  const local = new Date(date.getTime() + zone * 60000);
  const day = String(local.getUTCDate()).padStart(2, ' ');
  const month = MONTHS[local.getUTCMonth()] ?? 'Jan';
  const time = `${pad2(local.getUTCHours())}:${pad2(local.getUTCMinutes())}:${pad2(local.getUTCSeconds())}`;
  const abs = Math.abs(zone);
  const offset = `${zone < 0 ? '-' : '+'}${pad2(Math.floor(abs / 60))}${pad2(abs % 60)}`;
  return `${day}-${month}-${String(local.getUTCFullYear()).padStart(4, '0')} ${time} ${offset}`;
}
