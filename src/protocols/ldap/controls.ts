/**
 * Typed values of the controls we implement. The message layer carries controls as
 * `{ type, criticality, value }` (RFC 4511 §4.1.11); these functions encode and decode the
 * `value` of:
 * - the simple paged results control (RFC 2696), one OID for request and response;
 * - server-side sorting (RFC 2891): the sort request and the sort response controls.
 * Decoders take the raw control value and throw BerError when it is missing or malformed;
 * the server answers a bad critical control per RFC 4511 §4.1.11.
 */

import { BerError } from './ber/ber-error.ts';
import { BerReader } from './ber/ber-reader.ts';
import { BerTag } from './ber/ber-tag.ts';
import { BerWriter } from './ber/ber-writer.ts';
import type { Control } from './messages.ts';

export const ControlOid = Object.freeze({
  /** RFC 2696 */
  pagedResults: '1.2.840.113556.1.4.319',
  /** RFC 2891 §1.1 */
  sortRequest: '1.2.840.113556.1.4.473',
  /** RFC 2891 §1.2 */
  sortResponse: '1.2.840.113556.1.4.474',
  /** RFC 3296 */
  manageDsaIT: '2.16.840.1.113730.3.4.2',
});

/** Control values are small; keep their decoding tightly bounded. */
const VALUE_LIMITS = { maxDepth: 4, maxLength: 64 * 1024 } as const;

function valueOf(control: Control): Uint8Array {
  if (control.value === undefined) {
    throw new BerError('invalid-value', `control ${control.type} needs a value`);
  }
  return control.value;
}

// --- paged results (RFC 2696) ------------------------------------------------------------------

/**
 * realSearchControlValue ::= SEQUENCE { size INTEGER (0..maxInt), cookie OCTET STRING }.
 * In a request, size is the page size; in a response, the server's estimate of the total
 * (0 if unknown). An empty cookie starts a search (request) or ends it (response).
 */
export interface PagedResults {
  readonly size: number;
  readonly cookie: Uint8Array;
}

export function decodePagedResults(control: Control): PagedResults {
  const top = new BerReader(valueOf(control), VALUE_LIMITS);
  const s = top.readSequence(BerTag.sequence, 'realSearchControlValue');
  top.expectEnd('paged results value');
  const size = s.readUint31(BerTag.integer, 'size');
  const cookie = s.readOctetString(BerTag.octetString, 'cookie');
  s.expectEnd('realSearchControlValue');
  return { size, cookie };
}

export function encodePagedResults(value: PagedResults, criticality = false): Control {
  const w = new BerWriter(32 + value.cookie.length);
  w.sequence(BerTag.sequence, () => {
    w.writeInteger(value.size);
    w.writeOctetString(value.cookie);
  });
  return { type: ControlOid.pagedResults, criticality, value: w.toBytes() };
}

// --- server-side sorting (RFC 2891) ------------------------------------------------------------

export interface SortKey {
  readonly attributeType: string;
  readonly orderingRule?: string;
  readonly reverseOrder: boolean;
}

/**
 * SortKeyList ::= SEQUENCE OF SEQUENCE { attributeType AttributeDescription,
 * orderingRule [0] MatchingRuleId OPTIONAL, reverseOrder [1] BOOLEAN DEFAULT FALSE }.
 */
export function decodeSortRequest(control: Control): SortKey[] {
  const top = new BerReader(valueOf(control), VALUE_LIMITS);
  const list = top.readSequence(BerTag.sequence, 'SortKeyList');
  top.expectEnd('sort request value');
  const keys: SortKey[] = [];
  while (!list.atEnd()) {
    const k = list.readSequence(BerTag.sequence, 'sort key');
    const attributeType = k.readString(BerTag.octetString, 'attributeType');
    const orderingRule = k.peekTag() === 0x80 ? k.readString(0x80, 'orderingRule') : undefined;
    const reverseOrder = k.peekTag() === 0x81 ? k.readBoolean(0x81, 'reverseOrder') : false;
    k.expectEnd('sort key');
    keys.push(
      orderingRule === undefined
        ? { attributeType, reverseOrder }
        : { attributeType, orderingRule, reverseOrder },
    );
  }
  if (keys.length === 0) throw new BerError('invalid-value', 'empty sort key list');
  return keys;
}

export function encodeSortRequest(keys: readonly SortKey[], criticality = false): Control {
  const w = new BerWriter();
  w.sequence(BerTag.sequence, () => {
    for (const key of keys) {
      w.sequence(BerTag.sequence, () => {
        w.writeOctetString(key.attributeType);
        if (key.orderingRule !== undefined) w.writeOctetString(key.orderingRule, 0x80);
        if (key.reverseOrder) w.writeBoolean(true, 0x81);
      });
    }
  });
  return { type: ControlOid.sortRequest, criticality, value: w.toBytes() };
}

/** sortResult codes (RFC 2891 §1.2). */
export const SortResultCode = Object.freeze({
  success: 0,
  operationsError: 1,
  timeLimitExceeded: 3,
  strongAuthRequired: 8,
  adminLimitExceeded: 11,
  noSuchAttribute: 16,
  inappropriateMatching: 18,
  insufficientAccessRights: 50,
  busy: 51,
  unwillingToPerform: 53,
  other: 80,
});

/** SortResult ::= SEQUENCE { sortResult ENUMERATED, attributeType [0] OPTIONAL }. */
export interface SortResult {
  readonly sortResult: number;
  readonly attributeType?: string;
}

export function decodeSortResponse(control: Control): SortResult {
  const top = new BerReader(valueOf(control), VALUE_LIMITS);
  const s = top.readSequence(BerTag.sequence, 'SortResult');
  top.expectEnd('sort response value');
  const sortResult = s.readEnumerated(BerTag.enumerated, 'sortResult');
  const attributeType = s.atEnd() ? undefined : s.readString(0x80, 'attributeType');
  s.expectEnd('SortResult');
  return attributeType === undefined ? { sortResult } : { sortResult, attributeType };
}

export function encodeSortResponse(result: SortResult): Control {
  const w = new BerWriter(64);
  w.sequence(BerTag.sequence, () => {
    w.writeEnumerated(result.sortResult);
    if (result.attributeType !== undefined) w.writeOctetString(result.attributeType, 0x80);
  });
  return { type: ControlOid.sortResponse, criticality: false, value: w.toBytes() };
}
