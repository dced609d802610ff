/**
 * STATUS response (RFC 9051 §7.3.5, STATUS=SIZE RFC 8438, HIGHESTMODSEQ RFC 7162 §3.1.9,
 * APPENDLIMIT RFC 7889 §3, MAILBOXID RFC 8474 §4):
 *   mailbox-data =/ "STATUS" SP mailbox SP "(" [status-att-list] ")"
 */

import type { StatusItem } from '../parser/commands/status.ts';
import { ResponseWriter } from './response-writer.ts';
import type { ComposeOptions, WirePart } from './response-writer.ts';

/** One item and its value: a number, a mailbox id (MAILBOXID) or null (APPENDLIMIT NIL). */
export type StatusValue = readonly [StatusItem, number | bigint | string | null];

/** `* STATUS mailbox (ITEM value ...)` CRLF, items in the order given. */
export function statusResponse(
  mailbox: string,
  values: readonly StatusValue[],
  options?: ComposeOptions,
): WirePart[] {
  const w = new ResponseWriter(options);
  w.raw('* STATUS ').mailbox(mailbox).sp();
  w.list(values, ([item, value]) => {
    w.atom(item).sp();
    if (value === null) w.nil();
    else if (typeof value === 'string') w.raw(`(${value})`);
    else w.number(value);
  });
  w.crlf();
  return w.parts();
}
