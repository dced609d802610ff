import assert from 'node:assert/strict';
import { BerError } from '../../../src/protocols/ldap/ber/ber-error.ts';
import { decodePagedResults } from '../../../src/protocols/ldap/controls.ts';
import { parseFilterString } from '../../../src/protocols/ldap/filter.ts';
import {
  decodeRequest,
  decodeResponse,
  encodeMessage,
  encodeNoticeOfDisconnection,
  ExtendedOid,
} from '../../../src/protocols/ldap/messages.ts';
import type {
  LdapMessage,
  ProtocolOp,
  RequestOp,
  ResponseOp,
} from '../../../src/protocols/ldap/messages.ts';
import { ResultCode } from '../../../src/protocols/ldap/result-code.ts';

/** Hex with spaces, and "quoted" ASCII runs, e.g. `04 03 "abc"`. */
function fixture(spec: string): Uint8Array {
  const out: number[] = [];
  for (const token of spec.match(/"[^"]*"|[0-9a-fA-F]{2}/g) ?? []) {
    if (token.startsWith('"')) out.push(...Buffer.from(token.slice(1, -1), 'latin1'));
    else out.push(parseInt(token, 16));
  }
  return Uint8Array.from(out);
}

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

const ALICE = 'uid=alice,ou=people,dc=example,dc=test';

describe('LDAP messages: golden request fixtures', () => {
  it('decodes a simple bind (ldapwhoami -x -D uid=alice,... -w secret)', () => {
    // BindRequest content: 02 01 03 (3) + 04 26 dn (2+38) + 80 06 "secret" (8) = 51 = 0x33
    // LDAPMessage content: 02 01 01 (3) + 60 33 ... (53) = 56 = 0x38
    const bytes = fixture(`30 38 02 01 01 60 33 02 01 03 04 26 "${ALICE}" 80 06 "secret"`);
    assert.deepEqual(decodeRequest(bytes), {
      messageId: 1,
      protocolOp: {
        type: 'bindRequest',
        version: 3,
        name: ALICE,
        authentication: { kind: 'simple', password: enc('secret') },
      },
      controls: [],
    });
  });

  it('decodes an anonymous bind', () => {
    const bytes = fixture('30 0c 02 01 01 60 07 02 01 03 04 00 80 00');
    assert.deepEqual(decodeRequest(bytes).protocolOp, {
      type: 'bindRequest',
      version: 3,
      name: '',
      authentication: { kind: 'simple', password: new Uint8Array(0) },
    });
  });

  it("decodes Thunderbird's autocomplete search", () => {
    // (cn=*x*)        a4 09 04 02 "cn" 30 03 81 01 "x"                 11 bytes
    // (mail=*x*)      a4 0b 04 04 "mail" 30 03 81 01 "x"               13 bytes
    // (sn=*x*)        a4 09 04 02 "sn" 30 03 81 01 "x"                 11 bytes
    // (givenName=*x*) a4 10 04 09 "givenName" 30 03 81 01 "x"          18 bytes
    // or: a1 35 (53 = 11+13+11+18), 55 bytes; attributes: 30 19 (4+6+4+11 = 25), 27 bytes
    // SearchRequest: 20 (base) + 5*3 (scope, deref, size, time, typesOnly) + 55 + 27 = 117 = 0x75
    const bytes = fixture(`
      30 7a 02 01 02
        63 75
          04 12 "dc=example,dc=test"
          0a 01 02  0a 01 00  02 01 64  02 01 00  01 01 00
          a1 35
            a4 09 04 02 "cn" 30 03 81 01 "x"
            a4 0b 04 04 "mail" 30 03 81 01 "x"
            a4 09 04 02 "sn" 30 03 81 01 "x"
            a4 10 04 09 "givenName" 30 03 81 01 "x"
          30 19 04 02 "cn" 04 04 "mail" 04 02 "sn" 04 09 "givenName"`);
    const msg = decodeRequest(bytes);
    assert.deepEqual(msg, {
      messageId: 2,
      protocolOp: {
        type: 'searchRequest',
        baseObject: 'dc=example,dc=test',
        scope: 'wholeSubtree',
        derefAliases: 'neverDerefAliases',
        sizeLimit: 100,
        timeLimit: 0,
        typesOnly: false,
        filter: parseFilterString('(|(cn=*x*)(mail=*x*)(sn=*x*)(givenName=*x*))'),
        attributes: ['cn', 'mail', 'sn', 'givenName'],
      },
      controls: [],
    });
    // and our encoder produces the very same bytes
    assert.equal(hex(encodeMessage(msg)), hex(bytes));
  });

  it('decodes a search with a critical paged results control (ldapsearch -E !pr=50)', () => {
    // SearchRequest: 20 + 15 + 13 (87 0b "objectClass") + 2 (30 00) = 50 = 0x32
    // control: 04 16 oid (24) + 01 01 ff (3) + 04 07 (30 05 02 01 32 04 00) (9) = 36 = 0x24
    // LDAPMessage: 3 + 52 + 40 (a0 26 30 24 ...) = 95 = 0x5f
    const bytes = fixture(`
      30 5f 02 01 03
        63 32
          04 12 "dc=example,dc=test"
          0a 01 02  0a 01 00  02 01 00  02 01 00  01 01 00
          87 0b "objectClass"
          30 00
        a0 26
          30 24 04 16 "1.2.840.113556.1.4.319" 01 01 ff 04 07 30 05 02 01 32 04 00`);
    const msg = decodeRequest(bytes);
    assert.equal(msg.protocolOp.type, 'searchRequest');
    if (msg.protocolOp.type !== 'searchRequest') return;
    assert.deepEqual(msg.protocolOp.filter, { type: 'present', attribute: 'objectClass' });
    assert.deepEqual(msg.protocolOp.attributes, []);
    assert.equal(msg.controls.length, 1);
    const control = msg.controls[0];
    assert.ok(control !== undefined);
    assert.equal(control.type, '1.2.840.113556.1.4.319');
    assert.equal(control.criticality, true);
    assert.deepEqual(decodePagedResults(control), { size: 50, cookie: new Uint8Array(0) });
    assert.equal(hex(encodeMessage(msg)), hex(bytes));
  });

  it('decodes the WhoAmI extended request (RFC 4532)', () => {
    // 77 19: 80 17 + 23-byte OID; message 3 + 27 = 30 = 0x1e
    const bytes = fixture('30 1e 02 01 02 77 19 80 17 "1.3.6.1.4.1.4203.1.11.3"');
    assert.deepEqual(decodeRequest(bytes), {
      messageId: 2,
      protocolOp: { type: 'extendedReq', requestName: ExtendedOid.whoAmI },
      controls: [],
    });
  });

  it('decodes the StartTLS extended request (RFC 4511 §4.14.1)', () => {
    const bytes = fixture('30 1d 02 01 01 77 18 80 16 "1.3.6.1.4.1.1466.20037"');
    assert.deepEqual(decodeRequest(bytes).protocolOp, {
      type: 'extendedReq',
      requestName: ExtendedOid.startTls,
    });
  });

  it('decodes unbind, abandon and delete (primitive protocolOps)', () => {
    assert.deepEqual(decodeRequest(fixture('30 05 02 01 07 42 00')).protocolOp, {
      type: 'unbindRequest',
    });
    assert.deepEqual(decodeRequest(fixture('30 06 02 01 08 50 01 05')).protocolOp, {
      type: 'abandonRequest',
      idToAbandon: 5,
    });
    assert.deepEqual(decodeRequest(fixture('30 09 02 01 09 4a 04 "cn=x"')).protocolOp, {
      type: 'delRequest',
      entry: 'cn=x',
    });
  });
});

describe('LDAP messages: golden response fixtures', () => {
  it('encodes a successful BindResponse', () => {
    const bytes = encodeMessage({
      messageId: 1,
      protocolOp: { type: 'bindResponse', resultCode: 0, matchedDN: '', diagnosticMessage: '' },
    });
    assert.equal(hex(bytes), hex(fixture('30 0c 02 01 01 61 07 0a 01 00 04 00 04 00')));
  });

  it('encodes the Notice of Disconnection (RFC 4511 §4.4.1)', () => {
    // 78 22: 0a 01 02 (3) + 04 00 (2) + 04 03 "bad" (5) + 8a 16 oid (24) = 34; message 3 + 36 = 39
    const bytes = encodeNoticeOfDisconnection(ResultCode.protocolError, 'bad');
    const expected = fixture(
      '30 27 02 01 00 78 22 0a 01 02 04 00 04 03 "bad" 8a 16 "1.3.6.1.4.1.1466.20036"',
    );
    assert.equal(hex(bytes), hex(expected));
    assert.deepEqual(decodeResponse(bytes), {
      messageId: 0,
      protocolOp: {
        type: 'extendedResp',
        resultCode: 2,
        matchedDN: '',
        diagnosticMessage: 'bad',
        responseName: ExtendedOid.noticeOfDisconnection,
      },
      controls: [],
    });
  });

  it('encodes a SearchResultEntry with string and binary values', () => {
    const bytes = encodeMessage({
      messageId: 2,
      protocolOp: {
        type: 'searchResEntry',
        objectName: 'cn=a',
        attributes: [
          { type: 'cn', values: ['a'] },
          { type: 'jpegPhoto', values: [Uint8Array.from([0xff, 0xd8])] },
        ],
      },
    });
    const expected = fixture(`
      30 2b 02 01 02 64 26 04 04 "cn=a"
        30 1e
          30 09 04 02 "cn" 31 03 04 01 "a"
          30 11 04 09 "jpegPhoto" 31 04 04 02 ff d8`);
    assert.equal(hex(bytes), hex(expected));
  });
});

/** One of each operation, as a client and a server would send it. */
const REQUESTS: readonly RequestOp[] = [
  {
    type: 'bindRequest',
    version: 3,
    name: ALICE,
    authentication: { kind: 'simple', password: enc('pässword') },
  },
  {
    type: 'bindRequest',
    version: 3,
    name: '',
    authentication: { kind: 'sasl', mechanism: 'EXTERNAL' },
  },
  {
    type: 'bindRequest',
    version: 3,
    name: '',
    authentication: { kind: 'sasl', mechanism: 'PLAIN', credentials: enc('\0alice\0secret') },
  },
  { type: 'unbindRequest' },
  {
    type: 'searchRequest',
    baseObject: 'dc=example,dc=test',
    scope: 'singleLevel',
    derefAliases: 'derefAlways',
    sizeLimit: 2147483647,
    timeLimit: 30,
    typesOnly: true,
    filter: parseFilterString(
      '(&(objectClass=inetOrgPerson)(!(cn=Bob))(|(sn>=m)(sn<=c)(cn~=alise))(mail=*)' +
        '(uid=a*b*c)(cn:caseExactMatch:=Alice)(:dn:2.5.13.2:=x)(|)(&))',
    ),
    attributes: ['*', '+', '1.1', 'cn;lang-de'],
  },
  {
    type: 'modifyRequest',
    object: ALICE,
    changes: [
      { operation: 'replace', modification: { type: 'title', values: [enc('Boss')] } },
      { operation: 'delete', modification: { type: 'description', values: [] } },
      { operation: 'add', modification: { type: 'mail', values: [enc('a@x'), enc('b@x')] } },
      { operation: 'increment', modification: { type: 'n', values: [enc('1')] } },
    ],
  },
  {
    type: 'addRequest',
    entry: 'cn=new,dc=example,dc=test',
    attributes: [
      { type: 'objectClass', values: [enc('top'), enc('person')] },
      { type: 'cn', values: [enc('new')] },
    ],
  },
  { type: 'delRequest', entry: ALICE },
  { type: 'modDNRequest', entry: ALICE, newrdn: 'uid=alicia', deleteoldrdn: true },
  {
    type: 'modDNRequest',
    entry: ALICE,
    newrdn: 'uid=alice',
    deleteoldrdn: false,
    newSuperior: 'ou=alumni,dc=example,dc=test',
  },
  {
    type: 'compareRequest',
    entry: ALICE,
    attributeDesc: 'mail',
    assertionValue: 'alice@example.test',
  },
  { type: 'abandonRequest', idToAbandon: 42 },
  { type: 'extendedReq', requestName: ExtendedOid.whoAmI },
  {
    type: 'extendedReq',
    requestName: ExtendedOid.passwordModify,
    requestValue: Uint8Array.from([0x30, 0]),
  },
];

const RESPONSES: readonly ResponseOp[] = [
  { type: 'bindResponse', resultCode: 49, matchedDN: '', diagnosticMessage: 'invalid credentials' },
  {
    type: 'bindResponse',
    resultCode: 14,
    matchedDN: '',
    diagnosticMessage: '',
    serverSaslCreds: enc('challenge'),
  },
  {
    type: 'searchResEntry',
    objectName: ALICE,
    attributes: [
      { type: 'cn', values: [enc('Alice'), enc('Alice Liddell')] },
      { type: 'objectClass', values: [] },
    ],
  },
  { type: 'searchResRef', uris: ['ldap://other.test/dc=other,dc=test', 'ldap://b.test/'] },
  { type: 'searchResDone', resultCode: 4, matchedDN: '', diagnosticMessage: 'size limit' },
  {
    type: 'searchResDone',
    resultCode: 10,
    matchedDN: 'dc=example,dc=test',
    diagnosticMessage: '',
    referral: ['ldap://other.test/'],
  },
  { type: 'modifyResponse', resultCode: 53, matchedDN: '', diagnosticMessage: 'read-only' },
  { type: 'addResponse', resultCode: 53, matchedDN: '', diagnosticMessage: '' },
  { type: 'delResponse', resultCode: 32, matchedDN: 'dc=example,dc=test', diagnosticMessage: '' },
  { type: 'modDNResponse', resultCode: 53, matchedDN: '', diagnosticMessage: '' },
  { type: 'compareResponse', resultCode: 6, matchedDN: '', diagnosticMessage: '' },
  {
    type: 'extendedResp',
    resultCode: 0,
    matchedDN: '',
    diagnosticMessage: '',
    responseValue: enc(`dn:${ALICE}`),
  },
  {
    type: 'extendedResp',
    resultCode: 0,
    matchedDN: '',
    diagnosticMessage: '',
    responseName: ExtendedOid.startTls,
  },
  { type: 'intermediateResponse' },
  {
    type: 'intermediateResponse',
    responseName: '1.3.6.1.4.1.4203.1.9.1.4',
    responseValue: enc('v'),
  },
];

describe('LDAP messages: round trips', () => {
  it('round-trips every request op', () => {
    for (const [i, protocolOp] of REQUESTS.entries()) {
      const message: LdapMessage<RequestOp> = {
        messageId: i + 1,
        protocolOp,
        controls:
          i % 2 === 0
            ? []
            : [
                { type: '1.2.3', criticality: true, value: enc('v') },
                { type: '1.2.4', criticality: false },
              ],
      };
      assert.deepEqual(decodeRequest(encodeMessage(message)), message, protocolOp.type);
    }
  });

  it('round-trips every response op', () => {
    for (const [i, protocolOp] of RESPONSES.entries()) {
      const message: LdapMessage<ResponseOp> = {
        messageId: 2147483647 - i,
        protocolOp,
        controls: [],
      };
      assert.deepEqual(decodeResponse(encodeMessage(message)), message, protocolOp.type);
    }
  });

  it('encodes string attribute values as UTF-8', () => {
    const message = {
      messageId: 3,
      protocolOp: {
        type: 'searchResEntry',
        objectName: 'cn=ä',
        attributes: [{ type: 'cn', values: ['ä'] }],
      },
    } as const satisfies { messageId: number; protocolOp: ProtocolOp };
    const decoded = decodeResponse(encodeMessage(message)).protocolOp;
    assert.deepEqual(decoded, {
      type: 'searchResEntry',
      objectName: 'cn=ä',
      attributes: [{ type: 'cn', values: [enc('ä')] }],
    });
  });
});

describe('LDAP messages: malformed input', () => {
  const bad: readonly [string, string][] = [
    ['response op sent as a request', '30 0c 02 01 01 61 07 0a 01 00 04 00 04 00'],
    ['request op sent as a response', '30 0c 02 01 01 60 07 02 01 03 04 00 80 00'],
    ['negative message id', '30 0c 02 01 ff 60 07 02 01 03 04 00 80 00'],
    ['bind version 0', '30 0c 02 01 01 60 07 02 01 00 04 00 80 00'],
    ['unknown bind choice', '30 0c 02 01 01 60 07 02 01 03 04 00 81 00'],
    ['trailing bytes after the message', '30 05 02 01 07 42 00 00'],
    ['trailing element inside the message', '30 07 02 01 07 42 00 04 00'],
    ['unbind with content', '30 06 02 01 07 42 01 00'],
    ['missing protocolOp', '30 03 02 01 07'],
    ['not a SEQUENCE', '31 05 02 01 07 42 00'],
    [
      'scope 4',
      '30 20 02 01 02 63 1b 04 00 0a 01 04 0a 01 00 02 01 00 02 01 00 01 01 00 87 0b "objectClass" 30 00',
    ],
    [
      'empty substrings',
      '30 1a 02 01 02 63 15 04 00 0a 01 02 0a 01 00 02 01 00 02 01 00 01 01 00 a4 04 04 00 30 00 30 00',
    ],
    ['invalid UTF-8 in a DN', '30 0a 02 01 09 4a 05 "cn=" c3 28'],
    ['indefinite length', '30 80 02 01 07 42 00 00 00'],
    ['control without a type', '30 0b 02 01 07 42 00 a0 04 30 02 01 01'],
  ];
  for (const [what, spec] of bad) {
    it(`rejects ${what} with a BerError`, () => {
      const bytes = fixture(spec);
      const decode = what.includes('as a response') ? decodeResponse : decodeRequest;
      assert.throws(() => decode(bytes), BerError);
    });
  }

  it('enforces the filter depth limit', () => {
    let filter = '(cn=x)';
    for (let i = 0; i < 10; i++) filter = `(!${filter})`;
    const bytes = encodeMessage({
      messageId: 1,
      protocolOp: {
        type: 'searchRequest',
        baseObject: '',
        scope: 'baseObject',
        derefAliases: 'neverDerefAliases',
        sizeLimit: 0,
        timeLimit: 0,
        typesOnly: false,
        filter: parseFilterString(filter),
        attributes: [],
      },
    });
    assert.equal(decodeRequest(bytes, { maxFilterDepth: 11 }).protocolOp.type, 'searchRequest');
    assert.throws(
      () => decodeRequest(bytes, { maxFilterDepth: 10 }),
      (err: unknown) => err instanceof BerError && err.reason === 'too-deep',
    );
  });
});
