/**
 * A session's output: response parts are coalesced into large writes, literal payloads that
 * are produced later (LazyBytes: message bodies streamed from the blob store) are piped with
 * backpressure, and a literal always carries exactly the bytes it announced, so a short or
 * failing source can never desynchronise the protocol.
 */

import type { Socket } from 'node:net';
import type { LazyBytes, WirePart } from './compose/response-writer.ts';

/** Bytes gathered before a write to the socket. */
const COALESCE = 64 * 1024;
const PAD = 0x20;

export class SessionOutput {
  #socket: Socket;
  #chunks: Uint8Array[] = [];
  #size = 0;
  readonly #onStreamError: (err: unknown) => void;

  constructor(socket: Socket, onStreamError: (err: unknown) => void) {
    this.#socket = socket;
    this.#onStreamError = onStreamError;
  }

  /** Write through another socket from now on (after STARTTLS). */
  setSocket(socket: Socket): void {
    this.#chunks = [];
    this.#size = 0;
    this.#socket = socket;
  }

  get #open(): boolean {
    return !this.#socket.destroyed && this.#socket.writable;
  }

  /** Queue parts; waits only when the socket is full or a literal is streamed. */
  async write(parts: readonly WirePart[]): Promise<void> {
    for (const part of parts) {
      if (part instanceof Uint8Array) {
        if (part.length === 0) continue;
        this.#chunks.push(part);
        this.#size += part.length;
        if (this.#size >= COALESCE) await this.flush();
      } else if (part.size <= COALESCE) {
        // step: a small literal joins the pending write instead of costing writes of its own
        await this.#gather(part);
      } else {
        await this.flush();
        await this.#stream(part);
      }
    }
  }

  /**
   * Hand what is queued to the socket. The write itself happens synchronously (before the
   * first await); the promise waits for the socket to drain when its buffer is full.
   */
  async flush(): Promise<void> {
    if (this.#chunks.length === 0) return;
    const data = this.#chunks.length === 1 ? this.#chunks[0] : Buffer.concat(this.#chunks);
    this.#chunks = [];
    this.#size = 0;
    if (data === undefined || !this.#open) return;
    if (!this.#socket.write(data)) await this.#drained();
  }

  /** Read a small literal into the pending write, exactly `size` bytes. */
  async #gather(lazy: LazyBytes): Promise<void> {
    let got = 0;
    try {
      for await (const chunk of lazy.open()) {
        const take = Math.min(chunk.length, lazy.size - got);
        if (take <= 0) break;
        this.#chunks.push(take === chunk.length ? chunk : chunk.subarray(0, take));
        got += take;
      }
    } catch (err) {
      this.#onStreamError(err);
    }
    if (got < lazy.size) {
      this.#onStreamError(new Error(`literal source ended ${lazy.size - got} bytes short`));
      this.#chunks.push(new Uint8Array(lazy.size - got).fill(PAD));
    }
    this.#size += lazy.size;
    if (this.#size >= COALESCE) await this.flush();
  }

  async #stream(lazy: LazyBytes): Promise<void> {
    let sent = 0;
    try {
      for await (const chunk of lazy.open()) {
        if (!this.#open) return;
        const take = Math.min(chunk.length, lazy.size - sent);
        if (take <= 0) break;
        sent += take;
        const ok = this.#socket.write(take === chunk.length ? chunk : chunk.subarray(0, take));
        if (!ok) await this.#drained();
      }
    } catch (err) {
      this.#onStreamError(err);
    }
    // step: a short source is padded so the literal stays the size it announced
    if (sent < lazy.size && this.#open) {
      this.#onStreamError(new Error(`literal source ended ${lazy.size - sent} bytes short`));
      let left = lazy.size - sent;
      while (left > 0 && this.#open) {
        const n = Math.min(left, COALESCE);
        if (!this.#socket.write(new Uint8Array(n).fill(PAD))) await this.#drained();
        left -= n;
      }
    }
  }

  #drained(): Promise<void> {
    const socket = this.#socket;
    if (!this.#open) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        socket.off('drain', done);
        socket.off('close', done);
        resolve();
      };
      socket.on('drain', done);
      socket.on('close', done);
    });
  }
}
