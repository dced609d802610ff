/**
 * DATA phase dot-unstuffing (RFC 5321 §4.5.2) that searches with Buffer.indexOf instead of
 * smtp-server's byte-by-byte loop, which was the largest single cost of accepting a 1 MB
 * message. Installed once on smtp-server's SMTPStream prototype (reached through a live
 * connection's parser, as the class is not exported); behaviour is that of the original:
 *
 * - the payload ends at the first CRLF "." CRLF, or at "." CRLF as the very first bytes;
 * - a line that starts with ".." loses its first dot; any other dot is content;
 * - bytes after the terminator are pipelined commands, handed back to the command parser;
 * - a terminator or escape split over TCP segments is still recognised (and can't be forged
 *   by segmentation): the scanner remembers the last bytes of a chunk and holds back a
 *   line-start dot (and a CR after it) until the next chunk says what it is.
 *
 * Differences: the payload goes out as views of the socket's chunks (the original
 * concatenated each chunk with the 4 bytes before it), every piece is written synchronously
 * (the original yields to the event loop after each escaped dot), only the last write of a
 * chunk waits for drain, and a line feed as the very first byte makes the next dot a line
 * start. While a BDAT chunk is read (chunking.ts) its bytes are counted off instead.
 */

import type { PassThrough } from 'node:stream';
import { feedChunk } from './chunking.ts';
import type { ChunkingParser } from './chunking.ts';

/** The SMTPStream members this module reads and replaces (smtp-server 3.x, dist/esm/smtp-stream.js). */
interface ParserInternals {
  _dataStream: PassThrough | null;
  _atDataStart: boolean;
  _countDataBytes(len: number): void;
  _endDataMode(chunk: Buffer | false, remainder: Buffer, done: (err?: Error) => void): void;
  _feedDataStream(chunk: Buffer, done: (err?: Error) => void): void;
  startDataMode(maxBytes?: number): PassThrough;
}

const LF_DOT = Buffer.from('\n.');
const HELD_DOT = Buffer.from('.');
const HELD_DOT_CR = Buffer.from('.\r');
const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;

/**
 * What the scanner remembers between chunks: the last bytes seen (enough to tell whether the
 * next byte starts a line, and after a CRLF), and a line-start dot (plus a CR) not yet known
 * to be content, an escape or the terminator.
 */
interface ScanState {
  lastLf: boolean;
  lastCr: boolean;
  lastCrLf: boolean;
  /** 0: nothing held; 1: "." held; 2: ".\r" held. */
  held: 0 | 1 | 2;
  /** The held dot came after a CRLF (so ".\r\n" ends the data). */
  heldAfterCrLf: boolean;
}

type Scanning = ParserInternals & ChunkingParser & { _scan?: ScanState | undefined };

/** The state at the start of the payload: as if just after a CRLF. */
function freshState(): ScanState {
  return { lastLf: true, lastCr: false, lastCrLf: true, held: 0, heldAfterCrLf: false };
}

export function feedDataStream(this: Scanning, buf: Buffer, done: (err?: Error) => void): void {
  // step: a BDAT chunk is counted off, not scanned (chunking.ts)
  const reader = this._chunk;
  if (reader !== undefined) {
    feedChunk(this, reader, buf, done);
    return;
  }
  const out = this._dataStream;
  const st = (this._scan ??= freshState());
  const len = buf.length;
  let ok = true;
  const emit = (piece: Buffer): void => {
    this._countDataBytes(piece.length);
    if (out !== null && out.writable) ok = out.write(piece);
  };
  const end = (remainder: Buffer): void => {
    this._scan = undefined;
    this._endDataMode(false, remainder, done);
  };
  let start = 0;
  let i = 0;
  // step: settle a line-start dot held from the previous chunk
  if (st.held === 1 && len > 0) {
    if (buf[0] === DOT) {
      // an escape: the held dot goes, this one is content
      st.held = 0;
      i = 1;
      start = 0;
    } else if (buf[0] === CR) {
      st.held = 2;
      i = 1;
    } else {
      st.held = 0;
      emit(HELD_DOT);
      Object.assign(st, { lastLf: false, lastCr: false, lastCrLf: false });
    }
  }
  if (st.held === 2 && i < len) {
    if (buf[i] === LF && st.heldAfterCrLf) {
      end(buf.subarray(i + 1));
      return;
    }
    st.held = 0;
    emit(HELD_DOT_CR);
    Object.assign(st, { lastLf: false, lastCr: true, lastCrLf: false });
    start = i;
  }
  if (st.held !== 0) {
    // step: the chunk was too short to settle it (one byte)
    done();
    return;
  }
  for (;;) {
    let dot: number;
    if (i === 0 && st.lastLf && len > 0 && buf[0] === DOT) {
      dot = 0;
    } else {
      const lf = buf.indexOf(LF_DOT, i === 0 ? 0 : i - 1);
      if (lf < 0) break;
      dot = lf + 1;
    }
    const afterCrLf = dot >= 2 ? buf[dot - 2] === CR : dot === 1 ? st.lastCr : st.lastCrLf;
    if (dot > start) emit(buf.subarray(start, dot));
    start = dot;
    if (dot + 1 >= len || (buf[dot + 1] === CR && dot + 2 >= len)) {
      // step: what follows the dot is in the next chunk
      st.held = dot + 1 >= len ? 1 : 2;
      st.heldAfterCrLf = afterCrLf;
      start = len;
      break;
    }
    if (buf[dot + 1] === DOT) {
      start = dot + 1;
      i = dot + 2;
      continue;
    }
    if (buf[dot + 1] === CR && buf[dot + 2] === LF && afterCrLf) {
      end(buf.subarray(dot + 3));
      return;
    }
    i = dot + 1;
  }
  if (start < len) emit(buf.subarray(start, len));
  if (st.held === 0 && len > 0) {
    const last = buf[len - 1];
    st.lastCrLf = last === LF && (len >= 2 ? buf[len - 2] === CR : st.lastCr);
    st.lastLf = last === LF;
    st.lastCr = last === CR;
  }
  if (ok || out === null || out.destroyed) {
    done();
    return;
  }
  const resume = (): void => {
    out.removeListener('drain', resume);
    out.removeListener('close', resume);
    done();
  };
  out.once('drain', resume);
  out.once('close', resume);
}

let installed = false;

/**
 * Replace the DATA scanner on the prototype of `parser` (an SMTPStream), once per process;
 * true when it is in place (BDAT depends on it).
 */
export function installFastUnstuffing(parser: unknown): boolean {
  if (installed || parser === null || typeof parser !== 'object') return installed;
  const proto = Object.getPrototypeOf(parser) as Partial<ParserInternals> | null;
  // step: only a parser with the expected shape is patched; otherwise the original stays
  if (
    proto === null ||
    typeof proto._feedDataStream !== 'function' ||
    typeof proto._endDataMode !== 'function' ||
    typeof proto._countDataBytes !== 'function' ||
    typeof proto.startDataMode !== 'function'
  ) {
    return false;
  }
  const startDataMode = proto.startDataMode;
  proto._feedDataStream = feedDataStream;
  // step: every DATA starts with a fresh scanner state
  proto.startDataMode = function (this: Scanning, maxBytes?: number): PassThrough {
    this._scan = freshState();
    return startDataMode.call(this, maxBytes);
  };
  installed = true;
  return true;
}
