/**
 * Key codecs. Keys are tuples packed into bytes so that bytewise order equals tuple order
 * (the FoundationDB tuple-layer idea, our own small encoding): a one-byte subspace, then
 * elements, each a type tag followed by its payload.
 *
 *   0x01 bytes   payload with 0x00 escaped as 0x00 0xff, terminated by 0x00
 *   0x02 string  UTF-8, escaped and terminated as bytes
 *   0x15 uint    8 bytes big-endian (0 .. 2^64-1)
 *
 * A packed tuple is a prefix of every longer tuple that starts with the same elements, so
 * `prefixRange(pack(...))` scans all keys under it in order.
 */

import type { KeyRange } from './store.ts';

/** One-byte subspaces. Each domain owns one or more; never reuse a byte. */
export const Subspace = {
  /** Per-account change id counters: (account) -> int64. */
  changeCounter: 0x63, // 'c'
  /** Change log: (account, changeId) -> entries. */
  changeLog: 0x4c, // 'L'
  /** Global counters (id allocation): (name) -> int64. */
  counter: 0x43, // 'C'
  /** Directory: domains, principals, addresses, memberships. */
  directory: 0x44, // 'D'
  /** Server metadata (schema version, instance id). */
  meta: 0x6d, // 'm'
  /** Mail domain service. */
  mail: 0x4d, // 'M'
  /** Calendars. */
  calendar: 0x45, // 'E'
  /** Contacts. */
  contacts: 0x41, // 'A'
  /** Files. */
  files: 0x46, // 'F'
  /** Outbound SMTP queue. */
  queue: 0x51, // 'Q'
  /** Social network objects. */
  social: 0x53, // 'S'
  /** Collaborative documents. */
  collab: 0x4f, // 'O'
  /** Blob references (for blob stores that keep metadata in the store). */
  blob: 0x42, // 'B'
} as const;

export type SubspaceId = (typeof Subspace)[keyof typeof Subspace];

export type TupleElement = string | number | bigint | Uint8Array;

const TAG_BYTES = 0x01;
const TAG_STRING = 0x02;
const TAG_UINT = 0x15;
const MAX_U64 = (1n << 64n) - 1n;

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

/** Pack a subspace and tuple elements into an order-preserving key. */
export function pack(
  subspace: SubspaceId | number,
  ...elements: readonly TupleElement[]
): Uint8Array {
  const parts: number[] = [subspace & 0xff];
  for (const el of elements) {
    if (typeof el === 'string') {
      parts.push(TAG_STRING);
      pushEscaped(parts, utf8.encode(el));
    } else if (el instanceof Uint8Array) {
      parts.push(TAG_BYTES);
      pushEscaped(parts, el);
    } else {
      const n = typeof el === 'bigint' ? el : BigInt(el);
      if (typeof el === 'number' && !Number.isSafeInteger(el)) {
        throw new RangeError(`key element ${el} is not a safe integer`);
      }
      if (n < 0n || n > MAX_U64) throw new RangeError(`key element ${n} out of uint64 range`);
      parts.push(TAG_UINT);
      for (let shift = 56n; shift >= 0n; shift -= 8n) parts.push(Number((n >> shift) & 0xffn));
    }
  }
  return Uint8Array.from(parts);
}

function pushEscaped(out: number[], bytes: Uint8Array): void {
  for (const b of bytes) {
    out.push(b);
    if (b === 0x00) out.push(0xff);
  }
  out.push(0x00);
}

/** Unpack a key made by `pack`: returns the subspace byte and the elements. */
export function unpack(key: Uint8Array): { subspace: number; elements: TupleElement[] } {
  if (key.length === 0) throw new RangeError('empty key');
  const elements: TupleElement[] = [];
  let i = 1;
  while (i < key.length) {
    const tag = key[i++];
    if (tag === TAG_STRING || tag === TAG_BYTES) {
      const bytes: number[] = [];
      for (;;) {
        if (i >= key.length) throw new RangeError('unterminated key element');
        const b = key[i++] as number;
        if (b === 0x00) {
          if (key[i] === 0xff) {
            bytes.push(0x00);
            i++;
            continue;
          }
          break;
        }
        bytes.push(b);
      }
      const raw = Uint8Array.from(bytes);
      elements.push(tag === TAG_STRING ? utf8Decoder.decode(raw) : raw);
    } else if (tag === TAG_UINT) {
      if (i + 8 > key.length) throw new RangeError('truncated uint key element');
      let n = 0n;
      for (let j = 0; j < 8; j++) n = (n << 8n) | BigInt(key[i + j] as number);
      i += 8;
      elements.push(n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n);
    } else {
      throw new RangeError(`unknown key element tag ${tag}`);
    }
  }
  return { subspace: key[0] as number, elements };
}

/** The smallest key greater than every key that starts with `prefix`. */
export function prefixEnd(prefix: Uint8Array): Uint8Array {
  const out = Uint8Array.from(prefix);
  for (let i = out.length - 1; i >= 0; i--) {
    if ((out[i] as number) < 0xff) {
      out[i] = (out[i] as number) + 1;
      return out.subarray(0, i + 1);
    }
  }
  throw new RangeError('prefix has no upper bound');
}

/**
 * A range covering the packed tuple `prefix` and every longer tuple that starts with its
 * elements. The upper bound is `prefix + 0xff`, not `prefixEnd(prefix)`: after a complete
 * element the next byte is a type tag (always < 0xff), while 0x00 0xff is the escape of a
 * longer string/bytes element, so `pack(s, 'a')` does not cover `pack(s, 'a\0b')`.
 */
export function prefixRange(
  prefix: Uint8Array,
  options: { limit?: number; reverse?: boolean } = {},
): KeyRange {
  const lt = new Uint8Array(prefix.length + 1);
  lt.set(prefix);
  lt[prefix.length] = 0xff;
  return { gte: prefix, lt, ...options };
}

/** Bytewise unsigned comparison, the order every backend scans in. */
export function compareKeys(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = (a[i] as number) - (b[i] as number);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

export function keysEqual(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.length === b.length && compareKeys(a, b) === 0;
}

/** Hex form of a key, for maps and log lines. */
export function keyHex(key: Uint8Array): string {
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('hex');
}

/** Encode a signed 64-bit counter value (big-endian two's complement). */
export function encodeCounter(value: bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigInt64(0, value);
  return out;
}

/** Decode a counter; an absent value is 0. */
export function decodeCounter(value: Uint8Array | undefined): bigint {
  if (value === undefined) return 0n;
  if (value.length !== 8) throw new RangeError(`counter value has ${value.length} bytes, not 8`);
  return new DataView(value.buffer, value.byteOffset, 8).getBigInt64(0);
}

/** JSON value codec for domain records. */
export function encodeJson(value: unknown): Uint8Array {
  return utf8.encode(JSON.stringify(value));
}

export function decodeJson<T>(value: Uint8Array): T {
  return JSON.parse(new TextDecoder().decode(value)) as T;
}

/** Key of the change id counter of `account`. */
export function changeCounterKey(account: number): Uint8Array {
  return pack(Subspace.changeCounter, account);
}

/** Key of the change log entry `changeId` of `account`. */
export function changeLogKey(account: number, changeId: bigint): Uint8Array {
  return pack(Subspace.changeLog, account, changeId);
}

/**
 * Offset of the 8-byte payload of the uint element at `elementIndex` in a key made by
 * `pack(subspace, ...elements)`: where a PutOp stamp writes the change id into the key.
 */
export function stampOffset(
  subspace: SubspaceId | number,
  elements: readonly TupleElement[],
  elementIndex: number,
): number {
  const el = elements[elementIndex];
  if (typeof el !== 'number' && typeof el !== 'bigint') {
    throw new RangeError(`element ${elementIndex} is not a uint placeholder`);
  }
  // Length of the key up to the element, plus its tag byte.
  return pack(subspace, ...elements.slice(0, elementIndex)).length + 1;
}
