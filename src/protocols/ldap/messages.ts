/**
 * The LDAP message layer (RFC 4511 §4): LDAPMessage envelopes, every protocolOp as a
 * discriminated union keyed by its RFC 4511 CHOICE name, and their BER codec.
 *
 * Servers decode requests (`decodeRequest`) and encode responses (`encodeMessage`); clients
 * (tests, the interop harness) do the reverse with the same types, so everything round-trips.
 * Decoding is strict and bounded (BerReader limits, filter depth): any structural problem
 * throws BerError, which RFC 4511 §4.1.1 answers with a Notice of Disconnection
 * (`encodeNoticeOfDisconnection`, §4.4.1) carrying protocolError.
 *
 * Representation: DNs, attribute descriptions and OIDs are strings (strict UTF-8);
 * assertion values (compare) are strings decoded leniently; attribute values are bytes
 * when decoded and `string | Uint8Array` when encoded (strings go out as UTF-8); passwords,
 * SASL credentials and extended-operation values stay bytes.
 */

import { BerError } from './ber/ber-error.ts';
import { BerReader } from './ber/ber-reader.ts';
import type { BerReaderOptions } from './ber/ber-reader.ts';
import { BerTag } from './ber/ber-tag.ts';
import { BerWriter } from './ber/ber-writer.ts';
import { DEFAULT_MAX_FILTER_DEPTH, decodeFilter, encodeFilter } from './filter.ts';
import type { Filter } from './filter.ts';

/** Control (RFC 4511 §4.1.11). */
export interface Control {
  /** The control's OID (controlType). */
  readonly type: string;
  readonly criticality: boolean;
  readonly value?: Uint8Array;
}

export type AttributeValue = string | Uint8Array;

/** PartialAttribute / Attribute (RFC 4511 §4.1.7). Decoded values are Uint8Array. */
export interface PartialAttribute {
  readonly type: string;
  readonly values: readonly AttributeValue[];
}

/** LDAPResult (RFC 4511 §4.1.9). */
export interface LdapResult {
  readonly resultCode: number;
  readonly matchedDN: string;
  readonly diagnosticMessage: string;
  readonly referral?: readonly string[];
}

// --- requests (RFC 4511 §4.2 - §4.12) --------------------------------------------------------

export type BindAuthentication =
  | { readonly kind: 'simple'; readonly password: Uint8Array }
  | { readonly kind: 'sasl'; readonly mechanism: string; readonly credentials?: Uint8Array };

export interface BindRequest {
  readonly type: 'bindRequest';
  readonly version: number;
  readonly name: string;
  readonly authentication: BindAuthentication;
}

export interface UnbindRequest {
  readonly type: 'unbindRequest';
}

/** subordinateSubtree (value 3, draft-sermersheim-ldap-subordinate-scope) is sent by some clients. */
export type SearchScope = 'baseObject' | 'singleLevel' | 'wholeSubtree' | 'subordinateSubtree';
export type DerefAliases =
  'neverDerefAliases' | 'derefInSearching' | 'derefFindingBaseObj' | 'derefAlways';

export interface SearchRequest {
  readonly type: 'searchRequest';
  readonly baseObject: string;
  readonly scope: SearchScope;
  readonly derefAliases: DerefAliases;
  readonly sizeLimit: number;
  readonly timeLimit: number;
  readonly typesOnly: boolean;
  readonly filter: Filter;
  readonly attributes: readonly string[];
}

export type ModifyOperation = 'add' | 'delete' | 'replace' | 'increment';

export interface ModifyRequest {
  readonly type: 'modifyRequest';
  readonly object: string;
  readonly changes: readonly {
    readonly operation: ModifyOperation;
    readonly modification: PartialAttribute;
  }[];
}

export interface AddRequest {
  readonly type: 'addRequest';
  readonly entry: string;
  readonly attributes: readonly PartialAttribute[];
}

export interface DelRequest {
  readonly type: 'delRequest';
  readonly entry: string;
}

export interface ModifyDNRequest {
  readonly type: 'modDNRequest';
  readonly entry: string;
  readonly newrdn: string;
  readonly deleteoldrdn: boolean;
  readonly newSuperior?: string;
}

export interface CompareRequest {
  readonly type: 'compareRequest';
  readonly entry: string;
  readonly attributeDesc: string;
  readonly assertionValue: string;
}

export interface AbandonRequest {
  readonly type: 'abandonRequest';
  readonly idToAbandon: number;
}

export interface ExtendedRequest {
  readonly type: 'extendedReq';
  readonly requestName: string;
  readonly requestValue?: Uint8Array;
}

export type RequestOp =
  | BindRequest
  | UnbindRequest
  | SearchRequest
  | ModifyRequest
  | AddRequest
  | DelRequest
  | ModifyDNRequest
  | CompareRequest
  | AbandonRequest
  | ExtendedRequest;

// --- responses ---------------------------------------------------------------------------------

export interface BindResponse extends LdapResult {
  readonly type: 'bindResponse';
  readonly serverSaslCreds?: Uint8Array;
}

export interface SearchResultEntry {
  readonly type: 'searchResEntry';
  readonly objectName: string;
  readonly attributes: readonly PartialAttribute[];
}

export interface SearchResultReference {
  readonly type: 'searchResRef';
  readonly uris: readonly string[];
}

export interface SearchResultDone extends LdapResult {
  readonly type: 'searchResDone';
}

export interface ModifyResponse extends LdapResult {
  readonly type: 'modifyResponse';
}

export interface AddResponse extends LdapResult {
  readonly type: 'addResponse';
}

export interface DelResponse extends LdapResult {
  readonly type: 'delResponse';
}

export interface ModifyDNResponse extends LdapResult {
  readonly type: 'modDNResponse';
}

export interface CompareResponse extends LdapResult {
  readonly type: 'compareResponse';
}

export interface ExtendedResponse extends LdapResult {
  readonly type: 'extendedResp';
  readonly responseName?: string;
  readonly responseValue?: Uint8Array;
}

export interface IntermediateResponse {
  readonly type: 'intermediateResponse';
  readonly responseName?: string;
  readonly responseValue?: Uint8Array;
}

export type ResponseOp =
  | BindResponse
  | SearchResultEntry
  | SearchResultReference
  | SearchResultDone
  | ModifyResponse
  | AddResponse
  | DelResponse
  | ModifyDNResponse
  | CompareResponse
  | ExtendedResponse
  | IntermediateResponse;

export type ProtocolOp = RequestOp | ResponseOp;

/** LDAPMessage (RFC 4511 §4.1.1). */
export interface LdapMessage<Op extends ProtocolOp = ProtocolOp> {
  readonly messageId: number;
  readonly protocolOp: Op;
  readonly controls: readonly Control[];
}

/** OIDs of the extended operations and unsolicited notifications we know. */
export const ExtendedOid = Object.freeze({
  /** RFC 4511 §4.14.1 */
  startTls: '1.3.6.1.4.1.1466.20037',
  /** RFC 4511 §4.4.1 */
  noticeOfDisconnection: '1.3.6.1.4.1.1466.20036',
  /** RFC 4532 */
  whoAmI: '1.3.6.1.4.1.4203.1.11.3',
  /** RFC 3062 */
  passwordModify: '1.3.6.1.4.1.4203.1.11.1',
  /** RFC 3909 */
  cancel: '1.3.6.1.1.8',
});

/** Application tags of the protocolOp CHOICE (RFC 4511 §4.2 - §4.13). */
export const OpTag = Object.freeze({
  bindRequest: 0x60,
  bindResponse: 0x61,
  unbindRequest: 0x42,
  searchRequest: 0x63,
  searchResEntry: 0x64,
  searchResDone: 0x65,
  searchResRef: 0x73,
  modifyRequest: 0x66,
  modifyResponse: 0x67,
  addRequest: 0x68,
  addResponse: 0x69,
  delRequest: 0x4a,
  delResponse: 0x6b,
  modDNRequest: 0x6c,
  modDNResponse: 0x6d,
  compareRequest: 0x6e,
  compareResponse: 0x6f,
  abandonRequest: 0x50,
  extendedReq: 0x77,
  extendedResp: 0x78,
  intermediateResponse: 0x79,
});

const CONTROLS_TAG = 0xa0;
const REFERRAL_TAG = 0xa3;

const SCOPES: readonly SearchScope[] = [
  'baseObject',
  'singleLevel',
  'wholeSubtree',
  'subordinateSubtree',
];
const DEREFS: readonly DerefAliases[] = [
  'neverDerefAliases',
  'derefInSearching',
  'derefFindingBaseObj',
  'derefAlways',
];
const MODIFY_OPS: readonly ModifyOperation[] = ['add', 'delete', 'replace', 'increment'];

export interface DecodeOptions extends BerReaderOptions {
  /** Deepest accepted search filter (outermost filter = 1). */
  readonly maxFilterDepth?: number;
}

/** Helper to build an LDAPResult. */
export function ldapResult(resultCode: number, diagnosticMessage = '', matchedDN = ''): LdapResult {
  return { resultCode, matchedDN, diagnosticMessage };
}

// ---------------------------------------------------------------------------------------------
// decoding

function pick<T>(table: readonly T[], value: number, what: string, offset: number): T {
  const v = table[value];
  if (v === undefined)
    throw new BerError('invalid-value', `${what} ${value} is not defined`, offset);
  return v;
}

/**
 * Decode one LDAPMessage carrying a request (exactly one element, nothing after it). A
 * messageID of 0 decodes; it is reserved for unsolicited notifications (§4.1.1.1), so the
 * server should treat it as a protocol error.
 */
export function decodeRequest(
  bytes: Uint8Array,
  options: DecodeOptions = {},
): LdapMessage<RequestOp> {
  return decodeEnvelope(bytes, options, decodeRequestOp);
}

/** Decode one LDAPMessage carrying a response. */
export function decodeResponse(
  bytes: Uint8Array,
  options: DecodeOptions = {},
): LdapMessage<ResponseOp> {
  return decodeEnvelope(bytes, options, decodeResponseOp);
}

function decodeEnvelope<Op extends ProtocolOp>(
  bytes: Uint8Array,
  options: DecodeOptions,
  decodeOp: (r: BerReader, options: DecodeOptions) => Op,
): LdapMessage<Op> {
  const top = new BerReader(bytes, options);
  const msg = top.readSequence(BerTag.sequence, 'LDAPMessage');
  top.expectEnd('LDAPMessage');
  const messageId = msg.readUint31(BerTag.integer, 'messageID');
  const protocolOp = decodeOp(msg, options);
  const controls = msg.peekTag() === CONTROLS_TAG ? decodeControls(msg) : [];
  msg.expectEnd('LDAPMessage');
  return { messageId, protocolOp, controls };
}

function decodeControls(r: BerReader): Control[] {
  const list = r.readSequence(CONTROLS_TAG, 'controls');
  const controls: Control[] = [];
  while (!list.atEnd()) {
    const c = list.readSequence(BerTag.sequence, 'Control');
    const type = c.readString(BerTag.octetString, 'controlType');
    const criticality = c.peekTag() === BerTag.boolean ? c.readBoolean() : false;
    const value = c.peekTag() === BerTag.octetString ? c.readOctetString() : undefined;
    c.expectEnd('Control');
    controls.push(value === undefined ? { type, criticality } : { type, criticality, value });
  }
  return controls;
}

function decodeAttributes(r: BerReader, what: string): PartialAttribute[] {
  const list = r.readSequence(BerTag.sequence, what);
  const attributes: PartialAttribute[] = [];
  while (!list.atEnd()) attributes.push(decodeAttribute(list));
  return attributes;
}

function decodeAttribute(r: BerReader): PartialAttribute {
  const a = r.readSequence(BerTag.sequence, 'PartialAttribute');
  const type = a.readString(BerTag.octetString, 'type');
  const set = a.readSequence(BerTag.set, 'vals');
  a.expectEnd('PartialAttribute');
  const values: Uint8Array[] = [];
  while (!set.atEnd()) values.push(set.readOctetString(BerTag.octetString, 'AttributeValue'));
  return { type, values };
}

function decodeRequestOp(r: BerReader, options: DecodeOptions): RequestOp {
  const start = r.offset;
  const tag = r.peekTag();
  switch (tag) {
    case OpTag.bindRequest: {
      const s = r.readSequence(tag, 'BindRequest');
      const version = s.readInteger(BerTag.integer, 'version');
      if (version < 1 || version > 127) {
        throw new BerError('invalid-value', `bind version ${version} is outside 1..127`, start);
      }
      const name = s.readString(BerTag.octetString, 'name');
      let authentication: BindAuthentication;
      const authTag = s.peekTag();
      if (authTag === 0x80) {
        authentication = { kind: 'simple', password: s.readOctetString(0x80, 'simple') };
      } else if (authTag === 0xa3) {
        const sasl = s.readSequence(0xa3, 'SaslCredentials');
        const mechanism = sasl.readString(BerTag.octetString, 'mechanism');
        const credentials = sasl.atEnd()
          ? undefined
          : sasl.readOctetString(BerTag.octetString, 'credentials');
        sasl.expectEnd('SaslCredentials');
        authentication =
          credentials === undefined
            ? { kind: 'sasl', mechanism }
            : { kind: 'sasl', mechanism, credentials };
      } else {
        throw new BerError('unexpected-tag', 'unknown bind authentication choice', s.offset);
      }
      s.expectEnd('BindRequest');
      return { type: 'bindRequest', version, name, authentication };
    }
    case OpTag.unbindRequest:
      r.readNull(tag, 'UnbindRequest');
      return { type: 'unbindRequest' };
    case OpTag.searchRequest: {
      const s = r.readSequence(tag, 'SearchRequest');
      const baseObject = s.readString(BerTag.octetString, 'baseObject');
      const scope = pick(SCOPES, s.readEnumerated(BerTag.enumerated, 'scope'), 'scope', start);
      const derefAliases = pick(
        DEREFS,
        s.readEnumerated(BerTag.enumerated, 'derefAliases'),
        'derefAliases',
        start,
      );
      const sizeLimit = s.readUint31(BerTag.integer, 'sizeLimit');
      const timeLimit = s.readUint31(BerTag.integer, 'timeLimit');
      const typesOnly = s.readBoolean(BerTag.boolean, 'typesOnly');
      const filter = decodeFilter(s, options.maxFilterDepth ?? DEFAULT_MAX_FILTER_DEPTH);
      const list = s.readSequence(BerTag.sequence, 'attributes');
      s.expectEnd('SearchRequest');
      const attributes: string[] = [];
      while (!list.atEnd())
        attributes.push(list.readString(BerTag.octetString, 'attribute selector'));
      return {
        type: 'searchRequest',
        baseObject,
        scope,
        derefAliases,
        sizeLimit,
        timeLimit,
        typesOnly,
        filter,
        attributes,
      };
    }
    case OpTag.modifyRequest: {
      const s = r.readSequence(tag, 'ModifyRequest');
      const object = s.readString(BerTag.octetString, 'object');
      const list = s.readSequence(BerTag.sequence, 'changes');
      s.expectEnd('ModifyRequest');
      const changes: { operation: ModifyOperation; modification: PartialAttribute }[] = [];
      while (!list.atEnd()) {
        const c = list.readSequence(BerTag.sequence, 'change');
        const operation = pick(
          MODIFY_OPS,
          c.readEnumerated(BerTag.enumerated, 'operation'),
          'operation',
          start,
        );
        const modification = decodeAttribute(c);
        c.expectEnd('change');
        changes.push({ operation, modification });
      }
      return { type: 'modifyRequest', object, changes };
    }
    case OpTag.addRequest: {
      const s = r.readSequence(tag, 'AddRequest');
      const entry = s.readString(BerTag.octetString, 'entry');
      const attributes = decodeAttributes(s, 'attributes');
      s.expectEnd('AddRequest');
      return { type: 'addRequest', entry, attributes };
    }
    case OpTag.delRequest:
      return { type: 'delRequest', entry: r.readString(tag, 'DelRequest') };
    case OpTag.modDNRequest: {
      const s = r.readSequence(tag, 'ModifyDNRequest');
      const entry = s.readString(BerTag.octetString, 'entry');
      const newrdn = s.readString(BerTag.octetString, 'newrdn');
      const deleteoldrdn = s.readBoolean(BerTag.boolean, 'deleteoldrdn');
      const newSuperior = s.atEnd() ? undefined : s.readString(0x80, 'newSuperior');
      s.expectEnd('ModifyDNRequest');
      return newSuperior === undefined
        ? { type: 'modDNRequest', entry, newrdn, deleteoldrdn }
        : { type: 'modDNRequest', entry, newrdn, deleteoldrdn, newSuperior };
    }
    case OpTag.compareRequest: {
      const s = r.readSequence(tag, 'CompareRequest');
      const entry = s.readString(BerTag.octetString, 'entry');
      const ava = s.readSequence(BerTag.sequence, 'ava');
      s.expectEnd('CompareRequest');
      const attributeDesc = ava.readString(BerTag.octetString, 'attributeDesc');
      const assertionValue = ava.readLenientString(BerTag.octetString, 'assertionValue');
      ava.expectEnd('AttributeValueAssertion');
      return { type: 'compareRequest', entry, attributeDesc, assertionValue };
    }
    case OpTag.abandonRequest:
      return { type: 'abandonRequest', idToAbandon: r.readUint31(tag, 'AbandonRequest') };
    case OpTag.extendedReq: {
      const s = r.readSequence(tag, 'ExtendedRequest');
      const requestName = s.readString(0x80, 'requestName');
      const requestValue = s.atEnd() ? undefined : s.readOctetString(0x81, 'requestValue');
      s.expectEnd('ExtendedRequest');
      return requestValue === undefined
        ? { type: 'extendedReq', requestName }
        : { type: 'extendedReq', requestName, requestValue };
    }
    case undefined:
      throw new BerError('truncated', 'LDAPMessage has no protocolOp', start);
    default:
      throw new BerError(
        'unexpected-tag',
        `protocolOp 0x${tag.toString(16)} is not a request`,
        start,
      );
  }
}

/** The LDAPResult components at the start of a response SEQUENCE. */
function decodeResult(s: BerReader): LdapResult {
  const resultCode = s.readEnumerated(BerTag.enumerated, 'resultCode');
  const matchedDN = s.readString(BerTag.octetString, 'matchedDN');
  const diagnosticMessage = s.readString(BerTag.octetString, 'diagnosticMessage');
  if (s.peekTag() !== REFERRAL_TAG) return { resultCode, matchedDN, diagnosticMessage };
  const list = s.readSequence(REFERRAL_TAG, 'referral');
  const referral: string[] = [];
  while (!list.atEnd()) referral.push(list.readString(BerTag.octetString, 'URI'));
  return { resultCode, matchedDN, diagnosticMessage, referral };
}

type PlainResultType =
  | 'searchResDone'
  | 'modifyResponse'
  | 'addResponse'
  | 'delResponse'
  | 'modDNResponse'
  | 'compareResponse';

const PLAIN_RESULTS: ReadonlyMap<number, PlainResultType> = new Map([
  [OpTag.searchResDone, 'searchResDone'],
  [OpTag.modifyResponse, 'modifyResponse'],
  [OpTag.addResponse, 'addResponse'],
  [OpTag.delResponse, 'delResponse'],
  [OpTag.modDNResponse, 'modDNResponse'],
  [OpTag.compareResponse, 'compareResponse'],
]);

function decodeResponseOp(r: BerReader): ResponseOp {
  const start = r.offset;
  const tag = r.peekTag();
  if (tag === undefined) throw new BerError('truncated', 'LDAPMessage has no protocolOp', start);
  const plain = PLAIN_RESULTS.get(tag);
  if (plain !== undefined) {
    const s = r.readSequence(tag, plain);
    const result = decodeResult(s);
    s.expectEnd(plain);
    return { type: plain, ...result };
  }
  switch (tag) {
    case OpTag.bindResponse: {
      const s = r.readSequence(tag, 'BindResponse');
      const result = decodeResult(s);
      const serverSaslCreds = s.atEnd() ? undefined : s.readOctetString(0x87, 'serverSaslCreds');
      s.expectEnd('BindResponse');
      return serverSaslCreds === undefined
        ? { type: 'bindResponse', ...result }
        : { type: 'bindResponse', ...result, serverSaslCreds };
    }
    case OpTag.searchResEntry: {
      const s = r.readSequence(tag, 'SearchResultEntry');
      const objectName = s.readString(BerTag.octetString, 'objectName');
      const attributes = decodeAttributes(s, 'attributes');
      s.expectEnd('SearchResultEntry');
      return { type: 'searchResEntry', objectName, attributes };
    }
    case OpTag.searchResRef: {
      const s = r.readSequence(tag, 'SearchResultReference');
      const uris: string[] = [];
      while (!s.atEnd()) uris.push(s.readString(BerTag.octetString, 'URI'));
      if (uris.length === 0)
        throw new BerError('invalid-value', 'empty SearchResultReference', start);
      return { type: 'searchResRef', uris };
    }
    case OpTag.extendedResp: {
      const s = r.readSequence(tag, 'ExtendedResponse');
      const result = decodeResult(s);
      const responseName = s.peekTag() === 0x8a ? s.readString(0x8a, 'responseName') : undefined;
      const responseValue =
        s.peekTag() === 0x8b ? s.readOctetString(0x8b, 'responseValue') : undefined;
      s.expectEnd('ExtendedResponse');
      return {
        type: 'extendedResp',
        ...result,
        ...(responseName === undefined ? {} : { responseName }),
        ...(responseValue === undefined ? {} : { responseValue }),
      };
    }
    case OpTag.intermediateResponse: {
      const s = r.readSequence(tag, 'IntermediateResponse');
      const responseName = s.peekTag() === 0x80 ? s.readString(0x80, 'responseName') : undefined;
      const responseValue =
        s.peekTag() === 0x81 ? s.readOctetString(0x81, 'responseValue') : undefined;
      s.expectEnd('IntermediateResponse');
      return {
        type: 'intermediateResponse',
        ...(responseName === undefined ? {} : { responseName }),
        ...(responseValue === undefined ? {} : { responseValue }),
      };
    }
    default:
      throw new BerError(
        'unexpected-tag',
        `protocolOp 0x${tag.toString(16)} is not a response`,
        start,
      );
  }
}

// ---------------------------------------------------------------------------------------------
// encoding

/** Encode one LDAPMessage (request or response). */
export function encodeMessage(message: {
  readonly messageId: number;
  readonly protocolOp: ProtocolOp;
  readonly controls?: readonly Control[];
}): Uint8Array {
  const w = new BerWriter();
  w.sequence(BerTag.sequence, () => {
    w.writeInteger(message.messageId);
    encodeOp(w, message.protocolOp);
    const controls = message.controls ?? [];
    if (controls.length > 0) {
      w.sequence(CONTROLS_TAG, () => {
        for (const c of controls) {
          w.sequence(BerTag.sequence, () => {
            w.writeOctetString(c.type);
            if (c.criticality) w.writeBoolean(true);
            if (c.value !== undefined) w.writeOctetString(c.value);
          });
        }
      });
    }
  });
  return w.toBytes();
}

/**
 * The Notice of Disconnection (RFC 4511 §4.4.1): an unsolicited ExtendedResponse with
 * messageID 0, sent before the server closes a session it cannot continue.
 */
export function encodeNoticeOfDisconnection(
  resultCode: number,
  diagnosticMessage = '',
): Uint8Array {
  return encodeMessage({
    messageId: 0,
    protocolOp: {
      type: 'extendedResp',
      resultCode,
      matchedDN: '',
      diagnosticMessage,
      responseName: ExtendedOid.noticeOfDisconnection,
    },
  });
}

function writeAttribute(w: BerWriter, a: PartialAttribute): void {
  w.sequence(BerTag.sequence, () => {
    w.writeOctetString(a.type);
    w.sequence(BerTag.set, () => {
      for (const v of a.values) w.writeOctetString(v);
    });
  });
}

function writeResult(w: BerWriter, r: LdapResult): void {
  w.writeEnumerated(r.resultCode);
  w.writeOctetString(r.matchedDN);
  w.writeOctetString(r.diagnosticMessage);
  if (r.referral !== undefined && r.referral.length > 0) {
    const referral = r.referral;
    w.sequence(REFERRAL_TAG, () => {
      for (const uri of referral) w.writeOctetString(uri);
    });
  }
}

function encodeOp(w: BerWriter, op: ProtocolOp): void {
  const tag = OpTag[op.type];
  switch (op.type) {
    case 'bindRequest':
      w.sequence(tag, () => {
        w.writeInteger(op.version);
        w.writeOctetString(op.name);
        const auth = op.authentication;
        if (auth.kind === 'simple') {
          w.writeOctetString(auth.password, 0x80);
        } else {
          w.sequence(0xa3, () => {
            w.writeOctetString(auth.mechanism);
            if (auth.credentials !== undefined) w.writeOctetString(auth.credentials);
          });
        }
      });
      return;
    case 'unbindRequest':
      w.writeNull(tag);
      return;
    case 'searchRequest':
      w.sequence(tag, () => {
        w.writeOctetString(op.baseObject);
        w.writeEnumerated(SCOPES.indexOf(op.scope));
        w.writeEnumerated(DEREFS.indexOf(op.derefAliases));
        w.writeInteger(op.sizeLimit);
        w.writeInteger(op.timeLimit);
        w.writeBoolean(op.typesOnly);
        encodeFilter(w, op.filter);
        w.sequence(BerTag.sequence, () => {
          for (const a of op.attributes) w.writeOctetString(a);
        });
      });
      return;
    case 'modifyRequest':
      w.sequence(tag, () => {
        w.writeOctetString(op.object);
        w.sequence(BerTag.sequence, () => {
          for (const c of op.changes) {
            w.sequence(BerTag.sequence, () => {
              w.writeEnumerated(MODIFY_OPS.indexOf(c.operation));
              writeAttribute(w, c.modification);
            });
          }
        });
      });
      return;
    case 'addRequest':
      w.sequence(tag, () => {
        w.writeOctetString(op.entry);
        w.sequence(BerTag.sequence, () => {
          for (const a of op.attributes) writeAttribute(w, a);
        });
      });
      return;
    case 'delRequest':
      w.writeOctetString(op.entry, tag);
      return;
    case 'modDNRequest':
      w.sequence(tag, () => {
        w.writeOctetString(op.entry);
        w.writeOctetString(op.newrdn);
        w.writeBoolean(op.deleteoldrdn);
        if (op.newSuperior !== undefined) w.writeOctetString(op.newSuperior, 0x80);
      });
      return;
    case 'compareRequest':
      w.sequence(tag, () => {
        w.writeOctetString(op.entry);
        w.sequence(BerTag.sequence, () => {
          w.writeOctetString(op.attributeDesc);
          w.writeOctetString(op.assertionValue);
        });
      });
      return;
    case 'abandonRequest':
      w.writeInteger(op.idToAbandon, tag);
      return;
    case 'extendedReq':
      w.sequence(tag, () => {
        w.writeOctetString(op.requestName, 0x80);
        if (op.requestValue !== undefined) w.writeOctetString(op.requestValue, 0x81);
      });
      return;
    case 'bindResponse':
      w.sequence(tag, () => {
        writeResult(w, op);
        if (op.serverSaslCreds !== undefined) w.writeOctetString(op.serverSaslCreds, 0x87);
      });
      return;
    case 'searchResEntry':
      w.sequence(tag, () => {
        w.writeOctetString(op.objectName);
        w.sequence(BerTag.sequence, () => {
          for (const a of op.attributes) writeAttribute(w, a);
        });
      });
      return;
    case 'searchResRef':
      w.sequence(tag, () => {
        for (const uri of op.uris) w.writeOctetString(uri);
      });
      return;
    case 'searchResDone':
    case 'modifyResponse':
    case 'addResponse':
    case 'delResponse':
    case 'modDNResponse':
    case 'compareResponse':
      w.sequence(tag, () => writeResult(w, op));
      return;
    case 'extendedResp':
      w.sequence(tag, () => {
        writeResult(w, op);
        if (op.responseName !== undefined) w.writeOctetString(op.responseName, 0x8a);
        if (op.responseValue !== undefined) w.writeOctetString(op.responseValue, 0x8b);
      });
      return;
    case 'intermediateResponse':
      w.sequence(tag, () => {
        if (op.responseName !== undefined) w.writeOctetString(op.responseName, 0x80);
        if (op.responseValue !== undefined) w.writeOctetString(op.responseValue, 0x81);
      });
      return;
  }
}
