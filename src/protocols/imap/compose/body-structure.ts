/**
 * BODY and BODYSTRUCTURE (RFC 9051 §7.5.2, RFC 3501 §7.4.2): the typed MIME structure a MIME
 * indexer fills once per message, and its serialisation. BODY is the non-extensible form
 * (no extension data); BODYSTRUCTURE adds MD5, disposition, language and location.
 *   body-type-1part = (body-type-basic / body-type-msg / body-type-text) [SP body-ext-1part]
 *   body-fields     = body-fld-param SP body-fld-id SP body-fld-desc SP body-fld-enc SP
 *                     body-fld-octets
 *   body-type-msg   = media-message SP body-fields SP envelope SP body SP body-fld-lines
 *   body-type-text  = media-text SP body-fields SP body-fld-lines
 *   body-type-mpart = 1*body SP media-subtype [SP body-ext-mpart]
 */

import { writeEnvelope } from './envelope.ts';
import type { Envelope } from './envelope.ts';
import type { ResponseWriter } from './response-writer.ts';

/** Content-Type / Content-Disposition parameters, in header order. */
export type BodyParams = readonly (readonly [string, string])[];

export interface BodyDisposition {
  /** "inline", "attachment", ... */
  readonly type: string;
  readonly params: BodyParams;
}

interface BodyExtension {
  readonly disposition: BodyDisposition | null;
  /** Content-Language tags; null when absent. */
  readonly language: readonly string[] | null;
  /** Content-Location; null when absent. */
  readonly location: string | null;
}

export interface SinglePartBody extends BodyExtension {
  readonly kind: 'part';
  /** Media type, e.g. "text" (written as given). */
  readonly type: string;
  /** Media subtype, e.g. "plain". */
  readonly subtype: string;
  readonly params: BodyParams;
  /** Content-ID. */
  readonly id: string | null;
  /** Content-Description. */
  readonly description: string | null;
  /** Content-Transfer-Encoding, e.g. "7BIT" (defaults to 7BIT when the header is absent). */
  readonly encoding: string;
  /** Size of the body in its transfer encoding, in octets. */
  readonly size: number;
  /** Lines of the encoded body: written for text/* and message/rfc822 parts. */
  readonly lines: number;
  /** Content-MD5. */
  readonly md5: string | null;
  /** The encapsulated message of a message/rfc822 (or message/global) part. */
  readonly message: { readonly envelope: Envelope; readonly body: BodyStructure } | null;
}

export interface MultipartBody extends BodyExtension {
  readonly kind: 'multipart';
  /** Subtype, e.g. "mixed". */
  readonly subtype: string;
  readonly parts: readonly BodyStructure[];
  readonly params: BodyParams;
}

export type BodyStructure = SinglePartBody | MultipartBody;

/** Placeholder for a multipart without parts, which the grammar cannot express. */
const EMPTY_PART: SinglePartBody = {
  kind: 'part',
  type: 'text',
  subtype: 'plain',
  params: [],
  id: null,
  description: null,
  encoding: '7bit',
  size: 0,
  lines: 0,
  md5: null,
  message: null,
  disposition: null,
  language: null,
  location: null,
};

function writeParams(w: ResponseWriter, params: BodyParams): void {
  if (params.length === 0) {
    w.nil();
    return;
  }
  w.list(params, ([name, value]) => w.string(name).sp().string(value));
}

function writeDisposition(w: ResponseWriter, disposition: BodyDisposition | null): void {
  if (disposition === null) {
    w.nil();
    return;
  }
  w.raw('(').string(disposition.type).sp();
  writeParams(w, disposition.params);
  w.raw(')');
}

/** SP body-fld-dsp SP body-fld-lang SP body-fld-loc */
function writeExtension(w: ResponseWriter, ext: BodyExtension): void {
  w.sp();
  writeDisposition(w, ext.disposition);
  w.sp();
  if (ext.language === null || ext.language.length === 0) w.nil();
  else if (ext.language.length === 1) w.string(ext.language[0] ?? '');
  else w.list(ext.language, (tag) => w.string(tag));
  w.sp().nstring(ext.location);
}

function isMessagePart(part: SinglePartBody): boolean {
  const type = part.type.toLowerCase();
  const subtype = part.subtype.toLowerCase();
  return (
    part.message !== null && type === 'message' && (subtype === 'rfc822' || subtype === 'global')
  );
}

/** Write `body` as BODYSTRUCTURE (`extended`) or BODY. */
export function writeBodyStructure(
  w: ResponseWriter,
  body: BodyStructure,
  extended: boolean,
): void {
  w.raw('(');
  if (body.kind === 'multipart') {
    const parts = body.parts.length > 0 ? body.parts : [EMPTY_PART];
    for (const part of parts) writeBodyStructure(w, part, extended);
    w.sp().string(body.subtype);
    if (extended) {
      w.sp();
      writeParams(w, body.params);
      writeExtension(w, body);
    }
    w.raw(')');
    return;
  }
  w.string(body.type).sp().string(body.subtype).sp();
  writeParams(w, body.params);
  w.sp().nstring(body.id).sp().nstring(body.description).sp().string(body.encoding);
  w.sp().number(body.size);
  if (isMessagePart(body) && body.message !== null) {
    w.sp();
    writeEnvelope(w, body.message.envelope);
    w.sp();
    writeBodyStructure(w, body.message.body, extended);
    w.sp().number(body.lines);
  } else if (body.type.toLowerCase() === 'text') {
    w.sp().number(body.lines);
  }
  if (extended) {
    w.sp().nstring(body.md5);
    writeExtension(w, body);
  }
  w.raw(')');
}
