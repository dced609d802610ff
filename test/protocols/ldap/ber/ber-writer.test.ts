import assert from 'node:assert/strict';
import { BerError } from '../../../../src/protocols/ldap/ber/ber-error.ts';
import { BerReader } from '../../../../src/protocols/ldap/ber/ber-reader.ts';
import { BerWriter } from '../../../../src/protocols/ldap/ber/ber-writer.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('BerWriter', () => {
  it('writes minimal primitives', () => {
    const w = new BerWriter();
    w.writeBoolean(true);
    w.writeBoolean(false);
    w.writeInteger(0);
    w.writeInteger(127);
    w.writeInteger(128);
    w.writeInteger(-1);
    w.writeInteger(-128);
    w.writeInteger(-129);
    w.writeInteger(256);
    w.writeEnumerated(2);
    w.writeOctetString('abc');
    w.writeNull();
    assert.equal(
      hex(w.toBytes()),
      '0101ff010100' +
        '020100' +
        '02017f' +
        '02020080' +
        '0201ff' +
        '020180' +
        '0202ff7f' +
        '02020100' +
        '0a0102' +
        '0403616263' +
        '0500',
    );
  });

  it('round-trips integers across the safe range', () => {
    const values = [0, 1, -1, 255, 256, -256, 65535, 2 ** 31 - 1, -(2 ** 31), 2 ** 40 + 3];
    values.push(Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER);
    for (const v of values) {
      const w = new BerWriter();
      w.writeInteger(v);
      assert.equal(new BerReader(w.toBytes()).readInteger(), v, String(v));
    }
    assert.throws(() => new BerWriter().writeInteger(2 ** 53), BerError);
    assert.throws(() => new BerWriter().writeInteger(1.5), BerError);
  });

  it('fixes up short and long sequence lengths, nested', () => {
    const w = new BerWriter(16);
    w.sequence(0x30, () => {
      w.writeOctetString('x'.repeat(200));
      w.sequence(0xa0, () => w.writeOctetString('y'.repeat(70000)));
      w.sequence(0x31, () => undefined);
    });
    const bytes = w.toBytes();
    // 203 (04 81 c8 + 200) + 70010 (a0 83 011175, 04 83 011170 + 70000) + 2 (31 00) = 0x011247
    assert.equal(hex(bytes.subarray(0, 5)), '3083011247');
    const r = new BerReader(bytes, { maxLength: 1 << 20 });
    const seq = r.readSequence();
    assert.equal(seq.readString(), 'x'.repeat(200));
    assert.equal(seq.readSequence(0xa0).readString(), 'y'.repeat(70000));
    assert.ok(seq.readSequence(0x31).atEnd());
    seq.expectEnd();
    assert.ok(r.atEnd());
  });

  it('refuses unbalanced sequences and bad tags', () => {
    const w = new BerWriter();
    w.startSequence();
    assert.throws(() => w.toBytes(), BerError);
    w.endSequence();
    assert.throws(() => w.endSequence(), BerError);
    assert.throws(() => w.startSequence(0x04), BerError);
    assert.throws(() => w.writePrimitive(0x30, new Uint8Array()), BerError);
    assert.throws(() => w.writeOctetString('a', 0x1f), BerError);
  });
});
