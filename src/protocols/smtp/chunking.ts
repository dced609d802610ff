/**
 * CHUNKING (RFC 3030) for smtp-server, which has DATA only: `BDAT <size> [LAST]` followed by
 * exactly <size> octets, no dot-stuffing. Installed per connection (handler_BDAT, with DATA
 * and the session reset aware of it) and on the parser: while a chunk is being read, the
 * DATA scanner (data-unstuff.ts) hands the bytes here, counted off instead of scanned.
 *
 * - Each chunk but the last is answered "250 2.0.0 <n> octets received" once read; the LAST
 *   one ends the message, which goes to the server's onData like a DATA message, and its
 *   answer is the answer to the transaction.
 * - The bytes of a refused chunk (no MAIL or RCPT, or a transaction already failed) are still
 *   read and dropped, so the client's pipelined stream stays in step. A message past the size
 *   limit is refused at the chunk that crosses it (552 5.3.4), its chunks kept no longer, and
 *   every further chunk of it gets the same answer until LAST or RSET.
 * - A BDAT line that can't be parsed leaves the stream out of step: 501 and the connection
 *   closes. DATA in the middle of a BDAT transaction is 503.
 */

import { PassThrough } from 'node:stream';
import type { SMTPServerSession } from 'smtp-server';

/** A chunk being read off the connection. */
export interface ChunkReader {
  remaining: number;
  take(piece: Buffer): void;
  /** The chunk is complete; `resume` goes on with the bytes after it. */
  finish(resume: () => void): void;
}

/** The parser members used while reading a chunk (smtp-server's SMTPStream). */
export interface ChunkingParser {
  _dataMode: boolean;
  _chunk?: ChunkReader | undefined;
  _write(chunk: Buffer, encoding: string, done: (err?: Error) => void): void;
}

type Reply = readonly [code: number, text: string];

/** The BDAT transaction of a connection: chunks kept so far, or why it failed. */
interface BdatTransaction {
  chunks: Buffer[];
  size: number;
  failed?: Reply;
}

/** The SMTPConnection members used here (smtp-server 3.x). */
interface ChunkingConnection {
  session: SMTPServerSession;
  _parser: ChunkingParser | false;
  _server: {
    options: { size?: number };
    onData(
      stream: PassThrough,
      session: SMTPServerSession,
      callback: (err?: Error & { responseCode?: number }, message?: unknown) => void,
    ): void;
  };
  _transactionCounter: number;
  _unrecognizedCommands: number;
  _bdat?: BdatTransaction | undefined;
  send(code: number, data?: string | string[] | null, context?: string | false): void;
  close(): void;
  _resetSession(): void;
  handler_DATA(command: Buffer, callback: () => void): void;
  handler_BDAT?: (command: Buffer, callback: () => void) => void;
}

const BDAT_LINE = /^BDAT +(\d{1,10})( +LAST)? *$/i;

/** Count a chunk's bytes off `buf`; the rest goes back to the command parser. */
export function feedChunk(
  parser: ChunkingParser,
  reader: ChunkReader,
  buf: Buffer,
  done: (err?: Error) => void,
): void {
  const n = Math.min(reader.remaining, buf.length);
  if (n > 0) reader.take(buf.subarray(0, n));
  reader.remaining -= n;
  if (reader.remaining > 0) {
    done();
    return;
  }
  parser._chunk = undefined;
  parser._dataMode = false;
  const rest = buf.subarray(n);
  reader.finish(() => parser._write(rest, 'buffer', done));
}

/** Hand a complete BDAT message to onData and answer the transaction as DATA would. */
function deliver(conn: ChunkingConnection, tx: BdatTransaction, resume: () => void): void {
  const stream = Object.assign(new PassThrough(), { byteLength: tx.size, sizeExceeded: false });
  conn._server.onData(stream, conn.session, (err, message) => {
    if (err) conn.send(err.responseCode ?? 450, err.message);
    else conn.send(250, typeof message === 'string' ? message : 'OK: message queued', 'DATA_OK');
    conn._transactionCounter++;
    conn._unrecognizedCommands = 0;
    conn._resetSession();
    resume();
  });
  for (const chunk of tx.chunks) stream.write(chunk);
  stream.end();
}

function handleBdat(this: ChunkingConnection, command: Buffer, callback: () => void): void {
  const parser = this._parser;
  const m = BDAT_LINE.exec(command.toString('latin1').trim());
  if (m === null) {
    // step: the chunk size is unknown, so the rest of the stream can't be read in step
    this.send(501, '5.5.4 Syntax: BDAT <size> [LAST]');
    this.close();
    return;
  }
  if (parser === false) {
    callback();
    return;
  }
  const size = Number(m[1]);
  const last = m[2] !== undefined;
  const envelope = this.session.envelope;
  let refusal: Reply | undefined;
  if (!envelope.mailFrom) refusal = [503, '5.5.1 Error: need MAIL command'];
  else if (envelope.rcptTo.length === 0) refusal = [503, '5.5.1 Error: need RCPT command'];
  const tx = refusal === undefined ? (this._bdat ??= { chunks: [], size: 0 }) : undefined;
  const max = Number(this._server.options.size) || Infinity;
  const reader: ChunkReader = {
    remaining: size,
    take: (piece) => {
      if (tx === undefined || tx.failed !== undefined) return;
      tx.size += piece.length;
      if (tx.size > max) {
        tx.failed = [552, `5.3.4 Error: message exceeds fixed maximum message size ${max}`];
        tx.chunks = [];
        return;
      }
      // step: a view of the socket's buffer, which is not reused
      tx.chunks.push(piece);
    },
    finish: (resume) => {
      const failure = refusal ?? tx?.failed;
      if (failure !== undefined || tx === undefined) {
        this.send(...(failure ?? refusal ?? [451, '4.3.0 Error']));
        if (last && tx !== undefined) this._resetSession();
        resume();
        return;
      }
      if (!last) {
        this.send(250, `2.0.0 ${size} octets received`);
        resume();
        return;
      }
      this._bdat = undefined;
      deliver(this, tx, resume);
    },
  };
  if (size === 0) {
    reader.finish(callback);
    return;
  }
  parser._chunk = reader;
  parser._dataMode = true;
  callback();
}

/** Give `connection` (an SMTPConnection) the BDAT command. */
export function installChunking(connection: unknown): void {
  const conn = connection as ChunkingConnection;
  const data = conn.handler_DATA;
  const reset = conn._resetSession;
  conn.handler_BDAT = handleBdat;
  conn.handler_DATA = function (this: ChunkingConnection, command, callback) {
    if (this._bdat !== undefined) {
      this.send(503, '5.5.1 Error: DATA within a BDAT transaction');
      callback();
      return;
    }
    data.call(this, command, callback);
  };
  conn._resetSession = function (this: ChunkingConnection) {
    this._bdat = undefined;
    reset.call(this);
  };
}

/** The EHLO reply's extension lines with CHUNKING added. */
export function withChunking(lines: readonly string[]): string[] {
  return lines.includes('CHUNKING') ? [...lines] : [...lines, 'CHUNKING'];
}
