/**
 * BER fuzz: 20,000 random, truncated, mutated, deeply nested and huge-length packets through
 * the framer and the message decoders. The only error allowed out is BerError (the string
 * parsers: CommuneError); nothing may hang, overflow the stack or throw a RangeError/TypeError.
 * Deterministic (seeded) so a failure reproduces.
 */
import assert from 'node:assert/strict';
import { CommuneError } from '../../../../src/core/errors.ts';
import { BerError } from '../../../../src/protocols/ldap/ber/ber-error.ts';
import { BerFramer } from '../../../../src/protocols/ldap/ber/ber-framer.ts';
import { BerWriter } from '../../../../src/protocols/ldap/ber/ber-writer.ts';
import {
  decodePagedResults,
  decodeSortRequest,
  decodeSortResponse,
  encodePagedResults,
  encodeSortRequest,
} from '../../../../src/protocols/ldap/controls.ts';
import { parseDn } from '../../../../src/protocols/ldap/dn.ts';
import { filterToString, parseFilterString } from '../../../../src/protocols/ldap/filter.ts';
import {
  decodeRequest,
  decodeResponse,
  encodeMessage,
  encodeNoticeOfDisconnection,
} from '../../../../src/protocols/ldap/messages.ts';
import { prng } from '../../../support/prng.ts';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const BASE = 'dc=example,dc=test';

const CORPUS: readonly Uint8Array[] = [
  Uint8Array.from([
    0x30, 0x0c, 0x02, 0x01, 0x01, 0x60, 0x07, 0x02, 0x01, 0x03, 0x04, 0x00, 0x80, 0x00,
  ]),
  encodeMessage({
    messageId: 1,
    protocolOp: {
      type: 'bindRequest',
      version: 3,
      name: `uid=alice,ou=people,${BASE}`,
      authentication: { kind: 'simple', password: enc('secret') },
    },
  }),
  encodeMessage({
    messageId: 2,
    protocolOp: {
      type: 'searchRequest',
      baseObject: BASE,
      scope: 'wholeSubtree',
      derefAliases: 'neverDerefAliases',
      sizeLimit: 100,
      timeLimit: 0,
      typesOnly: false,
      filter: parseFilterString(
        '(&(|(cn=*x*)(mail=*x*)(sn=*x*)(givenName=*x*))(!(a>=1))(b<=2)(c~=3)(d=*)(e:dn:2.5.13.2:=f))',
      ),
      attributes: ['cn', 'mail', 'sn', 'givenName'],
    },
    controls: [
      encodePagedResults({ size: 50, cookie: enc('abc') }, true),
      encodeSortRequest([{ attributeType: 'sn', reverseOrder: true }]),
    ],
  }),
  encodeMessage({
    messageId: 3,
    protocolOp: {
      type: 'modifyRequest',
      object: BASE,
      changes: [{ operation: 'replace', modification: { type: 'cn', values: ['x', 'y'] } }],
    },
  }),
  encodeMessage({
    messageId: 4,
    protocolOp: {
      type: 'modDNRequest',
      entry: 'cn=a',
      newrdn: 'cn=b',
      deleteoldrdn: true,
      newSuperior: BASE,
    },
  }),
  encodeMessage({
    messageId: 5,
    protocolOp: { type: 'compareRequest', entry: 'cn=a', attributeDesc: 'cn', assertionValue: 'a' },
  }),
  encodeMessage({
    messageId: 6,
    protocolOp: {
      type: 'extendedReq',
      requestName: '1.3.6.1.4.1.4203.1.11.3',
      requestValue: enc('x'),
    },
  }),
  encodeMessage({ messageId: 7, protocolOp: { type: 'abandonRequest', idToAbandon: 3 } }),
  encodeMessage({ messageId: 8, protocolOp: { type: 'unbindRequest' } }),
  encodeMessage({
    messageId: 9,
    protocolOp: {
      type: 'searchResEntry',
      objectName: 'cn=a',
      attributes: [{ type: 'cn', values: ['a', 'b'] }],
    },
  }),
  encodeMessage({
    messageId: 9,
    protocolOp: {
      type: 'searchResDone',
      resultCode: 10,
      matchedDN: '',
      diagnosticMessage: 'x',
      referral: ['ldap://x/'],
    },
  }),
  encodeMessage({
    messageId: 9,
    protocolOp: {
      type: 'bindResponse',
      resultCode: 14,
      matchedDN: '',
      diagnosticMessage: '',
      serverSaslCreds: enc('c'),
    },
  }),
  encodeMessage({
    messageId: 9,
    protocolOp: { type: 'intermediateResponse', responseName: '1.2', responseValue: enc('v') },
  }),
  encodeNoticeOfDisconnection(2, 'bye'),
];

/** A constructed-in-constructed chain `levels` deep, with correct (long-form) lengths. */
function nested(levels: number, tag: number): Uint8Array {
  const w = new BerWriter();
  for (let i = 0; i < levels; i++) w.startSequence(tag);
  w.writeNull();
  for (let i = 0; i < levels; i++) w.endSequence();
  return w.toBytes();
}

/** A search whose filter is `depth` nested NOTs (or ANDs), correctly encoded. */
function deepFilterSearch(depth: number, op: 'not' | 'and'): Uint8Array {
  let filter = '(cn=x)';
  for (let i = 0; i < depth; i++) filter = op === 'not' ? `(!${filter})` : `(&${filter}(a=b))`;
  return encodeMessage({
    messageId: 1,
    protocolOp: {
      type: 'searchRequest',
      baseObject: '',
      scope: 'baseObject',
      derefAliases: 'neverDerefAliases',
      sizeLimit: 0,
      timeLimit: 0,
      typesOnly: false,
      filter: parseFilterString(filter, { maxDepth: depth + 1 }),
      attributes: [],
    },
  });
}

function assertOnlyBerErrors(run: () => unknown, packet: Uint8Array): void {
  try {
    run();
  } catch (err) {
    if (!(err instanceof BerError)) {
      assert.fail(
        `non-BerError ${String(err)} for ${Buffer.from(packet.subarray(0, 64)).toString('hex')}`,
      );
    }
  }
}

function decodeAll(packet: Uint8Array): void {
  assertOnlyBerErrors(() => decodeRequest(packet, { maxLength: 1 << 20 }), packet);
  assertOnlyBerErrors(() => decodeResponse(packet), packet);
  const control = { type: '1.2.840.113556.1.4.319', criticality: false, value: packet };
  assertOnlyBerErrors(() => decodePagedResults(control), packet);
  assertOnlyBerErrors(() => decodeSortRequest(control), packet);
  assertOnlyBerErrors(() => decodeSortResponse(control), packet);
}

/** Feed `packet` to a framer in random chunks; decode every frame it yields. */
function frameAll(packet: Uint8Array, rand: () => number): number {
  const framer = new BerFramer({ maxMessageSize: 64 * 1024 });
  let frames = 0;
  let pos = 0;
  while (pos < packet.length) {
    const n = 1 + Math.floor(rand() * (rand() < 0.5 ? 4 : packet.length));
    framer.push(packet.subarray(pos, pos + n));
    pos += n;
    for (let guard = 0; ; guard++) {
      assert.ok(guard <= packet.length + 1, 'framer loops without progress');
      const r = framer.next();
      if (r.kind === 'need-more') break;
      if (r.kind === 'error') {
        assert.ok(r.error instanceof BerError);
        return frames;
      }
      frames++;
      assert.ok(r.bytes.length >= 2 && r.bytes.length <= 64 * 1024);
      decodeAll(r.bytes);
    }
  }
  return frames;
}

function mutate(src: Uint8Array, rand: () => number): Uint8Array {
  const bytes = [...src];
  const edits = 1 + Math.floor(rand() * 4);
  for (let i = 0; i < edits; i++) {
    const at = Math.floor(rand() * (bytes.length + 1));
    const kind = rand();
    const special =
      [0x00, 0x7f, 0x80, 0x81, 0x84, 0x85, 0xff, 0x30, 0xa0, 0x1f][Math.floor(rand() * 10)] ?? 0;
    if (kind < 0.35) bytes[at] = Math.floor(rand() * 256);
    else if (kind < 0.55) bytes[at] = special;
    else if (kind < 0.7) bytes[at] = (bytes[at] ?? 0) ^ (1 << Math.floor(rand() * 8));
    else if (kind < 0.85) bytes.splice(at, 0, Math.floor(rand() * 256));
    else bytes.splice(at, 1 + Math.floor(rand() * 3));
  }
  return Uint8Array.from(bytes);
}

function pick<T>(items: readonly T[], rand: () => number): T {
  const item = items[Math.floor(rand() * items.length)];
  assert.ok(item !== undefined);
  return item;
}

describe('BER fuzz', function () {
  this.timeout(60_000);

  it('survives known-hostile packets', () => {
    const hostile = [
      '30 84 ff ff ff ff 02 01 01',
      '30 80 02 01 01 42 00 00 00',
      '30 89 01 01 01 01 01 01 01 01 01',
      '30 03 02 84 ff',
      '30 06 02 01 01 63 81 ff',
      '30 07 02 01 01 4a 84 7f ff ff ff',
      '30 05 02 01 01 9f 01',
      '30 00',
      '30 01 30',
      '30 02 02 00',
      '30 0a 02 08 7f ff ff ff ff ff ff ff',
    ];
    for (const hex of hostile) {
      const packet = Uint8Array.from(Buffer.from(hex.replace(/ /g, ''), 'hex'));
      decodeAll(packet);
      frameAll(packet, prng(1));
    }
  });

  it('bounds nesting: 10,000-deep SEQUENCEs and 500-deep filters', () => {
    for (const tag of [0x30, 0xa0, 0x63]) {
      const packet = nested(10_000, tag);
      assert.throws(() => decodeRequest(packet, { maxLength: 1 << 20 }), BerError);
    }
    for (const op of ['not', 'and'] as const) {
      const packet = deepFilterSearch(500, op);
      assert.throws(
        () => decodeRequest(packet, { maxDepth: 10_000, maxLength: 1 << 20 }),
        (err: unknown) => err instanceof BerError && err.reason === 'too-deep',
      );
    }
  });

  it('20,000 random, truncated, mutated and concatenated packets', () => {
    const rand = prng(0x1da9);
    const started = Date.now();
    let frames = 0;
    const count = 20_000;
    for (let i = 0; i < count; i++) {
      const kind = i % 6;
      let packet: Uint8Array;
      if (kind === 0) {
        // random bytes, often behind a plausible SEQUENCE header
        const body = Uint8Array.from({ length: Math.floor(rand() * 80) }, () =>
          Math.floor(rand() * 256),
        );
        packet =
          rand() < 0.5
            ? Uint8Array.from([0x30, body.length & 0xff, 0x02, 0x01, 0x01, ...body])
            : body;
      } else if (kind === 1) {
        const src = pick(CORPUS, rand);
        packet = src.subarray(0, Math.floor(rand() * src.length));
      } else if (kind === 2 || kind === 3) {
        packet = mutate(pick(CORPUS, rand), rand);
      } else if (kind === 4) {
        // huge or bogus lengths spliced into a valid message
        const src = [...pick(CORPUS, rand)];
        const at = 1 + Math.floor(rand() * (src.length - 1));
        const len = pick(
          [
            [0x84, 0xff, 0xff, 0xff, 0xff],
            [0x84, 0x7f, 0xff, 0xff, 0xff],
            [0x83, 0x10, 0, 0],
            [0x80],
            [0x88, 1, 2, 3, 4, 5, 6, 7, 8],
            [0xff],
          ],
          rand,
        );
        src.splice(at, 1, ...len);
        packet = Uint8Array.from(src);
      } else {
        // several messages back to back, the last one possibly damaged
        const parts = Array.from({ length: 2 + Math.floor(rand() * 3) }, () => pick(CORPUS, rand));
        const last = mutate(pick(CORPUS, rand), rand);
        packet = Uint8Array.from([...parts.flatMap((p) => [...p]), ...last]);
      }
      decodeAll(packet);
      frames += frameAll(packet, rand);
    }
    const elapsed = Date.now() - started;
    assert.ok(frames > count / 4, `only ${frames} frames decoded`);
    assert.ok(elapsed < 30_000, `fuzzing took ${elapsed} ms`);
  });

  it('string parsers only throw CommuneError on mutated input', () => {
    const rand = prng(7);
    const filters = [
      '(|(cn=*x*)(mail=*x*)(sn=*x*)(givenName=*x*))',
      '(&(a=b)(!(c>=d))(e:dn:1.2:=f)(g~=h))',
      '(cn=\\28x\\29)',
    ];
    const dns = [
      'uid=alice,ou=people,dc=example,dc=test',
      'cn=a\\,b+sn=c\\2C,o=x',
      '1.2.3=#04024869',
    ];
    const alphabet = '()&|!=*~<>:\\,;+#" abc0123456789.é\0';
    const mutateText = (s: string): string => {
      const chars = [...s];
      for (let i = 0; i < 3; i++) {
        const at = Math.floor(rand() * (chars.length + 1));
        const c = alphabet[Math.floor(rand() * alphabet.length)] ?? '';
        if (rand() < 0.5) chars.splice(at, 1, c);
        else chars.splice(at, 0, c);
      }
      return chars.join('');
    };
    for (let i = 0; i < 5000; i++) {
      const f = mutateText(pick(filters, rand));
      try {
        // whatever parses must format and re-parse to the same filter
        const parsed = parseFilterString(f);
        assert.deepEqual(parseFilterString(filterToString(parsed)), parsed, f);
      } catch (err) {
        if (err instanceof assert.AssertionError) throw err;
        assert.ok(err instanceof CommuneError, `${String(err)} for ${JSON.stringify(f)}`);
      }
      const d = mutateText(pick(dns, rand));
      try {
        parseDn(d);
      } catch (err) {
        assert.ok(err instanceof CommuneError, `${String(err)} for ${JSON.stringify(d)}`);
      }
    }
  });
});
