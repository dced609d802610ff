/**
 * Delivery status notifications (RFC 3464): a multipart/report (RFC 6522) with a human part,
 * the machine-readable message/delivery-status, and the original message (message/rfc822) or
 * only its header (text/rfc822-headers) when RET=HDRS, the message is large, or nothing
 * failed. Failures and successes (NOTIFY=SUCCESS, RFC 3461 §4.1: "delivered" into a mailbox
 * here, "relayed" to a host we pass no DSN request to) are reported in separate notifications.
 * A notification is Auto-Submitted (RFC 3834 §5) and goes out with the null reverse-path.
 */

import { randomBytes } from 'node:crypto';
import type { QueueRecipient } from './queue-types.ts';

/** RFC 3464 §2.3.3 Action values we report. */
export type DsnAction = 'failed' | 'delivered' | 'relayed';

export type DsnRecipient = QueueRecipient & {
  /** Default 'failed'. */
  readonly action?: DsnAction;
};

export interface DsnInput {
  /** Reporting MTA (our host name). */
  readonly hostname: string;
  /** The notification's recipient: the original reverse-path. */
  readonly to: string;
  readonly queueId: string;
  readonly envid: string | null;
  /** When the original was accepted. */
  readonly arrivalDate: Date;
  /** The recipients being reported: all failed, or all delivered/relayed. */
  readonly recipients: readonly DsnRecipient[];
  /** The original message. */
  readonly original: Uint8Array;
  /** RET=HDRS: return only the header. */
  readonly headersOnly: boolean;
  /** Largest original returned whole; larger ones are returned as their header. */
  readonly maxReturn?: number;
  readonly now?: Date;
}

const CRLF = '\r\n';
const DEFAULT_MAX_RETURN = 128 * 1024;

/** RFC 5322 §3.3 date-time, e.g. "Tue, 01 Jul 2003 10:52:37 +0000". */
export function rfc5322Date(date: Date): string {
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = [
    'Jan',
    'Feb',
    'Mar',
    'Apr',
    'May',
    'Jun',
    'Jul',
    'Aug',
    'Sep',
    'Oct',
    'Nov',
    'Dec',
  ];
  const two = (n: number): string => String(n).padStart(2, '0');
  return (
    `${days[date.getUTCDay()]}, ${two(date.getUTCDate())} ${months[date.getUTCMonth()]} ` +
    `${date.getUTCFullYear()} ${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:` +
    `${two(date.getUTCSeconds())} +0000`
  );
}

/** Decode RFC 3461 §4 xtext ("+2B" -> "+"). */
export function decodeXtext(value: string): string {
  return value.replace(/\+([0-9A-Fa-f]{2})/g, (_m, hex: string) =>
    String.fromCharCode(parseInt(hex, 16)),
  );
}

/** One header line with no control characters (values quote remote replies). */
function field(name: string, value: string): string {
  return `${name}: ${value.replace(/\p{Cc}+/gu, ' ').trim()}${CRLF}`;
}

/** The header block of a message (up to and including the blank line), or all of it. */
export function headerBlockOf(message: Uint8Array): Uint8Array {
  const buf = Buffer.from(message.buffer, message.byteOffset, message.byteLength);
  const crlf = buf.indexOf('\r\n\r\n');
  const lf = buf.indexOf('\n\n');
  const candidates = [crlf < 0 ? -1 : crlf + 4, lf < 0 ? -1 : lf + 2].filter((n) => n > 0);
  return candidates.length === 0 ? message : message.subarray(0, Math.min(...candidates));
}

function diagnostic(result: string): string {
  return /^\d{3}[ -]/.test(result) ? `smtp; ${result}` : `X-Commune; ${result}`;
}

function isFailure(input: DsnInput): boolean {
  return input.recipients.some((r) => (r.action ?? 'failed') === 'failed');
}

function humanText(input: DsnInput): string {
  const lines = [`This is the mail system at host ${input.hostname}.`, ''];
  if (isFailure(input)) {
    lines.push(
      "I'm sorry to have to inform you that your message could not",
      'be delivered to one or more recipients. It is attached below.',
    );
  } else {
    lines.push('Your message was successfully delivered to the destination(s)', 'listed below.');
  }
  lines.push('');
  for (const r of input.recipients) {
    const action = r.action ?? 'failed';
    const what =
      action === 'failed'
        ? (r.lastResult ?? 'delivery failed')
        : action === 'delivered'
          ? 'delivery successful'
          : `relayed${r.remoteMta === undefined ? '' : ` to ${r.remoteMta}`}`;
    lines.push(`<${r.address}>: ${what}`);
  }
  return lines.join(CRLF) + CRLF;
}

/** Build the notification message (bytes, CRLF line endings). */
export function buildDsn(input: DsnInput): Uint8Array {
  const now = input.now ?? new Date();
  const boundary = `dsn-${randomBytes(12).toString('hex')}`;
  const failure = isFailure(input);
  const headersOnly =
    !failure ||
    input.headersOnly ||
    input.original.length > (input.maxReturn ?? DEFAULT_MAX_RETURN);

  const head =
    field('From', `Mail Delivery System <MAILER-DAEMON@${input.hostname}>`) +
    field('To', `<${input.to}>`) +
    field(
      'Subject',
      failure ? 'Undelivered Mail Returned to Sender' : 'Successful Mail Delivery Report',
    ) +
    field('Date', rfc5322Date(now)) +
    field('Message-ID', `<${input.queueId}.${randomBytes(6).toString('hex')}@${input.hostname}>`) +
    field('Auto-Submitted', 'auto-replied') +
    field('MIME-Version', '1.0') +
    field('Content-Type', `multipart/report; report-type=delivery-status; boundary="${boundary}"`) +
    CRLF;

  // step: per-message fields, then one block per recipient (RFC 3464 §2.2, §2.3)
  let status =
    field('Reporting-MTA', `dns; ${input.hostname}`) +
    field('X-Commune-Queue-ID', input.queueId) +
    (input.envid === null ? '' : field('Original-Envelope-Id', decodeXtext(input.envid))) +
    field('Arrival-Date', rfc5322Date(input.arrivalDate));
  for (const r of input.recipients) {
    status += CRLF;
    if (r.orcpt !== undefined) {
      const [type, ...rest] = r.orcpt.split(';');
      status += field('Original-Recipient', `${type ?? 'rfc822'};${decodeXtext(rest.join(';'))}`);
    }
    status +=
      field('Final-Recipient', `rfc822; ${r.address}`) +
      field('Action', r.action ?? 'failed') +
      field('Status', r.status ?? ((r.action ?? 'failed') === 'failed' ? '5.0.0' : '2.0.0')) +
      (r.remoteMta === undefined ? '' : field('Remote-MTA', `dns; ${r.remoteMta}`)) +
      (r.lastResult === undefined ? '' : field('Diagnostic-Code', diagnostic(r.lastResult))) +
      field('Last-Attempt-Date', rfc5322Date(now));
  }

  const original = headersOnly ? headerBlockOf(input.original) : input.original;
  const eightBit = original.some((b) => b > 0x7f);
  const parts = [
    `--${boundary}${CRLF}` +
      field('Content-Description', 'Notification') +
      field('Content-Type', 'text/plain; charset=utf-8') +
      field('Content-Transfer-Encoding', '8bit') +
      CRLF +
      humanText(input) +
      CRLF,
    `--${boundary}${CRLF}` +
      field('Content-Description', 'Delivery report') +
      field('Content-Type', 'message/delivery-status') +
      CRLF +
      status +
      CRLF,
    `--${boundary}${CRLF}` +
      field(
        'Content-Description',
        `${failure ? 'Undelivered' : 'Delivered'} Message${headersOnly ? ' Headers' : ''}`,
      ) +
      field('Content-Type', headersOnly ? 'text/rfc822-headers' : 'message/rfc822') +
      (eightBit ? field('Content-Transfer-Encoding', '8bit') : '') +
      CRLF,
  ];
  const tail = `${original.length > 0 && original[original.length - 1] !== 0x0a ? CRLF : ''}${CRLF}--${boundary}--${CRLF}`;
  return Buffer.concat([
    Buffer.from(head + parts.join(''), 'utf8'),
    Buffer.from(original.buffer, original.byteOffset, original.byteLength),
    Buffer.from(tail, 'utf8'),
  ]);
}
