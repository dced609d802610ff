/**
 * Wire compatibility with a real client: ldapts talks to a throwaway TCP listener that frames
 * with BerFramer, decodes with decodeRequest and answers with encodeMessage. We assert the
 * fields ldapts sent and that ldapts accepts our responses.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { Attribute, Change, Client, ServerSideSortingRequestControl } from 'ldapts';
import { BerFramer } from '../../../src/protocols/ldap/ber/ber-framer.ts';
import {
  ControlOid,
  decodePagedResults,
  decodeSortRequest,
  encodePagedResults,
} from '../../../src/protocols/ldap/controls.ts';
import { parseFilterString } from '../../../src/protocols/ldap/filter.ts';
import { decodeRequest, encodeMessage, ExtendedOid } from '../../../src/protocols/ldap/messages.ts';
import type {
  Control,
  LdapMessage,
  RequestOp,
  ResponseOp,
} from '../../../src/protocols/ldap/messages.ts';
import { ResultCode } from '../../../src/protocols/ldap/result-code.ts';

type Reply = { protocolOp: ResponseOp; controls?: Control[] };
type Handler = (msg: LdapMessage<RequestOp>) => Reply[];

const ALICE = 'uid=alice,ou=people,dc=example,dc=test';
const BASE = 'dc=example,dc=test';
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const ok = { resultCode: ResultCode.success, matchedDN: '', diagnosticMessage: '' };

class FakeServer {
  readonly received: LdapMessage<RequestOp>[] = [];
  handler: Handler = () => [];
  readonly #server: net.Server;
  readonly #sockets = new Set<net.Socket>();

  constructor() {
    this.#server = net.createServer((socket) => this.#accept(socket));
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    return `ldap://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(socket: net.Socket): void {
    this.#sockets.add(socket);
    socket.on('close', () => this.#sockets.delete(socket));
    socket.on('error', () => undefined);
    const framer = new BerFramer();
    socket.on('data', (chunk: Buffer) => {
      framer.push(chunk);
      for (;;) {
        const frame = framer.next();
        if (frame.kind === 'need-more') return;
        if (frame.kind === 'error') {
          socket.destroy();
          return;
        }
        const msg = decodeRequest(frame.bytes);
        this.received.push(msg);
        if (msg.protocolOp.type === 'unbindRequest') {
          socket.end();
          return;
        }
        for (const reply of this.handler(msg)) {
          socket.write(encodeMessage({ messageId: msg.messageId, ...reply }));
        }
      }
    });
  }

  last(): RequestOp {
    const msg = this.received.at(-1);
    assert.ok(msg !== undefined, 'no request received');
    return msg.protocolOp;
  }
}

function entry(name: string, attributes: Record<string, string[]>): Reply {
  return {
    protocolOp: {
      type: 'searchResEntry',
      objectName: name,
      attributes: Object.entries(attributes).map(([type, values]) => ({ type, values })),
    },
  };
}

const done = (controls: Control[] = []): Reply => ({
  protocolOp: { type: 'searchResDone', ...ok },
  controls,
});

describe('LDAP messages: wire compatibility with ldapts', () => {
  let server: FakeServer;
  let client: Client;

  beforeEach(async () => {
    server = new FakeServer();
    client = new Client({ url: await server.listen(), timeout: 5000 });
  });

  afterEach(async () => {
    await client.unbind().catch(() => undefined);
    await server.close();
  });

  it('simple bind: success and invalidCredentials', async () => {
    server.handler = (msg) => {
      const op = msg.protocolOp;
      const good =
        op.type === 'bindRequest' &&
        op.authentication.kind === 'simple' &&
        (op.name === '' || new TextDecoder().decode(op.authentication.password) === 'secret');
      return [
        {
          protocolOp: good
            ? { type: 'bindResponse', ...ok }
            : {
                type: 'bindResponse',
                ...ok,
                resultCode: ResultCode.invalidCredentials,
                diagnosticMessage: 'no',
              },
        },
      ];
    };
    await client.bind(ALICE, 'secret');
    assert.deepEqual(server.last(), {
      type: 'bindRequest',
      version: 3,
      name: ALICE,
      authentication: { kind: 'simple', password: enc('secret') },
    });
    await assert.rejects(client.bind(ALICE, 'wrong'), (err: { code?: number }) => err.code === 49);
    await client.bind('', '');
    assert.deepEqual(server.last(), {
      type: 'bindRequest',
      version: 3,
      name: '',
      authentication: { kind: 'simple', password: new Uint8Array(0) },
    });
  });

  it('SASL bind: PLAIN and EXTERNAL', async () => {
    server.handler = () => [{ protocolOp: { type: 'bindResponse', ...ok } }];
    await client.bind('PLAIN', '\0alice\0secret');
    assert.deepEqual(server.last(), {
      type: 'bindRequest',
      version: 3,
      name: '',
      authentication: { kind: 'sasl', mechanism: 'PLAIN', credentials: enc('\0alice\0secret') },
    });
    await client.bind('EXTERNAL');
    const op = server.last();
    assert.ok(op.type === 'bindRequest' && op.authentication.kind === 'sasl');
    assert.equal(op.authentication.mechanism, 'EXTERNAL');
  });

  it("search: Thunderbird's autocomplete request and entries back", async () => {
    const filter = '(|(cn=*x*)(mail=*x*)(sn=*x*)(givenName=*x*))';
    server.handler = () => [
      entry(ALICE, {
        cn: ['Alice Liddell'],
        mail: ['alice@example.test', 'al@example.test'],
        sn: ['Liddell'],
      }),
      entry(`uid=max,ou=people,${BASE}`, { cn: ['Max Mux'], mail: ['max@example.test'] }),
      done(),
    ];
    const result = await client.search(BASE, {
      scope: 'sub',
      filter,
      attributes: ['cn', 'mail', 'sn', 'givenName'],
      sizeLimit: 100,
      timeLimit: 10,
    });
    assert.deepEqual(server.last(), {
      type: 'searchRequest',
      baseObject: BASE,
      scope: 'wholeSubtree',
      derefAliases: 'neverDerefAliases',
      sizeLimit: 100,
      timeLimit: 10,
      typesOnly: false,
      filter: parseFilterString(filter),
      attributes: ['cn', 'mail', 'sn', 'givenName'],
    });
    assert.equal(result.searchEntries.length, 2);
    assert.equal(result.searchEntries[0]?.dn, ALICE);
    assert.deepEqual(result.searchEntries[0]?.mail, ['alice@example.test', 'al@example.test']);
    assert.equal(result.searchEntries[0]?.cn, 'Alice Liddell');
    assert.equal(result.searchEntries[1]?.mail, 'max@example.test');
  });

  it('search: every filter type and scope as ldapts encodes them', async () => {
    server.handler = () => [done()];
    const filters = [
      '(&(objectClass=inetOrgPerson)(!(cn=Bob))(|(sn>=m)(sn<=c)(cn~=alise)))',
      '(&(mail=*)(uid=a*b*c)(cn=*x)(cn=x*))',
      '(cn:caseExactMatch:=Alice)',
      '(cn:dn:2.5.13.2:=x)',
      '(cn=\\28paren\\29 \\2a star \\5c)',
    ];
    for (const filter of filters) {
      await client.search(BASE, { scope: 'one', filter, returnAttributeValues: false });
      const op = server.last();
      assert.ok(op.type === 'searchRequest');
      assert.deepEqual(op.filter, parseFilterString(filter), filter);
      assert.equal(op.scope, 'singleLevel');
      assert.equal(op.typesOnly, true);
    }
    await client.search(BASE, { scope: 'base' });
    const op = server.last();
    assert.ok(op.type === 'searchRequest');
    assert.equal(op.scope, 'baseObject');
    assert.deepEqual(op.filter, { type: 'present', attribute: 'objectclass' });
  });

  it('search: paged results control across pages, with a sort request control', async () => {
    const people = ['a', 'b', 'c', 'd', 'e'];
    const cookies: string[] = [];
    server.handler = (msg) => {
      const paged = msg.controls.find((c) => c.type === ControlOid.pagedResults);
      assert.ok(paged !== undefined, 'paged results control missing');
      const { size, cookie } = decodePagedResults(paged);
      cookies.push(new TextDecoder().decode(cookie));
      const start = cookie.length === 0 ? 0 : Number(new TextDecoder().decode(cookie));
      const page = people.slice(start, start + size);
      const next = start + size < people.length ? enc(String(start + size)) : new Uint8Array(0);
      return [
        ...page.map((uid) => entry(`uid=${uid},ou=people,${BASE}`, { uid: [uid] })),
        done([encodePagedResults({ size: people.length, cookie: next })]),
      ];
    };
    const sort = new ServerSideSortingRequestControl({
      value: [{ attributeType: 'sn', orderingRule: 'caseIgnoreOrderingMatch', reverseOrder: true }],
    });
    const result = await client.search(BASE, { filter: '(uid=*)', paged: { pageSize: 2 } }, sort);
    assert.deepEqual(
      result.searchEntries.map((e) => e.uid),
      people,
    );
    assert.deepEqual(cookies, ['', '2', '4']);
    const sortControl = server.received
      .at(-1)
      ?.controls.find((c) => c.type === ControlOid.sortRequest);
    assert.ok(sortControl !== undefined);
    assert.deepEqual(decodeSortRequest(sortControl), [
      { attributeType: 'sn', orderingRule: 'caseIgnoreOrderingMatch', reverseOrder: true },
    ]);
  });

  it('compare: compareTrue and compareFalse', async () => {
    server.handler = (msg) => {
      const op = msg.protocolOp;
      const match = op.type === 'compareRequest' && op.assertionValue === 'alice@example.test';
      return [
        {
          protocolOp: {
            type: 'compareResponse',
            ...ok,
            resultCode: match ? ResultCode.compareTrue : ResultCode.compareFalse,
          },
        },
      ];
    };
    assert.equal(await client.compare(ALICE, 'mail', 'alice@example.test'), true);
    assert.deepEqual(server.last(), {
      type: 'compareRequest',
      entry: ALICE,
      attributeDesc: 'mail',
      assertionValue: 'alice@example.test',
    });
    assert.equal(await client.compare(ALICE, 'mail', 'bob@example.test'), false);
  });

  it('extended: WhoAmI with a response value, StartTLS refused', async () => {
    server.handler = (msg) => {
      const op = msg.protocolOp;
      if (op.type === 'extendedReq' && op.requestName === ExtendedOid.whoAmI) {
        return [{ protocolOp: { type: 'extendedResp', ...ok, responseValue: enc(`dn:${ALICE}`) } }];
      }
      if (op.type === 'extendedReq' && op.requestName !== ExtendedOid.startTls) {
        return [{ protocolOp: { type: 'extendedResp', ...ok, responseName: op.requestName } }];
      }
      return [
        {
          protocolOp: {
            type: 'extendedResp',
            ...ok,
            resultCode: ResultCode.unavailable,
            diagnosticMessage: 'no TLS here',
            responseName: ExtendedOid.startTls,
          },
        },
      ];
    };
    const who = await client.exop(ExtendedOid.whoAmI);
    assert.deepEqual(server.last(), { type: 'extendedReq', requestName: ExtendedOid.whoAmI });
    assert.equal(who.value, `dn:${ALICE}`);
    await assert.rejects(client.startTLS(), (err: { code?: number }) => err.code === 52);
    assert.deepEqual(server.last(), { type: 'extendedReq', requestName: ExtendedOid.startTls });
    const other = await client.exop('1.3.6.1.4.1.4203.1.11.1', 'value');
    assert.equal(other.oid, '1.3.6.1.4.1.4203.1.11.1');
    assert.deepEqual(server.last(), {
      type: 'extendedReq',
      requestName: '1.3.6.1.4.1.4203.1.11.1',
      requestValue: enc('value'),
    });
  });

  it('add, modify, delete and modify DN; unwillingToPerform is reported', async () => {
    let refuse = false;
    server.handler = (msg) => {
      const type = {
        addRequest: 'addResponse',
        modifyRequest: 'modifyResponse',
        delRequest: 'delResponse',
        modDNRequest: 'modDNResponse',
      }[msg.protocolOp.type as string] as
        'addResponse' | 'modifyResponse' | 'delResponse' | 'modDNResponse';
      return [
        { protocolOp: { type, ...ok, resultCode: refuse ? ResultCode.unwillingToPerform : 0 } },
      ];
    };
    await client.add(`uid=new,ou=people,${BASE}`, {
      objectClass: ['top', 'person'],
      cn: 'New',
      sn: 'Person',
    });
    assert.deepEqual(server.last(), {
      type: 'addRequest',
      entry: `uid=new,ou=people,${BASE}`,
      attributes: [
        { type: 'objectClass', values: [enc('top'), enc('person')] },
        { type: 'cn', values: [enc('New')] },
        { type: 'sn', values: [enc('Person')] },
      ],
    });
    await client.modify(ALICE, [
      new Change({
        operation: 'replace',
        modification: new Attribute({ type: 'title', values: ['Boss'] }),
      }),
      new Change({
        operation: 'delete',
        modification: new Attribute({ type: 'description', values: [] }),
      }),
      new Change({
        operation: 'add',
        modification: new Attribute({ type: 'mail', values: ['a@x', 'b@x'] }),
      }),
    ]);
    assert.deepEqual(server.last(), {
      type: 'modifyRequest',
      object: ALICE,
      changes: [
        { operation: 'replace', modification: { type: 'title', values: [enc('Boss')] } },
        { operation: 'delete', modification: { type: 'description', values: [] } },
        { operation: 'add', modification: { type: 'mail', values: [enc('a@x'), enc('b@x')] } },
      ],
    });
    await client.del(ALICE);
    assert.deepEqual(server.last(), { type: 'delRequest', entry: ALICE });
    await client.modifyDN(ALICE, `uid=alicia,ou=alumni,${BASE}`);
    const op = server.last();
    assert.ok(op.type === 'modDNRequest');
    assert.equal(op.entry, ALICE);
    assert.equal(op.newrdn, 'uid=alicia');
    assert.equal(op.deleteoldrdn, true);
    assert.equal(op.newSuperior, `ou=alumni,${BASE}`);
    refuse = true;
    await assert.rejects(client.del(ALICE), (err: { code?: number }) => err.code === 53);
  });

  it('unbind is decoded', async () => {
    server.handler = () => [{ protocolOp: { type: 'bindResponse', ...ok } }];
    await client.bind(ALICE, 'secret');
    await client.unbind();
    for (let i = 0; i < 50 && server.last().type !== 'unbindRequest'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.deepEqual(server.last(), { type: 'unbindRequest' });
  });
});
