/**
 * DATA phase dot-unstuffing (RFC 5321 §4.5.2) that searches with Buffer.indexOf instead of
 * smtp-server's byte-by-byte loop, which was the largest single cost of accepting a 1 MB
 * message. Installed once on smtp-server's SMTPStream prototype (reached through a live
 * connection's parser, as the class is not exported); behaviour is that of the original:
 *
 * - the payload ends at the first CRLF "." CRLF, or at "." CRLF as the very first bytes;
 * - a line that starts with ".." loses its first dot; any other dot is content;
 * - bytes after the terminator are pipelined commands, handed back to the command parser;
 * - the last 4 bytes of a chunk are held back until the next one, so a terminator or escape
 *   split over TCP segments is still recognised (and can't be forged by segmentation).
 *
 * Differences: every piece is written synchronously (the original yields to the event loop
 * after each escaped dot), and only the last write of a chunk waits for drain.
 */

import type { PassThrough } from 'node:stream';

/** The SMTPStream members this module reads and replaces (smtp-server 3.x, dist/esm/smtp-stream.js). */
interface ParserInternals {
  _dataStream: PassThrough | null;
  _atDataStart: boolean;
  _lastBytes: Buffer | false;
  _countDataBytes(len: number): void;
  _endDataMode(chunk: Buffer | false, remainder: Buffer, done: (err?: Error) => void): void;
  _feedDataStream(chunk: Buffer, done: (err?: Error) => void): void;
}

const LF_DOT = Buffer.from('\n.');
const DOT_CRLF = Buffer.from('.\r\n');
const HOLD = 4;
const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;

export function feedDataStream(
  this: ParserInternals,
  input: Buffer,
  done: (err?: Error) => void,
): void {
  const out = this._dataStream;
  let chunk = input;
  if (this._lastBytes !== false && this._lastBytes.length > 0) {
    chunk = Buffer.concat([this._lastBytes, chunk]);
  }
  this._lastBytes = false;
  if (this._atDataStart && chunk.length >= 3 && chunk.subarray(0, 3).equals(DOT_CRLF)) {
    this._endDataMode(false, chunk.subarray(3), done);
    return;
  }
  if (this._atDataStart && chunk.length >= 2 && chunk[0] === DOT && chunk[1] === DOT) {
    chunk = chunk.subarray(1);
    this._atDataStart = false;
  }
  const len = chunk.length;
  const emit = (piece: Buffer): boolean => {
    this._countDataBytes(piece.length);
    return out !== null && out.writable ? out.write(piece) : true;
  };
  let start = 0;
  // step: a line feed at index 0 was looked at in the previous chunk (it is held back), but
  // at the very start of the payload nothing was
  let from = this._atDataStart ? 0 : 1;
  for (;;) {
    const lf = chunk.indexOf(LF_DOT, from);
    // step: a dot needs two bytes after it to be told apart; later ones wait in the hold
    if (lf < 0 || lf + 1 > len - 3) break;
    const dot = lf + 1;
    if (chunk[dot - 2] === CR && chunk[dot + 1] === CR && chunk[dot + 2] === LF) {
      const last = chunk.subarray(start, dot);
      this._countDataBytes(last.length);
      this._endDataMode(last.length > 0 ? last : false, chunk.subarray(dot + 3), done);
      return;
    }
    if (chunk[dot + 1] === DOT) {
      if (dot > start) emit(chunk.subarray(start, dot));
      start = dot + 1;
      from = dot + 2;
    } else {
      from = dot + 1;
    }
  }
  const keep = Math.max(start, len - HOLD);
  this._lastBytes = chunk.subarray(keep);
  if (keep <= start) {
    done();
    return;
  }
  if (emit(chunk.subarray(start, keep)) || out === null || out.destroyed) {
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

/** Replace the DATA scanner on the prototype of `parser` (an SMTPStream); once per process. */
export function installFastUnstuffing(parser: unknown): void {
  if (installed || parser === null || typeof parser !== 'object') return;
  const proto = Object.getPrototypeOf(parser) as Partial<ParserInternals> | null;
  // step: only a parser with the expected shape is patched; otherwise the original stays
  if (
    proto === null ||
    typeof proto._feedDataStream !== 'function' ||
    typeof proto._endDataMode !== 'function' ||
    typeof proto._countDataBytes !== 'function'
  ) {
    return;
  }
  proto._feedDataStream = feedDataStream;
  installed = true;
}
