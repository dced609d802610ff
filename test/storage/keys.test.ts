import assert from 'node:assert/strict';
import {
  Subspace,
  changeCounterKey,
  changeLogKey,
  compareKeys,
  decodeCounter,
  encodeCounter,
  pack,
  prefixEnd,
  prefixRange,
  unpack,
} from '../../src/storage/keys.ts';
import type { TupleElement } from '../../src/storage/keys.ts';
import type { KeyRange } from '../../src/storage/store.ts';
import { prng } from '../support/prng.ts';

type Kind = 'bytes' | 'string' | 'uint';
const KIND_ORDER: Record<Kind, number> = { bytes: 0, string: 1, uint: 2 };

function kindOf(el: TupleElement): Kind {
  if (typeof el === 'string') return 'string';
  if (el instanceof Uint8Array) return 'bytes';
  return 'uint';
}

/** Tuple order as the codec defines it: by element type tag, then by value. */
function compareTuples(a: readonly TupleElement[], b: readonly TupleElement[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i] as TupleElement;
    const y = b[i] as TupleElement;
    const kx = kindOf(x);
    const ky = kindOf(y);
    if (kx !== ky) return KIND_ORDER[kx] - KIND_ORDER[ky];
    let d: number;
    if (kx === 'uint') {
      const bx = BigInt(x as number | bigint);
      const by = BigInt(y as number | bigint);
      d = bx < by ? -1 : bx > by ? 1 : 0;
    } else if (kx === 'bytes') {
      d = compareKeys(x as Uint8Array, y as Uint8Array);
    } else {
      d = compareKeys(Buffer.from(x as string), Buffer.from(y as string));
    }
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

function randomElement(rand: () => number): TupleElement {
  const pick = rand();
  // Small alphabets with 0x00 and 0xff make shared prefixes and escapes common.
  const alphabet = [0x00, 0x01, 0x61, 0x7f, 0x80, 0xfe, 0xff];
  if (pick < 0.35) {
    const len = Math.floor(rand() * 4);
    return Uint8Array.from({ length: len }, () => alphabet[Math.floor(rand() * 7)] as number);
  }
  if (pick < 0.7) {
    const chars = ['\0', 'a', 'b', 'é', '\u{1f600}', 'z'];
    let s = '';
    for (let i = Math.floor(rand() * 4); i > 0; i--) s += chars[Math.floor(rand() * 6)];
    return s;
  }
  const choices = [0, 1, 255, 256, 2 ** 32, Number.MAX_SAFE_INTEGER, (1n << 64n) - 1n, 1n << 63n];
  return choices[Math.floor(rand() * choices.length)] as TupleElement;
}

/** Normalise for comparison with unpack output (uints come back as number when safe). */
function normalise(el: TupleElement): TupleElement {
  if (typeof el === 'bigint' && el <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(el);
  return el;
}

function inRange(key: Uint8Array, range: KeyRange): boolean {
  if (range.gte && compareKeys(key, range.gte) < 0) return false;
  if (range.lt && compareKeys(key, range.lt) >= 0) return false;
  return true;
}

describe('storage/keys', () => {
  it('packs and unpacks every element type', () => {
    const tuple: TupleElement[] = [
      'mailbox',
      '',
      'a\0b',
      'é\u{1f600}',
      Uint8Array.of(0, 0xff, 0, 0),
      new Uint8Array(0),
      0,
      42,
      Number.MAX_SAFE_INTEGER,
      (1n << 64n) - 1n,
    ];
    const key = pack(Subspace.mail, ...tuple);
    const { subspace, elements } = unpack(key);
    assert.equal(subspace, Subspace.mail);
    assert.deepEqual(elements, tuple);
    assert.deepEqual(unpack(pack(Subspace.meta)), { subspace: Subspace.meta, elements: [] });
  });

  it('round-trips random tuples', () => {
    const rand = prng(1);
    for (let n = 0; n < 500; n++) {
      const tuple = Array.from({ length: Math.floor(rand() * 5) }, () => randomElement(rand));
      assert.deepEqual(unpack(pack(Subspace.files, ...tuple)).elements, tuple.map(normalise));
    }
  });

  it('preserves order: sorting keys bytewise sorts their tuples', () => {
    const rand = prng(2);
    const tuples = Array.from({ length: 600 }, () =>
      Array.from({ length: 1 + Math.floor(rand() * 3) }, () => randomElement(rand)),
    );
    const byTuple = [...tuples].sort(compareTuples).map((t) => pack(Subspace.mail, ...t));
    const byKey = tuples.map((t) => pack(Subspace.mail, ...t)).sort(compareKeys);
    assert.deepEqual(byKey, byTuple);
  });

  it('orders uints numerically and strings by UTF-8 bytes', () => {
    assert.ok(compareKeys(pack(1, 255), pack(1, 256)) < 0);
    assert.ok(compareKeys(pack(1, 2 ** 40), pack(1, 1n << 63n)) < 0);
    assert.ok(compareKeys(pack(1, 'a'), pack(1, 'a', 0)) < 0);
    assert.ok(compareKeys(pack(1, 'a', 99), pack(1, 'a\0')) < 0);
    assert.ok(compareKeys(pack(1, 'a\0'), pack(1, 'a\u0001')) < 0);
    assert.ok(compareKeys(pack(1, 'z'), pack(1, 'é')) < 0);
  });

  it('escapes 0x00 inside bytes and strings', () => {
    assert.deepEqual(pack(7, Uint8Array.of(0x00)), Uint8Array.of(7, 0x01, 0x00, 0xff, 0x00));
    assert.deepEqual(pack(7, 'a\0'), Uint8Array.of(7, 0x02, 0x61, 0x00, 0xff, 0x00));
    assert.deepEqual(pack(7, Uint8Array.of(0xff)), Uint8Array.of(7, 0x01, 0xff, 0x00));
    assert.deepEqual(pack(7, 258), Uint8Array.of(7, 0x15, 0, 0, 0, 0, 0, 0, 1, 2));
  });

  it('rejects out-of-range uints and malformed keys', () => {
    assert.throws(() => pack(1, -1), RangeError);
    assert.throws(() => pack(1, 1.5), RangeError);
    assert.throws(() => pack(1, 1n << 64n), RangeError);
    assert.throws(() => unpack(new Uint8Array(0)), RangeError);
    assert.throws(() => unpack(Uint8Array.of(1, 0x02, 0x61)), RangeError);
    assert.throws(() => unpack(Uint8Array.of(1, 0x15, 0, 0)), RangeError);
    assert.throws(() => unpack(Uint8Array.of(1, 0x99)), RangeError);
  });

  it('prefixRange covers a tuple and its extensions, nothing else', () => {
    const prefix = pack(Subspace.mail, 'box', Uint8Array.of(1));
    const range = prefixRange(prefix, { limit: 5, reverse: true });
    assert.equal(range.limit, 5);
    assert.equal(range.reverse, true);
    const inside = [
      prefix,
      pack(Subspace.mail, 'box', Uint8Array.of(1), 0),
      pack(Subspace.mail, 'box', Uint8Array.of(1), 'x', 'y'),
      pack(Subspace.mail, 'box', Uint8Array.of(1), Uint8Array.of(0xff, 0xff)),
      pack(Subspace.mail, 'box', Uint8Array.of(1), (1n << 64n) - 1n),
    ];
    const outside = [
      pack(Subspace.mail, 'box'),
      pack(Subspace.mail, 'box', Uint8Array.of(1, 0)), // escape continuation of the element
      pack(Subspace.mail, 'box', Uint8Array.of(1, 0xff)),
      pack(Subspace.mail, 'box', Uint8Array.of(2)),
      pack(Subspace.mail, 'box\0', Uint8Array.of(1)),
      pack(Subspace.mail + 1, 'box', Uint8Array.of(1)),
    ];
    for (const k of inside)
      assert.ok(inRange(k, range), `inside ${Buffer.from(k).toString('hex')}`);
    for (const k of outside)
      assert.ok(!inRange(k, range), `outside ${Buffer.from(k).toString('hex')}`);

    // Random check: membership equals "tuple starts with the prefix tuple".
    const rand = prng(3);
    const head: TupleElement[] = ['a', Uint8Array.of(0)];
    const r = prefixRange(pack(2, ...head));
    for (let n = 0; n < 500; n++) {
      const t = Array.from({ length: Math.floor(rand() * 4) }, () => randomElement(rand));
      if (rand() < 0.5) t.splice(0, 0, ...head);
      const startsWith = t.length >= 2 && compareTuples(t.slice(0, 2), head) === 0;
      assert.equal(inRange(pack(2, ...t), r), startsWith);
    }
  });

  it('prefixEnd is the first key after every key with the prefix', () => {
    assert.deepEqual(prefixEnd(Uint8Array.of(1, 2, 3)), Uint8Array.of(1, 2, 4));
    assert.deepEqual(prefixEnd(Uint8Array.of(1, 0xff, 0xff)), Uint8Array.of(2));
    assert.throws(() => prefixEnd(Uint8Array.of(0xff, 0xff)), RangeError);
  });

  it('encodes counters as signed 64-bit big-endian', () => {
    for (const v of [0n, 1n, -1n, 255n, -(1n << 63n), (1n << 63n) - 1n]) {
      const bytes = encodeCounter(v);
      assert.equal(bytes.length, 8);
      assert.equal(decodeCounter(bytes), v);
    }
    assert.deepEqual(encodeCounter(258n), Uint8Array.of(0, 0, 0, 0, 0, 0, 1, 2));
    assert.deepEqual(encodeCounter(-1n), new Uint8Array(8).fill(0xff));
    assert.equal(decodeCounter(undefined), 0n);
    assert.equal(decodeCounter(encodeCounter(7n).subarray(0)), 7n);
    const offset = new Uint8Array(12);
    offset.set(encodeCounter(-5n), 4);
    assert.equal(decodeCounter(offset.subarray(4)), -5n);
    assert.throws(() => decodeCounter(Uint8Array.of(1, 2)), RangeError);
  });

  it('change keys sort by account, then change id', () => {
    assert.deepEqual(unpack(changeLogKey(3, 10n)).elements, [3, 10]);
    assert.deepEqual(unpack(changeCounterKey(3)).elements, [3]);
    assert.ok(compareKeys(changeLogKey(3, 9n), changeLogKey(3, 10n)) < 0);
    assert.ok(compareKeys(changeLogKey(3, (1n << 64n) - 1n), changeLogKey(4, 0n)) < 0);
  });
});
