import assert from 'node:assert/strict';
import { BerError } from '../../../src/protocols/ldap/ber/ber-error.ts';
import {
  ControlOid,
  decodePagedResults,
  decodeSortRequest,
  decodeSortResponse,
  encodePagedResults,
  encodeSortRequest,
  encodeSortResponse,
  SortResultCode,
} from '../../../src/protocols/ldap/controls.ts';

const hex = (b: Uint8Array | undefined): string => Buffer.from(b ?? []).toString('hex');
const bytes = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h.replace(/ /g, ''), 'hex'));

describe('LDAP controls', () => {
  it('paged results (RFC 2696): golden value and round trip', () => {
    const c = encodePagedResults({ size: 50, cookie: new Uint8Array(0) }, true);
    assert.equal(c.type, ControlOid.pagedResults);
    assert.equal(c.criticality, true);
    assert.equal(hex(c.value), '3005020132' + '0400');
    const cookie = Uint8Array.from([1, 2, 3, 250]);
    const back = encodePagedResults({ size: 1234, cookie });
    assert.deepEqual(decodePagedResults(back), { size: 1234, cookie });
  });

  it('sort request (RFC 2891 §1.1): golden value and round trip', () => {
    const keys = [
      { attributeType: 'sn', reverseOrder: false },
      { attributeType: 'cn', orderingRule: '2.5.13.3', reverseOrder: true },
    ];
    const c = encodeSortRequest(keys);
    assert.equal(c.type, '1.2.840.113556.1.4.473');
    // 30 19 | 30 04 04 02 "sn" | 30 11 04 02 "cn" (4) 80 08 "2.5.13.3" (10) 81 01 ff (3)
    assert.equal(hex(c.value), '3019' + '30040402736e' + '30110402636e8008322e352e31332e338101ff');
    assert.deepEqual(decodeSortRequest(c), keys);
  });

  it('sort response (RFC 2891 §1.2): golden value and round trip', () => {
    const c = encodeSortResponse({
      sortResult: SortResultCode.noSuchAttribute,
      attributeType: 'x',
    });
    assert.equal(c.type, ControlOid.sortResponse);
    assert.equal(hex(c.value), '30060a01108001' + '78');
    assert.deepEqual(decodeSortResponse(c), { sortResult: 16, attributeType: 'x' });
    assert.deepEqual(decodeSortResponse(encodeSortResponse({ sortResult: 0 })), { sortResult: 0 });
  });

  it('rejects missing and malformed values with BerError', () => {
    const type = ControlOid.pagedResults;
    const cases = [
      () => decodePagedResults({ type, criticality: false }),
      () => decodePagedResults({ type, criticality: false, value: bytes('3003020132') }),
      () => decodePagedResults({ type, criticality: false, value: bytes('30050201320400 00') }),
      () => decodePagedResults({ type, criticality: false, value: bytes('30050201ff0400') }),
      () => decodeSortRequest({ type, criticality: false, value: bytes('3000') }),
      () => decodeSortRequest({ type, criticality: false, value: bytes('3004 3002 0400 00') }),
      () => decodeSortResponse({ type, criticality: false, value: bytes('3003 0a01') }),
    ];
    for (const run of cases) assert.throws(run, BerError);
  });
});
