import assert from 'node:assert/strict';
import { BerError } from '../../../../src/protocols/ldap/ber/ber-error.ts';
import { BerReader } from '../../../../src/protocols/ldap/ber/ber-reader.ts';

const bytes = (hex: string): Uint8Array =>
  Uint8Array.from(Buffer.from(hex.replace(/\s+/g, ''), 'hex'));

function berError(reason: BerError['reason']): (err: unknown) => boolean {
  return (err) => {
    assert.ok(err instanceof BerError, `expected BerError, got ${String(err)}`);
    assert.equal(err.reason, reason, err.message);
    return true;
  };
}

describe('BerReader', () => {
  it('reads the universal primitives', () => {
    const r = new BerReader(
      bytes(
        '01 01 ff 01 01 00 02 01 7f 02 02 00 80 02 01 80 02 02 ff 7f 0a 01 02 04 03 616263 05 00',
      ),
    );
    assert.equal(r.readBoolean(), true);
    assert.equal(r.readBoolean(), false);
    assert.equal(r.readInteger(), 127);
    assert.equal(r.readInteger(), 128);
    assert.equal(r.readInteger(), -128);
    assert.equal(r.readInteger(), -129);
    assert.equal(r.readEnumerated(), 2);
    assert.equal(r.readString(), 'abc');
    assert.equal(r.readNull(), null);
    assert.ok(r.atEnd());
  });

  it('reads wide integers up to the safe range and rejects wider ones', () => {
    // 2^53 - 1 in 7 octets
    assert.equal(
      new BerReader(bytes('02 07 1f ffff ffff ffff')).readInteger(),
      Number.MAX_SAFE_INTEGER,
    );
    assert.equal(
      new BerReader(bytes('02 07 e0 0000 0000 0001')).readInteger(),
      Number.MIN_SAFE_INTEGER,
    );
    assert.throws(
      () => new BerReader(bytes('02 07 20 0000 0000 0000')).readInteger(),
      berError('integer-too-wide'),
    );
    assert.throws(
      () => new BerReader(bytes('02 09 00 0000 0000 0000 0001')).readInteger(),
      berError('integer-too-wide'),
    );
    assert.throws(() => new BerReader(bytes('02 00')).readInteger(), berError('invalid-value'));
  });

  it('enforces 0..maxInt for MessageID-like integers', () => {
    assert.equal(new BerReader(bytes('02 04 7fffffff')).readUint31(), 2147483647);
    assert.throws(
      () => new BerReader(bytes('02 05 0080000000')).readUint31(),
      berError('invalid-value'),
    );
    assert.throws(() => new BerReader(bytes('02 01 ff')).readUint31(), berError('invalid-value'));
  });

  it('reads long-form lengths', () => {
    const content = 'x'.repeat(300);
    const buf = Uint8Array.from([0x04, 0x82, 0x01, 0x2c, ...Buffer.from(content)]);
    assert.equal(new BerReader(buf).readString(), content);
    // a non-minimal long form is legal BER
    assert.equal(new BerReader(bytes('04 81 02 6869')).readString(), 'hi');
  });

  it('walks constructed elements with child readers', () => {
    const r = new BerReader(bytes('30 08 02 01 05 a0 03 80 01 41 02 01 01'));
    const seq = r.readSequence();
    assert.equal(seq.depth, 1);
    assert.equal(seq.readInteger(), 5);
    const ctx = seq.readSequence(0xa0);
    assert.equal(ctx.readString(0x80), 'A');
    ctx.expectEnd();
    seq.expectEnd();
    assert.equal(r.readInteger(), 1);
    assert.ok(r.atEnd());
  });

  it('rejects indefinite, over-long and reserved lengths', () => {
    assert.throws(
      () => new BerReader(bytes('30 80 00 00')).readSequence(),
      berError('indefinite-length'),
    );
    assert.throws(
      () => new BerReader(bytes('04 85 00 00 00 00 01 41')).readString(),
      berError('length-too-long'),
    );
    assert.throws(() => new BerReader(bytes('04 ff')).readString(), berError('length-too-long'));
  });

  it('rejects lengths beyond the data and beyond the configured maximum', () => {
    assert.throws(() => new BerReader(bytes('04 05 4142')).readString(), berError('truncated'));
    assert.throws(() => new BerReader(bytes('04 84 ffffffff')).readString(), berError('too-large'));
    assert.throws(
      () => new BerReader(bytes('04 03 414243'), { maxLength: 2 }).readString(),
      berError('too-large'),
    );
    assert.throws(() => new BerReader(bytes('04')).readString(), berError('truncated'));
    assert.throws(() => new BerReader(bytes('')).readString(), berError('truncated'));
    // an inner element may not run past its parent even if the buffer continues
    const seq = new BerReader(bytes('30 02 04 03 414243')).readSequence();
    assert.throws(() => seq.readString(), berError('truncated'));
  });

  it('limits nesting depth', () => {
    // 40 SEQUENCEs, each holding the next
    let nested = new Uint8Array(0);
    for (let i = 0; i < 40; i++) nested = Uint8Array.from([0x30, nested.length, ...nested]);
    let r = new BerReader(nested, { maxDepth: 32 });
    assert.throws(() => {
      for (;;) r = r.readSequence();
    }, berError('too-deep'));
    assert.equal(r.depth, 32);
  });

  it('rejects wrong tags, multi-octet tags, bad booleans and NULLs, invalid UTF-8', () => {
    assert.throws(() => new BerReader(bytes('02 01 01')).readString(), berError('unexpected-tag'));
    assert.throws(
      () => new BerReader(bytes('1f 81 00 00')).readElement(),
      berError('unsupported-tag'),
    );
    assert.throws(
      () => new BerReader(bytes('01 02 0000')).readBoolean(),
      berError('invalid-value'),
    );
    assert.throws(() => new BerReader(bytes('05 01 00')).readNull(), berError('invalid-value'));
    assert.throws(() => new BerReader(bytes('04 02 c328')).readString(), berError('invalid-utf8'));
    assert.equal(new BerReader(bytes('04 02 c328')).readLenientString(), '\ufffd(');
    assert.throws(() => new BerReader(bytes('04 00 04 00')).expectEnd(), berError('trailing-data'));
  });

  it('copies octet strings so they do not alias the input', () => {
    const input = bytes('04 02 0102');
    const value = new BerReader(input).readOctetString();
    input[2] = 9;
    assert.deepEqual(value, Uint8Array.from([1, 2]));
    // also from a Buffer, whose slice() would be a view
    const buffer = Buffer.from('04020102', 'hex');
    const copy = new BerReader(buffer).readOctetString();
    buffer[2] = 9;
    assert.equal(Object.getPrototypeOf(copy), Uint8Array.prototype);
    assert.deepEqual(copy, Uint8Array.from([1, 2]));
  });
});
