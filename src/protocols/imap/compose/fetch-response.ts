/**
 * FETCH responses (RFC 9051 §7.5.2; BINARY RFC 3516 §4.2; MODSEQ RFC 7162 §3.1.4.1;
 * EMAILID/THREADID RFC 8474 §5): `* n FETCH (item value ...)` CRLF, with body sections as
 * literals passed by reference so large bodies are streamed, never concatenated.
 */

import type { FetchSection } from '../parser/commands/fetch.ts';
import { writeBodyStructure } from './body-structure.ts';
import type { BodyStructure } from './body-structure.ts';
import { formatDateTime } from './date-time.ts';
import { writeEnvelope } from './envelope.ts';
import type { Envelope } from './envelope.ts';
import { ResponseWriter } from './response-writer.ts';
import type { Bytes, ComposeOptions, WirePart } from './response-writer.ts';

export type FetchResponseItem =
  | { readonly item: 'UID'; readonly uid: number }
  | { readonly item: 'FLAGS'; readonly flags: readonly string[] }
  | { readonly item: 'INTERNALDATE'; readonly date: Date; readonly zone?: number }
  | { readonly item: 'RFC822.SIZE'; readonly size: number }
  | {
      readonly item: 'ENVELOPE';
      readonly envelope: Envelope;
      /** The envelope already rendered (renderEnvelope, same options), e.g. kept in a cache. */
      readonly wire?: Uint8Array | undefined;
    }
  | { readonly item: 'BODY' | 'BODYSTRUCTURE'; readonly body: BodyStructure }
  | {
      readonly item: 'BODY[]';
      readonly section: FetchSection;
      /** Partial origin when `<offset.length>` was requested; null otherwise. */
      readonly origin: number | null;
      /** null when the section does not exist (NIL). */
      readonly data: Bytes | null;
    }
  | {
      readonly item: 'BINARY[]';
      readonly part: readonly number[];
      readonly origin: number | null;
      readonly data: Bytes | null;
    }
  | { readonly item: 'BINARY.SIZE[]'; readonly part: readonly number[]; readonly size: number }
  | { readonly item: 'RFC822' | 'RFC822.HEADER' | 'RFC822.TEXT'; readonly data: Bytes | null }
  | { readonly item: 'MODSEQ'; readonly modSeq: bigint }
  | { readonly item: 'EMAILID'; readonly id: string }
  | { readonly item: 'THREADID'; readonly id: string | null };

/** Write the `BODY[section]` name (without `BODY`), e.g. `[1.HEADER.FIELDS (DATE FROM)]`. */
export function writeSection(w: ResponseWriter, section: FetchSection): void {
  w.raw('[').raw(section.part.join('.'));
  const text = section.text;
  if (text !== null) {
    if (section.part.length > 0) w.raw('.');
    w.raw(text.kind);
    if (text.kind === 'HEADER.FIELDS' || text.kind === 'HEADER.FIELDS.NOT') {
      w.sp().list(text.fields, (f) => w.astring(f));
    }
  }
  w.raw(']');
}

function writeOrigin(w: ResponseWriter, origin: number | null): void {
  if (origin !== null) w.raw(`<${String(origin)}>`);
}

function writeItem(w: ResponseWriter, item: FetchResponseItem): void {
  switch (item.item) {
    case 'UID':
      w.raw('UID ').number(item.uid);
      return;
    case 'FLAGS':
      w.raw('FLAGS ').atomList(item.flags);
      return;
    case 'INTERNALDATE':
      w.raw(`INTERNALDATE "${formatDateTime(item.date, item.zone ?? 0)}"`);
      return;
    case 'RFC822.SIZE':
      w.raw('RFC822.SIZE ').number(item.size);
      return;
    case 'ENVELOPE':
      w.raw('ENVELOPE ');
      if (item.wire !== undefined) w.rawBytes(item.wire);
      else writeEnvelope(w, item.envelope);
      return;
    case 'BODY':
    case 'BODYSTRUCTURE':
      w.raw(item.item).sp();
      writeBodyStructure(w, item.body, item.item === 'BODYSTRUCTURE');
      return;
    case 'BODY[]':
      w.raw('BODY');
      writeSection(w, item.section);
      writeOrigin(w, item.origin);
      w.sp();
      if (item.data === null) w.nil();
      else w.literal(item.data);
      return;
    case 'BINARY[]':
      w.raw(`BINARY[${item.part.join('.')}]`);
      writeOrigin(w, item.origin);
      w.sp();
      if (item.data === null) w.nil();
      else w.literal(item.data, true);
      return;
    case 'BINARY.SIZE[]':
      w.raw(`BINARY.SIZE[${item.part.join('.')}] `).number(item.size);
      return;
    case 'RFC822':
    case 'RFC822.HEADER':
    case 'RFC822.TEXT':
      w.raw(item.item).sp();
      if (item.data === null) w.nil();
      else w.literal(item.data);
      return;
    case 'MODSEQ':
      w.raw('MODSEQ (').number(item.modSeq).raw(')');
      return;
    case 'EMAILID':
      w.raw(`EMAILID (${item.id})`);
      return;
    case 'THREADID':
      w.raw(item.id === null ? 'THREADID NIL' : `THREADID (${item.id})`);
      return;
  }
}

/** Write `* seq FETCH (...)` CRLF into `w` (many responses may share one writer). */
export function writeFetchResponse(
  w: ResponseWriter,
  seq: number,
  items: readonly FetchResponseItem[],
): void {
  w.raw('* ').number(seq).raw(' FETCH ');
  w.list(items, (item) => writeItem(w, item));
  w.crlf();
}

/** `* seq FETCH (...)` CRLF as parts; section data are separate parts, not copied. */
export function fetchResponse(
  seq: number,
  items: readonly FetchResponseItem[],
  options?: ComposeOptions,
): WirePart[] {
  const w = new ResponseWriter(options);
  writeFetchResponse(w, seq, items);
  return w.parts();
}
