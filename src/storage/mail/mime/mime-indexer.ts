/**
 * The streaming MIME indexer: fed the raw message bytes in chunks (CRLF or LF line endings,
 * byte-exact), it finds every part's offsets (RFC 2046 §5.1 boundaries, RFC 2046 §5.2.1
 * message/rfc822 encapsulation) and builds the ENVELOPE and BODYSTRUCTURE that IMAP FETCH
 * serves (RFC 9051 §7.5.2), in one pass and bounded memory: only header blocks (up to
 * `maxHeaderBytes` each) and a short prefix of each body line are kept.
 *
 * Dovecot is the reference for everything the RFCs leave open: sizes and line counts are of
 * the stored bytes (lines = LF count of the body), a boundary line is any line starting with
 * `--boundary`, a header cut short by a boundary ends there, a multipart without boundary or
 * without any part shows one empty text/plain part, text parts without charset get
 * ("charset" "us-ascii"), parts of multipart/digest default to message/rfc822. Invalid
 * Content-Type values are text/plain (RFC 2045 §5.2). Beyond `maxDepth` nested multiparts
 * or messages, or `maxParts` parts, the rest is opaque (application/octet-stream, or the
 * body of the last part). Malformed input never throws.
 */

import type {
  BodyStructure,
  BodyParams,
  SinglePartBody,
} from '../../../protocols/imap/compose/body-structure.ts';
import type { Envelope } from '../../../protocols/imap/compose/envelope.ts';
import {
  paramValue,
  parseContentType,
  parseDisposition,
  parseEncoding,
  parseLanguage,
} from './content-fields.ts';
import type { ContentType } from './content-fields.ts';
import { buildEnvelope } from './envelope-builder.ts';
import { headerValue, parseHeaderBlock } from './header-block.ts';
import type { HeaderField } from './header-block.ts';
import type { MimePart } from './mime-part.ts';

export interface MimeLimits {
  /** Deepest nesting of multiparts and encapsulated messages. */
  readonly maxDepth: number;
  /** Most parts (of every level) indexed. */
  readonly maxParts: number;
  /** Bytes of each header block kept for parsing (offsets stay exact beyond). */
  readonly maxHeaderBytes: number;
}

export const DEFAULT_MIME_LIMITS: MimeLimits = {
  maxDepth: 50,
  maxParts: 10_000,
  maxHeaderBytes: 256 * 1024,
};

/** What the indexer learns about one message. */
export interface MessageIndex {
  /** Octets (RFC822.SIZE). */
  readonly size: number;
  readonly envelope: Envelope;
  readonly body: BodyStructure;
  readonly parts: MimePart;
  /** The top-level header fields (within maxHeaderBytes). */
  readonly headers: readonly HeaderField[];
}

/** Longest line prefix kept in bodies: enough for any boundary we accept. */
const LINE_PREFIX = 1024;
const MAX_BOUNDARY = LINE_PREFIX - 4;
const DASH = 0x2d;

type NodeState = 'header' | 'body' | 'preamble' | 'parts' | 'epilogue';

interface PartInfo {
  readonly contentType: ContentType;
  readonly encoding: string;
  readonly id: string | null;
  readonly description: string | null;
  readonly md5: string | null;
  readonly disposition: { type: string; params: BodyParams } | null;
  readonly language: string[] | null;
  readonly location: string | null;
}

interface Node {
  readonly headerStart: number;
  readonly depth: number;
  /** Parts of a multipart/digest default to message/rfc822. */
  readonly inDigest: boolean;
  state: NodeState;
  bodyStart: number;
  end: number;
  lfAtBodyStart: number;
  lines: number;
  header: Uint8Array[];
  headerBytes: number;
  fields: HeaderField[];
  info: PartInfo | null;
  /** Latin-1 boundary text of an open multipart. */
  boundary: string | null;
  multipart: boolean;
  children: Node[];
  message: Node | null;
}

const latin1 = new TextDecoder('latin1');
const DEFAULT_TYPE: ContentType = { type: 'text', subtype: 'plain', params: [] };
const DIGEST_TYPE: ContentType = { type: 'message', subtype: 'rfc822', params: [] };

function newNode(headerStart: number, depth: number, inDigest: boolean): Node {
  return {
    headerStart,
    depth,
    inDigest,
    state: 'header',
    bodyStart: -1,
    end: -1,
    lfAtBodyStart: 0,
    lines: 0,
    header: [],
    headerBytes: 0,
    fields: [],
    info: null,
    boundary: null,
    multipart: false,
    children: [],
    message: null,
  };
}

function lower(s: string): string {
  return s.toLowerCase();
}

function isEncapsulated(ct: ContentType, encoding: string): boolean {
  const sub = lower(ct.subtype);
  const enc = lower(encoding);
  return (
    lower(ct.type) === 'message' &&
    (sub === 'rfc822' || sub === 'global') &&
    (enc === '7bit' || enc === '8bit' || enc === 'binary')
  );
}

function readInfo(fields: readonly HeaderField[], inDigest: boolean): PartInfo {
  const raw = headerValue(fields, 'content-type');
  const parsed = raw === null ? null : parseContentType(raw);
  const contentType = parsed ?? (raw === null && inDigest ? DIGEST_TYPE : DEFAULT_TYPE);
  const dispositionValue = headerValue(fields, 'content-disposition');
  const languageValue = headerValue(fields, 'content-language');
  return {
    contentType,
    encoding: parseEncoding(headerValue(fields, 'content-transfer-encoding')),
    id: nonEmpty(headerValue(fields, 'content-id')),
    description: nonEmpty(headerValue(fields, 'content-description')),
    md5: nonEmpty(headerValue(fields, 'content-md5')),
    disposition: dispositionValue === null ? null : parseDisposition(dispositionValue),
    language: languageValue === null ? null : parseLanguage(languageValue),
    location: nonEmpty(headerValue(fields, 'content-location')),
  };
}

function nonEmpty(value: string | null): string | null {
  return value === null || value === '' ? null : value;
}

export class MimeIndexer {
  readonly #limits: MimeLimits;
  readonly #root: Node;
  readonly #stack: Node[];
  #offset = 0;
  #lfCount = 0;
  #parts = 1;
  /** maxParts reached: boundaries are no longer recognised. */
  #exhausted = false;
  #finished = false;
  // The line being read.
  #lineStart = 0;
  #lineLen = 0;
  #lineBuf = new Uint8Array(256);
  #lineKept = 0;
  #lineCap = LINE_PREFIX;
  #lastByte = -1;
  #prevEol = 0;

  constructor(limits: Partial<MimeLimits> = {}) {
    this.#limits = { ...DEFAULT_MIME_LIMITS, ...limits };
    this.#root = newNode(0, 0, false);
    this.#stack = [this.#root];
    this.#lineCap = this.#capFor(this.#root);
  }

  /** Feed the next bytes of the message. */
  write(chunk: Uint8Array): void {
    if (this.#finished) return;
    let pos = 0;
    while (pos < chunk.length) {
      const lf = chunk.indexOf(0x0a, pos);
      // step: a whole body line that cannot be a boundary only moves the counters (the
      // common case: no copy, no per-line work)
      if (
        lf >= 0 &&
        this.#lineLen === 0 &&
        this.#stack[this.#stack.length - 1]?.state !== 'header' &&
        !(chunk[pos] === DASH && (pos + 1 >= chunk.length || chunk[pos + 1] === DASH))
      ) {
        const len = lf + 1 - pos;
        this.#prevEol = lf > pos && chunk[lf - 1] === 0x0d ? 2 : 1;
        this.#offset += len;
        this.#lineStart += len;
        this.#lfCount += 1;
        this.#lastByte = 0x0a;
        pos = lf + 1;
        continue;
      }
      const end = lf < 0 ? chunk.length : lf + 1;
      this.#keep(chunk, pos, end);
      this.#lineLen += end - pos;
      this.#offset += end - pos;
      if (lf >= 0) {
        const cr = lf > pos ? chunk[lf - 1] === 0x0d : this.#lastByte === 0x0d;
        this.#lastByte = 0x0a;
        this.#endLine(cr ? 2 : 1);
      } else {
        this.#lastByte = chunk[end - 1] as number;
      }
      pos = end;
    }
  }

  /** The index; the indexer takes no more input afterwards. */
  finish(): MessageIndex {
    if (!this.#finished) {
      if (this.#lineLen > 0) this.#endLine(0);
      this.#finished = true;
      while (this.#stack.length > 0)
        this.#close(this.#stack.pop() as Node, this.#offset, this.#lfCount);
    }
    const root = this.#root;
    return {
      size: this.#offset,
      envelope: buildEnvelope(root.fields),
      body: this.#structure(root),
      parts: this.#offsets(root),
      headers: root.fields,
    };
  }

  // ---- line scanning ----

  #capFor(node: Node): number {
    return node.state === 'header' ? this.#limits.maxHeaderBytes : LINE_PREFIX;
  }

  #keep(chunk: Uint8Array, from: number, to: number): void {
    const n = Math.min(to - from, this.#lineCap - this.#lineKept);
    if (n <= 0) return;
    if (this.#lineKept + n > this.#lineBuf.length) {
      const grown = new Uint8Array(Math.max(this.#lineBuf.length * 2, this.#lineKept + n));
      grown.set(this.#lineBuf.subarray(0, this.#lineKept));
      this.#lineBuf = grown;
    }
    this.#lineBuf.set(chunk.subarray(from, from + n), this.#lineKept);
    this.#lineKept += n;
  }

  #endLine(eol: number): void {
    const start = this.#lineStart;
    const len = this.#lineLen;
    const line = this.#lineBuf.subarray(0, this.#lineKept);
    const lf = eol > 0 ? 1 : 0;
    if (!this.#boundaryLine(line, start, len)) {
      const top = this.#stack[this.#stack.length - 1];
      if (top !== undefined && top.state === 'header') {
        if (len === eol && eol > 0) {
          this.#startBody(top, start + len, this.#lfCount + lf);
        } else if (top.headerBytes < this.#limits.maxHeaderBytes) {
          const kept = line.subarray(
            0,
            Math.min(line.length, this.#limits.maxHeaderBytes - top.headerBytes),
          );
          top.header.push(Uint8Array.from(kept));
          top.headerBytes += kept.length;
        }
      }
    }
    this.#lfCount += lf;
    this.#prevEol = eol;
    this.#lineStart = start + len;
    this.#lineLen = 0;
    this.#lineKept = 0;
    const top = this.#stack[this.#stack.length - 1];
    this.#lineCap = top === undefined ? LINE_PREFIX : this.#capFor(top);
    if (this.#lineBuf.length > 4 * LINE_PREFIX && this.#lineCap === LINE_PREFIX) {
      this.#lineBuf = new Uint8Array(256);
    }
  }

  /** Handle a boundary delimiter line of any open multipart; false when it is not one. */
  #boundaryLine(line: Uint8Array, start: number, len: number): boolean {
    if (this.#exhausted || line[0] !== DASH || line[1] !== DASH) return false;
    for (let k = this.#stack.length - 1; k >= 0; k--) {
      const m = this.#stack[k] as Node;
      if (m.boundary === null || (m.state !== 'preamble' && m.state !== 'parts')) continue;
      if (!matchesBoundary(line, m.boundary)) continue;
      const after = 2 + m.boundary.length;
      const closing = line[after] === DASH && line[after + 1] === DASH;
      if (!closing && this.#parts >= this.#limits.maxParts) {
        // Out of parts: from here on boundaries are plain lines of the current part.
        this.#exhausted = true;
        return false;
      }
      // The line break before the delimiter belongs to it (RFC 2046 §5.1.1).
      const endPos = start - this.#prevEol;
      const lfAtEnd = this.#lfCount - (this.#prevEol > 0 ? 1 : 0);
      while (this.#stack.length > k + 1) this.#close(this.#stack.pop() as Node, endPos, lfAtEnd);
      if (closing) {
        m.state = 'epilogue';
      } else {
        m.state = 'parts';
        const child = newNode(
          start + len,
          m.depth + 1,
          lower(m.info?.contentType.subtype ?? '') === 'digest',
        );
        this.#parts++;
        m.children.push(child);
        this.#stack.push(child);
      }
      return true;
    }
    return false;
  }

  /** The header of `node` ended at `bodyStart`: parse it and decide how to read the body. */
  #startBody(node: Node, bodyStart: number, lfAtBodyStart: number, open = true): void {
    node.bodyStart = bodyStart;
    node.lfAtBodyStart = lfAtBodyStart;
    node.fields = parseHeaderBlock(concat(node.header));
    node.header = [];
    const info = readInfo(node.fields, node.inDigest);
    node.info = info;
    node.state = 'body';
    const type = lower(info.contentType.type);
    const deepEnough = node.depth >= this.#limits.maxDepth;
    if (type === 'multipart') {
      // A multipart cut short (no body) still shows as one, with its empty part.
      node.multipart = !deepEnough;
      const boundary = paramValue(info.contentType.params, 'boundary');
      if (
        node.multipart &&
        boundary !== undefined &&
        boundary !== '' &&
        boundary.length <= MAX_BOUNDARY
      ) {
        node.boundary = latin1Boundary(boundary);
        node.state = 'preamble';
      }
      return;
    }
    const canNest = open && !deepEnough && this.#parts < this.#limits.maxParts;
    if (isEncapsulated(info.contentType, info.encoding) && canNest) {
      const inner = newNode(bodyStart, node.depth + 1, false);
      this.#parts++;
      node.message = inner;
      this.#stack.push(inner);
    }
  }

  /** Close `node` at `endPos`, `lfAtEnd` LFs before it. */
  #close(node: Node, endPos: number, lfAtEnd: number): void {
    if (node.state === 'header') {
      // No blank line: everything up to here was header; the body is empty.
      const end = Math.max(node.headerStart, endPos);
      this.#startBody(node, end, lfAtEnd, false);
      node.end = end;
      node.lines = 0;
      return;
    }
    node.end = Math.max(node.bodyStart, endPos);
    node.lines = node.end > node.bodyStart ? Math.max(0, lfAtEnd - node.lfAtBodyStart) : 0;
  }

  // ---- results ----

  #offsets(node: Node): MimePart {
    const base = { h: node.headerStart, b: node.bodyStart, e: node.end };
    if (node.multipart) {
      const c =
        node.children.length > 0
          ? node.children.map((child) => this.#offsets(child))
          : [{ h: node.end, b: node.end, e: node.end }];
      return { ...base, c };
    }
    if (node.message !== null) return { ...base, m: this.#offsets(node.message) };
    return base;
  }

  #structure(node: Node): BodyStructure {
    const info = node.info ?? readInfo([], false);
    const ext = {
      disposition: info.disposition,
      language: info.language,
      location: info.location,
    };
    if (node.multipart) {
      return {
        kind: 'multipart',
        subtype: info.contentType.subtype,
        params: info.contentType.params,
        parts:
          node.children.length > 0 ? node.children.map((c) => this.#structure(c)) : [EMPTY_TEXT],
        ...ext,
      };
    }
    const ct = lower(info.contentType.type) === 'multipart' ? OPAQUE : info.contentType;
    let params = ct.params;
    if (lower(ct.type) === 'text' && paramValue(params, 'charset') === undefined) {
      params = [...params, ['charset', 'us-ascii']];
    }
    const part: SinglePartBody = {
      kind: 'part',
      type: ct.type,
      subtype: ct.subtype,
      params,
      id: info.id,
      description: info.description,
      encoding: info.encoding,
      size: node.end - node.bodyStart,
      lines: node.lines,
      md5: info.md5,
      message:
        node.message === null
          ? null
          : { envelope: buildEnvelope(node.message.fields), body: this.#structure(node.message) },
      ...ext,
    };
    return part;
  }
}

const OPAQUE: ContentType = { type: 'application', subtype: 'octet-stream', params: [] };

/** The part Dovecot shows for a multipart without parts. */
const EMPTY_TEXT: SinglePartBody = {
  kind: 'part',
  type: 'text',
  subtype: 'plain',
  params: [['charset', 'us-ascii']],
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

function latin1Boundary(boundary: string): string {
  // Compare bytes: the boundary as UTF-8 bytes seen through latin-1.
  return latin1.decode(new TextEncoder().encode(boundary));
}

function matchesBoundary(line: Uint8Array, boundary: string): boolean {
  if (line.length < 2 + boundary.length) return false;
  for (let i = 0; i < boundary.length; i++) {
    if (line[2 + i] !== boundary.charCodeAt(i)) return false;
  }
  return true;
}

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0] as Uint8Array;
  return new Uint8Array(Buffer.concat(chunks));
}

/** Index a message held in memory. */
export function indexMessage(bytes: Uint8Array, limits: Partial<MimeLimits> = {}): MessageIndex {
  const indexer = new MimeIndexer(limits);
  indexer.write(bytes);
  return indexer.finish();
}
