/**
 * Room in front of a received message for the header fields SMTP prepends (Received,
 * Authentication-Results, ...): the message is assembled once into a buffer with free bytes
 * before it, and prepending writes into them instead of copying the whole message again (a
 * 1 MB message is then copied once between the socket and the blob store).
 */

import { DEFAULT_INLINE_MAX } from '../../storage/inline-blob-store.ts';

/** Free bytes kept in front of each assembled message. */
export const HEADROOM = 8 * 1024;

/** Views made by `assemble` and the free bytes in front of each (used at most once). */
const room = new WeakMap<Uint8Array, number>();

/**
 * Messages from this size on are assembled in shared memory, which the blob writer thread
 * reads without a copy (storage/blob-writer.ts); smaller ones are stored inline anyway.
 */
const SHARED_FROM = DEFAULT_INLINE_MAX;

/** The chunks as one message, with HEADROOM free bytes in front of it in the same buffer. */
export function assemble(chunks: readonly Uint8Array[], size: number): Buffer {
  const buffer =
    size >= SHARED_FROM
      ? Buffer.from(new SharedArrayBuffer(HEADROOM + size))
      : Buffer.allocUnsafe(HEADROOM + size);
  let at = HEADROOM;
  for (const chunk of chunks) {
    buffer.set(chunk, at);
    at += chunk.byteLength;
  }
  const message = buffer.subarray(HEADROOM, HEADROOM + size);
  room.set(message, HEADROOM);
  return message;
}

/**
 * `header` written just before `message` when it came from `assemble` with room for it: the
 * view over both, no copy. Undefined otherwise. The room is given once.
 */
export function prependInPlace(header: Buffer, message: Uint8Array): Buffer | undefined {
  const free = room.get(message);
  if (free === undefined || header.byteLength > free) return undefined;
  room.delete(message);
  const whole = Buffer.from(
    message.buffer,
    message.byteOffset - header.byteLength,
    message.byteLength + header.byteLength,
  );
  whole.set(header, 0);
  return whole;
}
