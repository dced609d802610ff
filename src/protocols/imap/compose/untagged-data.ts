/**
 * Small untagged data responses (RFC 9051 §7.2-7.4, RFC 5161 ENABLED, RFC 2342 NAMESPACE,
 * RFC 2971 ID, RFC 9208 QUOTA), each one line returned as wire parts.
 */

import { encodeModifiedUtf7 } from '../parser/modified-utf7.ts';
import { ResponseWriter } from './response-writer.ts';
import type { ComposeOptions, WirePart } from './response-writer.ts';

function line(write: (w: ResponseWriter) => void, options?: ComposeOptions): WirePart[] {
  const w = new ResponseWriter(options);
  w.raw('* ');
  write(w);
  w.crlf();
  return w.parts();
}

/** `* n EXISTS` */
export function existsResponse(count: number): WirePart[] {
  return line((w) => w.number(count).raw(' EXISTS'));
}

/** `* n RECENT` (IMAP4rev1 only) */
export function recentResponse(count: number): WirePart[] {
  return line((w) => w.number(count).raw(' RECENT'));
}

/** `* n EXPUNGE` */
export function expungeResponse(seq: number): WirePart[] {
  return line((w) => w.number(seq).raw(' EXPUNGE'));
}

/** `* FLAGS (...)` */
export function flagsResponse(flags: readonly string[]): WirePart[] {
  return line((w) => w.raw('FLAGS ').atomList(flags));
}

/** `* CAPABILITY ...` */
export function capabilityResponse(capabilities: readonly string[]): WirePart[] {
  return line((w) => w.raw(['CAPABILITY', ...capabilities].join(' ')));
}

/** `* ENABLED ...` (RFC 5161 §3.2): only the extensions newly enabled. */
export function enabledResponse(capabilities: readonly string[]): WirePart[] {
  return line((w) => w.raw(['ENABLED', ...capabilities].join(' ')));
}

/**
 * `* SEARCH n...` (RFC 3501 §7.2.5), with `(MODSEQ m)` when the search used MODSEQ and
 * matched something (RFC 7162 §3.1.5).
 */
export function searchResponse(numbers: readonly number[], modSeq?: bigint): WirePart[] {
  return line((w) => {
    w.raw('SEARCH');
    for (const n of numbers) w.sp().number(n);
    if (modSeq !== undefined && numbers.length > 0) w.raw(' (MODSEQ ').number(modSeq).raw(')');
  });
}

export interface NamespaceEntry {
  readonly prefix: string;
  readonly delimiter: string | null;
}

function writeNamespaces(w: ResponseWriter, entries: readonly NamespaceEntry[] | null): void {
  if (entries === null || entries.length === 0) {
    w.nil();
    return;
  }
  w.list(entries, (e) => {
    w.raw('(')
      .string(w.options.utf8 ? e.prefix : encodeModifiedUtf7(e.prefix))
      .sp()
      .nstring(e.delimiter)
      .raw(')');
  });
}

/** `* NAMESPACE personal other shared` (RFC 2342 §5, RFC 9051 §7.3.2). */
export function namespaceResponse(
  personal: readonly NamespaceEntry[] | null,
  other: readonly NamespaceEntry[] | null,
  shared: readonly NamespaceEntry[] | null,
  options?: ComposeOptions,
): WirePart[] {
  return line((w) => {
    w.raw('NAMESPACE ');
    writeNamespaces(w, personal);
    w.sp();
    writeNamespaces(w, other);
    w.sp();
    writeNamespaces(w, shared);
  }, options);
}

/** `* ID (...)` or `* ID NIL` (RFC 2971 §3.2). */
export function idResponse(
  params: readonly { readonly field: string; readonly value: string | null }[] | null,
  options?: ComposeOptions,
): WirePart[] {
  return line((w) => {
    w.raw('ID ');
    if (params === null || params.length === 0) w.nil();
    else w.list(params, (p) => w.string(p.field).sp().nstring(p.value));
  }, options);
}

export interface QuotaResource {
  /** STORAGE (in units of 1024 octets), MESSAGE, MAILBOX, ... */
  readonly name: string;
  readonly usage: number | bigint;
  readonly limit: number | bigint;
}

/** `* QUOTA root (resource usage limit ...)` (RFC 9208 §5.1). */
export function quotaResponse(
  root: string,
  resources: readonly QuotaResource[],
  options?: ComposeOptions,
): WirePart[] {
  return line((w) => {
    w.raw('QUOTA ').astring(root).sp();
    w.list(resources, (r) => w.atom(r.name).sp().number(r.usage).sp().number(r.limit));
  }, options);
}

/** `* QUOTAROOT mailbox root...` (RFC 9208 §5.2). */
export function quotaRootResponse(
  mailbox: string,
  roots: readonly string[],
  options?: ComposeOptions,
): WirePart[] {
  return line((w) => {
    w.raw('QUOTAROOT ').mailbox(mailbox);
    for (const root of roots) w.sp().astring(root);
  }, options);
}
