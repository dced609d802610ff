/**
 * Server-level fuzzing over real sockets for a bounded time: random, truncated, oversized,
 * deeply nested, bit-flipped and byte-by-byte packets on many connections at once, while a
 * bound ldapts client keeps searching on its own connection. The server must never crash,
 * must answer bad input with at most a Notice of Disconnection, and the other connection must
 * keep working throughout. The PRNG is seeded (FUZZ_SEED to replay a run).
 */

import assert from 'node:assert/strict';
import net from 'node:net';
import { Client } from 'ldapts';
import { BerWriter } from '../../../src/protocols/ldap/ber/ber-writer.ts';
import { encodeFilter, parseFilterString } from '../../../src/protocols/ldap/filter.ts';
import { encodeMessage } from '../../../src/protocols/ldap/messages.ts';
import type { RequestOp } from '../../../src/protocols/ldap/messages.ts';
import { ALICE_DN, BASE, PASSWORDS, simpleBind, startLdap } from './ldap-fixture.ts';
import type { LdapFixture } from './ldap-fixture.ts';

const DURATION_MS = 5000;
const PARALLEL = 6;

/** xorshift32: small, fast, reproducible. */
function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x100000000;
  };
}

const SAMPLES: readonly RequestOp[] = [
  simpleBind('', ''),
  simpleBind('uid=nobody,ou=people,dc=example,dc=test', 'wrong'),
  {
    type: 'searchRequest',
    baseObject: BASE,
    scope: 'wholeSubtree',
    derefAliases: 'neverDerefAliases',
    sizeLimit: 10,
    timeLimit: 5,
    typesOnly: false,
    filter: parseFilterString('(|(cn=*ma*)(mail=*ma*)(&(sn>=a)(!(uid=x)))(cn:caseIgnoreMatch:=y))'),
    attributes: ['cn', 'mail', '+'],
  },
  { type: 'compareRequest', entry: ALICE_DN, attributeDesc: 'uid', assertionValue: 'alice' },
  { type: 'extendedReq', requestName: '1.3.6.1.4.1.4203.1.11.3' },
  { type: 'abandonRequest', idToAbandon: 3 },
  { type: 'delRequest', entry: ALICE_DN },
  {
    type: 'modifyRequest',
    object: ALICE_DN,
    changes: [{ operation: 'replace', modification: { type: 'cn', values: ['x'] } }],
  },
];

function deepFilterMessage(depth: number): Uint8Array {
  let text = '(cn=x)';
  for (let i = 0; i < depth; i++) text = `(!${text})`;
  const w = new BerWriter();
  w.sequence(0x30, () => {
    w.writeInteger(7);
    w.sequence(0x63, () => {
      w.writeOctetString(BASE);
      w.writeEnumerated(2);
      w.writeEnumerated(0);
      w.writeInteger(0);
      w.writeInteger(0);
      w.writeBoolean(false);
      encodeFilter(w, parseFilterString(text, { maxDepth: 1000 }));
      w.sequence(0x30, () => undefined);
    });
  });
  return w.toBytes();
}

/** Nested SEQUENCEs with definite lengths, `depth` deep. */
function nestedSequences(depth: number): Uint8Array {
  let inner: Uint8Array = Uint8Array.of(0x05, 0x00);
  for (let i = 0; i < depth; i++) {
    const w = new BerWriter();
    w.sequence(0x30, () => w.writeRaw(inner));
    inner = w.toBytes();
  }
  return inner;
}

/** One hostile payload, as the chunks to write. */
function payload(rand: () => number): Uint8Array[] {
  const int = (n: number): number => Math.floor(rand() * n);
  const bytes = (n: number): Uint8Array => Uint8Array.from({ length: n }, () => int(256));
  const sample = (): Uint8Array =>
    encodeMessage({
      messageId: 1 + int(1000),
      protocolOp: SAMPLES[int(SAMPLES.length)] ?? simpleBind('', ''),
    });
  switch (int(9)) {
    case 0:
      return [bytes(1 + int(300))];
    case 1: {
      const m = sample();
      return [m.subarray(0, int(m.length))];
    }
    case 2:
      return [Uint8Array.of(0x30, 0x84, 0x7f, 0xff, 0xff, 0xff, ...bytes(int(64)))];
    case 3:
      return [deepFilterMessage(20 + int(300))];
    case 4:
      return [nestedSequences(30 + int(500))];
    case 5: {
      const m = Uint8Array.from(sample());
      for (let i = 0, n = 1 + int(4); i < n; i++) {
        const at = int(m.length);
        m[at] = (m[at] ?? 0) ^ (1 << int(8));
      }
      return [m];
    }
    case 6:
      return [sample(), sample(), bytes(1 + int(50))];
    case 7: {
      const m = sample();
      return [...m].map((b) => Uint8Array.of(b));
    }
    default:
      return Array.from({ length: 1 + int(20) }, () => sample());
  }
}

/** Send one payload on a fresh connection; resolves when the server closed it or after a while. */
function hostile(port: number, chunks: Uint8Array[]): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const done = (): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve();
    };
    const timer = setTimeout(done, 300);
    socket.on('error', done);
    socket.on('close', done);
    socket.on('data', () => undefined);
    socket.on('connect', () => {
      for (const c of chunks) socket.write(c);
    });
  });
}

describe('LDAP server fuzzing', function () {
  this.timeout(60_000);
  let fx: LdapFixture;

  before(async () => {
    // failed binds are part of the noise: keep the shared limiter from blocking loopback
    fx = await startLdap({ env: { COMMUNE_AUTH_MAX_FAILURES_PER_ADDRESS: '1000000' } });
  });
  after(async () => {
    await fx.stop();
  });

  it(`survives ${DURATION_MS / 1000} s of hostile connections; others keep working`, async () => {
    const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 0xffffffff);
    const canary = new Client({ url: fx.url, timeout: 10_000 });
    await canary.bind(ALICE_DN, PASSWORDS.alice ?? '');
    const end = Date.now() + DURATION_MS;
    let hostileConnections = 0;
    let canaryRounds = 0;

    const attackers = Array.from({ length: PARALLEL }, async (_, i) => {
      const rand = prng(seed + i);
      while (Date.now() < end) {
        await hostile(fx.ldapPort, payload(rand));
        hostileConnections++;
      }
    });
    const watcher = (async () => {
      while (Date.now() < end) {
        const { searchEntries } = await canary.search(BASE, {
          filter: '(uid=bob)',
          attributes: ['cn'],
        });
        assert.equal(searchEntries[0]?.cn, 'Bob Marley', `seed ${seed}`);
        canaryRounds++;
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    await Promise.all([...attackers, watcher]);

    assert.ok(hostileConnections > 50, `only ${hostileConnections} hostile connections`);
    assert.ok(canaryRounds > 20, `only ${canaryRounds} canary rounds`);
    // the same long-lived connection still works, and so do new ones
    assert.equal((await canary.exop('1.3.6.1.4.1.4203.1.11.3')).value, `dn:${ALICE_DN}`);
    await canary.unbind();
    const fresh = new Client({ url: fx.url });
    await fresh.bind('bob', PASSWORDS.bob ?? '');
    assert.equal((await fresh.search(BASE, { filter: '(uid=alice)' })).searchEntries.length, 1);
    await fresh.unbind();
  });
});
