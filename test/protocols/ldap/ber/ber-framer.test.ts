import assert from 'node:assert/strict';
import { BerFramer } from '../../../../src/protocols/ldap/ber/ber-framer.ts';
import type { FrameResult } from '../../../../src/protocols/ldap/ber/ber-framer.ts';

const bytes = (hex: string): Uint8Array =>
  Uint8Array.from(Buffer.from(hex.replace(/\s+/g, ''), 'hex'));
const anonymousBind = bytes('30 0c 02 01 01 60 07 02 01 03 04 00 80 00');
const unbind = bytes('30 05 02 01 02 42 00');

function drain(framer: BerFramer): FrameResult[] {
  const out: FrameResult[] = [];
  for (;;) {
    const r = framer.next();
    out.push(r);
    if (r.kind !== 'message') return out;
  }
}

describe('BerFramer', () => {
  it('splits several messages delivered in one chunk', () => {
    const f = new BerFramer();
    f.push(Uint8Array.from([...anonymousBind, ...unbind, ...anonymousBind.subarray(0, 3)]));
    const results = drain(f);
    assert.deepEqual(
      results.map((r) => r.kind),
      ['message', 'message', 'need-more'],
    );
    assert.deepEqual(results[0], { kind: 'message', bytes: anonymousBind });
    assert.deepEqual(results[1], { kind: 'message', bytes: unbind });
    assert.equal(f.buffered, 3);
    f.push(anonymousBind.subarray(3));
    assert.deepEqual(f.next(), { kind: 'message', bytes: anonymousBind });
    assert.equal(f.buffered, 0);
  });

  it('reassembles a message fed one byte at a time', () => {
    const f = new BerFramer();
    const big = Uint8Array.from([
      0x30,
      0x82,
      0x01,
      0x04,
      0x02,
      0x01,
      0x07,
      0x04,
      0x81,
      0xfe,
      ...new Uint8Array(254).fill(0x61),
    ]);
    for (let i = 0; i < big.length - 1; i++) {
      f.push(big.subarray(i, i + 1));
      assert.equal(f.next().kind, 'need-more');
    }
    f.push(big.subarray(big.length - 1));
    const r = f.next();
    assert.equal(r.kind, 'message');
    assert.deepEqual(r.kind === 'message' ? r.bytes : undefined, big);
  });

  it('returns plain copies, not views into socket Buffers', () => {
    const f = new BerFramer();
    const chunk = Buffer.from(anonymousBind);
    f.push(chunk);
    const r = f.next();
    assert.ok(r.kind === 'message');
    assert.equal(Object.getPrototypeOf(r.bytes), Uint8Array.prototype);
    chunk[0] = 0;
    assert.equal(r.bytes[0], 0x30);
  });

  it('refuses an oversized message from its header alone', () => {
    const f = new BerFramer({ maxMessageSize: 1000 });
    f.push(bytes('30 84 7f ff ff ff'));
    const r = f.next();
    assert.equal(r.kind, 'error');
    assert.equal(r.kind === 'error' ? r.error.reason : '', 'too-large');
    assert.equal(f.buffered, 0);
    // poisoned: later data is dropped, the error sticks
    f.push(anonymousBind);
    assert.equal(f.next().kind, 'error');
    assert.equal(f.buffered, 0);
  });

  it('accepts a message of exactly the maximum size', () => {
    const f = new BerFramer({ maxMessageSize: anonymousBind.length });
    f.push(anonymousBind);
    assert.equal(f.next().kind, 'message');
    const g = new BerFramer({ maxMessageSize: anonymousBind.length - 1 });
    g.push(anonymousBind);
    assert.equal(g.next().kind, 'error');
  });

  it('rejects a stream that does not start with a SEQUENCE, or uses indefinite lengths', () => {
    for (const hex of ['02 01 01', '30 80 02 01 01 00 00', '30 85 00 00 00 00 01', '3f 01']) {
      const f = new BerFramer();
      f.push(bytes(hex));
      const r = f.next();
      assert.equal(r.kind, 'error', hex);
    }
  });
});
