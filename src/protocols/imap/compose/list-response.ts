/**
 * LIST and LSUB responses (RFC 9051 §7.3.1, RFC 5258 §3.5 extended data, RFC 6154
 * special-use attributes):
 *   mailbox-list = "(" [mbx-list-flags] ")" SP (DQUOTE QUOTED-CHAR DQUOTE / nil) SP mailbox
 *                  [SP mbox-list-extended]
 *   mbox-list-extended-item = "CHILDINFO" SP "(" ... ")" / "OLDNAME" SP "(" mailbox ")"
 */

import { ResponseWriter } from './response-writer.ts';
import type { ComposeOptions, WirePart } from './response-writer.ts';

export interface ListEntry {
  /** Full mailbox name (Unicode). */
  readonly name: string;
  /** Hierarchy delimiter, one character; null for a flat namespace. */
  readonly delimiter: string | null;
  /** \HasChildren, \HasNoChildren, \Noselect, \NonExistent, \Subscribed, \Sent, ... */
  readonly attributes: readonly string[];
  /** CHILDINFO extended data (RFC 5258 §3.5), e.g. ["SUBSCRIBED"]. */
  readonly childInfo?: readonly string[];
  /** OLDNAME extended data (RFC 9051 §7.3.1) after a RENAME. */
  readonly oldName?: string;
}

/** `* LIST (...) "/" name [extended]` CRLF (or LSUB). */
export function listResponse(
  entry: ListEntry,
  options?: ComposeOptions,
  command: 'LIST' | 'LSUB' = 'LIST',
): WirePart[] {
  const w = new ResponseWriter(options);
  w.raw(`* ${command} `).atomList(entry.attributes).sp();
  if (entry.delimiter === null) w.nil();
  else
    w.raw(
      entry.delimiter === '\\' || entry.delimiter === '"'
        ? `"\\${entry.delimiter}"`
        : `"${entry.delimiter}"`,
    );
  w.sp().mailbox(entry.name);
  const extended: Array<() => void> = [];
  if (entry.childInfo !== undefined && entry.childInfo.length > 0) {
    const info = entry.childInfo;
    extended.push(() => w.raw('"CHILDINFO" ').list(info, (i) => w.string(i)));
  }
  if (entry.oldName !== undefined) {
    const oldName = entry.oldName;
    extended.push(() => w.raw('"OLDNAME" (').mailbox(oldName).raw(')'));
  }
  if (extended.length > 0) w.sp().list(extended, (write) => write());
  w.crlf();
  return w.parts();
}
