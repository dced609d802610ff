/**
 * The LDAP server end to end with a real client (ldapts) over real sockets: binds, every
 * operation and filter type over the generated tree, scopes, attribute selection, paging,
 * sorting, limits, StartTLS and LDAPS, access, and robustness against bad input.
 */

import assert from 'node:assert/strict';
import type { Entry } from 'ldapts';
import { Attribute, Change, Client, ServerSideSortingRequestControl } from 'ldapts';
import { BerWriter } from '../../../src/protocols/ldap/ber/ber-writer.ts';
import {
  ControlOid,
  decodePagedResults,
  decodeSortResponse,
  encodePagedResults,
} from '../../../src/protocols/ldap/controls.ts';
import { parseFilterString } from '../../../src/protocols/ldap/filter.ts';
import { encodeMessage, ExtendedOid } from '../../../src/protocols/ldap/messages.ts';
import type { RequestOp, SearchRequest } from '../../../src/protocols/ldap/messages.ts';
import { ResultCode } from '../../../src/protocols/ldap/result-code.ts';
import {
  ALICE_DN,
  BASE,
  PASSWORDS,
  PEOPLE,
  RawClient,
  simpleBind,
  startLdap,
} from './ldap-fixture.ts';
import type { LdapFixture } from './ldap-fixture.ts';

async function rejectsWithCode(promise: Promise<unknown>, code: number): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.equal((err as { code?: number }).code, code, String(err));
    return true;
  });
}

const dnsOf = (entries: readonly Entry[]): string[] => entries.map((e) => e.dn).sort();

function search(filter: string, overrides: Partial<SearchRequest> = {}): SearchRequest {
  return {
    type: 'searchRequest',
    baseObject: BASE,
    scope: 'wholeSubtree',
    derefAliases: 'neverDerefAliases',
    sizeLimit: 0,
    timeLimit: 0,
    typesOnly: false,
    filter: parseFilterString(filter),
    attributes: ['1.1'],
    ...overrides,
  };
}

describe('LDAP server', function () {
  this.timeout(30_000);
  let fx: LdapFixture;
  const clients: Client[] = [];
  const raws: RawClient[] = [];

  before(async () => {
    fx = await startLdap({ extraUsers: 19, env: { COMMUNE_AUTH_MAX_FAILURES_PER_USER: '3' } });
  });
  after(async () => {
    await fx.stop();
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.unbind().catch(() => undefined);
    for (const r of raws.splice(0)) r.destroy();
  });

  const client = (url = fx.url, tls?: { ca: string }): Client => {
    const c = new Client({
      url,
      timeout: 10_000,
      ...(tls === undefined ? {} : { tlsOptions: { ca: [tls.ca] } }),
    });
    clients.push(c);
    return c;
  };
  const alice = async (): Promise<Client> => {
    const c = client();
    await c.bind(ALICE_DN, PASSWORDS.alice ?? '');
    return c;
  };
  const raw = async (): Promise<RawClient> => {
    const r = await RawClient.connect(fx.ldapPort);
    raws.push(r);
    return r;
  };

  describe('root DSE and subschema', () => {
    it('describes the server to anonymous clients', async () => {
      const { searchEntries } = await client().search('', { scope: 'base' });
      const root = searchEntries[0];
      assert.ok(root);
      assert.equal(root.dn, '');
      assert.deepEqual(root.namingContexts, ['dc=example,dc=test', 'dc=other,dc=test']);
      assert.equal(root.supportedLDAPVersion, '3');
      assert.deepEqual(root.supportedControl, [ControlOid.pagedResults, ControlOid.sortRequest]);
      assert.deepEqual(root.supportedExtension, [ExtendedOid.startTls, ExtendedOid.whoAmI]);
      assert.equal(root.supportedSASLMechanisms, 'PLAIN');
      assert.equal(root.subschemaSubentry, 'cn=Subschema');
    });

    it('publishes a subschema entry describing what it serves', async () => {
      const { searchEntries } = await client().search('cn=Subschema', {
        scope: 'base',
        filter: '(objectClass=subschema)',
        attributes: ['attributeTypes', 'objectClasses', 'ldapSyntaxes', 'matchingRules'],
      });
      const schema = searchEntries[0];
      assert.ok(schema);
      const types = schema.attributeTypes as string[];
      const classes = schema.objectClasses as string[];
      assert.ok(types.some((t) => t.includes("NAME ( 'mail' 'rfc822Mailbox' )")));
      assert.ok(types.some((t) => t.startsWith("( 1.2.840.113556.1.2.102 NAME 'memberOf'")));
      assert.ok(classes.some((c) => c.includes("NAME 'inetOrgPerson'")));
      assert.ok(classes.some((c) => c.includes("NAME 'groupOfNames'")));
      assert.ok(!types.some((t) => /userPassword/i.test(t)));
      // every attribute an entry carries is described
      const described = new Set(
        types.flatMap((t) => [...t.matchAll(/'([A-Za-z0-9-]+)'/g)].map((m) => m[1]?.toLowerCase())),
      );
      const c = await alice();
      const all = await c.search(BASE, { attributes: ['*', '+'] });
      for (const e of all.searchEntries) {
        for (const key of Object.keys(e)) {
          if (key === 'dn' || key === '*' || key === '+') continue;
          assert.ok(described.has(key.toLowerCase()), `${key} is described`);
        }
      }
    });
  });

  describe('bind', () => {
    it('accepts the entry DN, the e-mail address and the bare local part', async () => {
      for (const name of [
        ALICE_DN,
        'UID=Alice, OU=People, DC=Example, DC=Test',
        'alice@example.test',
        'alice',
      ]) {
        const c = client();
        await c.bind(name, PASSWORDS.alice ?? '');
        const who = await c.exop(ExtendedOid.whoAmI);
        assert.equal(who.value, `dn:${ALICE_DN}`, name);
      }
    });

    it('accepts an app password', async () => {
      const c = client();
      await c.bind('alice@example.test', fx.appPassword);
      assert.equal((await c.exop(ExtendedOid.whoAmI)).value, `dn:${ALICE_DN}`);
    });

    it('binds users of other domains under their own naming context', async () => {
      const c = client();
      await c.bind('uid=carol,ou=people,dc=other,dc=test', 'carol-secret');
      assert.equal(
        (await c.exop(ExtendedOid.whoAmI)).value,
        'dn:uid=carol,ou=people,dc=other,dc=test',
      );
    });

    it('refuses wrong passwords, unknown names and DNs of the wrong kind with invalidCredentials', async () => {
      await rejectsWithCode(client().bind(ALICE_DN, 'wrong'), ResultCode.invalidCredentials);
      await rejectsWithCode(
        client().bind('uid=nobody,ou=people,dc=example,dc=test', 'x'),
        ResultCode.invalidCredentials,
      );
      await rejectsWithCode(
        client().bind('cn=alice,ou=groups,dc=example,dc=test', PASSWORDS.alice),
        ResultCode.invalidCredentials,
      );
      await rejectsWithCode(
        client().bind('cn=staff,ou=groups,dc=example,dc=test', 'x'),
        ResultCode.invalidCredentials,
      );
      await rejectsWithCode(
        client().bind('cn=admin,dc=example,dc=test', 'x'),
        ResultCode.invalidCredentials,
      );
      // the alias is an address, not a login
      await rejectsWithCode(
        client().bind('a.liddell@example.test', PASSWORDS.alice),
        ResultCode.invalidCredentials,
      );
    });

    it('refuses an unauthenticated bind (name without password), RFC 4513 §5.1.2', async () => {
      const r = await raw();
      r.send(1, simpleBind(ALICE_DN, ''));
      const res = await r.next();
      assert.equal(res.protocolOp.type, 'bindResponse');
      assert.equal(
        (res.protocolOp as { resultCode: number }).resultCode,
        ResultCode.unwillingToPerform,
      );
    });

    it('rate-limits failures with the shared limiter and still says only invalidCredentials', async () => {
      for (let i = 0; i < 3; i++) {
        await rejectsWithCode(client().bind('victim', 'wrong'), ResultCode.invalidCredentials);
      }
      // the right password is refused too while the login is blocked
      await rejectsWithCode(
        client().bind('victim', PASSWORDS.victim),
        ResultCode.invalidCredentials,
      );
      const verdict = fx.core.directory.limiter.check('victim@example.test', '127.0.0.1');
      assert.equal(verdict.allowed, false);
    });

    it('supports SASL PLAIN', async () => {
      const c = client();
      await c.bindSASL('PLAIN', `\0alice\0${PASSWORDS.alice}`);
      assert.equal((await c.exop(ExtendedOid.whoAmI)).value, `dn:${ALICE_DN}`);
      await rejectsWithCode(
        client().bindSASL('PLAIN', `\0alice\0wrong`),
        ResultCode.invalidCredentials,
      );
      await rejectsWithCode(client().bindSASL('CRAM-MD5', 'x'), ResultCode.authMethodNotSupported);
    });

    it('refuses LDAP versions other than 3', async () => {
      const r = await raw();
      r.send(1, { ...simpleBind('', ''), version: 2 } as RequestOp);
      const res = await r.next();
      assert.equal((res.protocolOp as { resultCode: number }).resultCode, ResultCode.protocolError);
    });
  });

  describe('access', () => {
    it('anonymous sees the root DSE and subschema but nothing of the directory', async () => {
      const c = client();
      await c.bind('', '');
      assert.equal((await c.exop(ExtendedOid.whoAmI)).value, '');
      await rejectsWithCode(c.search(BASE, {}), ResultCode.insufficientAccessRights);
      await rejectsWithCode(
        c.search(ALICE_DN, { scope: 'base' }),
        ResultCode.insufficientAccessRights,
      );
      await rejectsWithCode(
        c.search('uid=nobody,ou=people,dc=example,dc=test', { scope: 'base' }),
        ResultCode.insufficientAccessRights,
      );
      await rejectsWithCode(
        c.compare(ALICE_DN, 'uid', 'alice'),
        ResultCode.insufficientAccessRights,
      );
      const fromRoot = await c.search('', { scope: 'sub' });
      assert.deepEqual(fromRoot.searchEntries, []);
      const one = await c.search('', { scope: 'one' });
      assert.deepEqual(one.searchEntries, []);
    });

    it('never shows a password hash or app password, whatever is asked', async () => {
      const c = await alice();
      const { searchEntries } = await c.search('', {
        scope: 'sub',
        attributes: ['*', '+', 'userPassword', 'passwordHash', 'appPasswords'],
      });
      assert.ok(searchEntries.length > 30);
      const text = JSON.stringify(searchEntries);
      assert.ok(!text.includes('$argon2'), 'no argon2 hash');
      // ldapts lists requested attributes the server did not send as empty arrays
      for (const e of searchEntries) {
        for (const [key, value] of Object.entries(e)) {
          if (/userpassword|passwordhash|apppassword/i.test(key)) assert.deepEqual(value, []);
        }
      }
      await rejectsWithCode(
        c.compare(ALICE_DN, 'userPassword', PASSWORDS.alice ?? ''),
        ResultCode.undefinedAttributeType,
      );
    });

    it('refuses every write with unwillingToPerform', async () => {
      const c = await alice();
      await rejectsWithCode(
        c.add(`uid=new,${PEOPLE}`, {
          objectClass: 'inetOrgPerson',
          uid: 'new',
          cn: 'New',
          sn: 'New',
        }),
        ResultCode.unwillingToPerform,
      );
      await rejectsWithCode(
        c.modify(
          ALICE_DN,
          new Change({
            operation: 'replace',
            modification: new Attribute({ type: 'cn', values: ['X'] }),
          }),
        ),
        ResultCode.unwillingToPerform,
      );
      await rejectsWithCode(c.del(ALICE_DN), ResultCode.unwillingToPerform);
      await rejectsWithCode(c.modifyDN(ALICE_DN, 'uid=alicia'), ResultCode.unwillingToPerform);
    });
  });

  describe('the tree', () => {
    it('builds inetOrgPerson entries with every address, derived names and memberOf', async () => {
      const c = await alice();
      const { searchEntries } = await c.search(ALICE_DN, {
        scope: 'base',
        attributes: ['*', 'memberOf'],
      });
      const e = searchEntries[0];
      assert.ok(e);
      assert.deepEqual(e.objectClass, ['top', 'person', 'organizationalPerson', 'inetOrgPerson']);
      assert.equal(e.uid, 'alice');
      assert.equal(e.cn, 'Alice Liddell');
      assert.equal(e.sn, 'Liddell');
      assert.equal(e.givenName, 'Alice');
      assert.equal(e.displayName, 'Alice Liddell');
      assert.deepEqual(e.mail, ['alice@example.test', 'a.liddell@example.test']);
      assert.equal(e.memberOf, 'cn=staff,ou=groups,dc=example,dc=test');
      const zed = (await c.search(`uid=zed,${PEOPLE}`, { scope: 'base' })).searchEntries[0];
      assert.equal(zed?.sn, 'Zed');
      assert.equal(zed?.givenName, undefined);
    });

    it('serves profile attributes when set: phone, mobile, title, o, ou', async () => {
      const c = await alice();
      const p = await fx.core.directory.createPrincipal({
        address: 'prof@example.test',
        displayName: 'Pro File',
      });
      await fx.core.directory.setProfile(p.id, {
        phone: '+33 1 23 45 67 89',
        mobile: '+33 6 00 00 00 00',
        title: 'Engineer',
        organization: 'Commune',
        department: 'Platform',
      });
      try {
        const e = (await c.search(`uid=prof,${PEOPLE}`, { scope: 'base' })).searchEntries[0];
        assert.equal(e?.telephoneNumber, '+33 1 23 45 67 89');
        assert.equal(e?.mobile, '+33 6 00 00 00 00');
        assert.equal(e?.title, 'Engineer');
        assert.equal(e?.o, 'Commune');
        assert.equal(e?.ou, 'Platform');
        const byTitle = await c.search(BASE, { filter: '(&(title=engineer)(ou=plat*))' });
        assert.deepEqual(dnsOf(byTitle.searchEntries), [`uid=prof,${PEOPLE}`]);
        await fx.core.directory.setProfile(p.id, { title: '' });
        const cleared = (await c.search(`uid=prof,${PEOPLE}`, { scope: 'base' })).searchEntries[0];
        assert.equal(cleared?.title, undefined);
        assert.equal(cleared?.o, 'Commune');
      } finally {
        await fx.core.directory.removePrincipal(p.id);
      }
    });

    it('builds groups with member DNs and mail, and resources', async () => {
      const c = await alice();
      const staff = (await c.search('cn=staff,ou=groups,dc=example,dc=test', { scope: 'base' }))
        .searchEntries[0];
      assert.ok(staff);
      assert.deepEqual(staff.objectClass, ['top', 'groupOfNames', 'extensibleObject']);
      assert.deepEqual(staff.member, [ALICE_DN, `uid=bob,${PEOPLE}`]);
      assert.equal(staff.mail, 'staff@example.test');
      const nested = (
        await c.search('cn=all-staff,ou=groups,dc=example,dc=test', {
          scope: 'base',
          attributes: ['member'],
        })
      ).searchEntries[0];
      assert.equal(nested?.member, 'cn=staff,ou=groups,dc=example,dc=test');
      const rooms = await c.search('ou=resources,dc=example,dc=test', {
        scope: 'one',
        attributes: ['cn', 'description'],
      });
      assert.deepEqual(dnsOf(rooms.searchEntries), [
        'cn=projector,ou=resources,dc=example,dc=test',
        'cn=room1,ou=resources,dc=example,dc=test',
      ]);
    });

    it('follows directory changes', async () => {
      const c = await alice();
      const p = await fx.core.directory.createPrincipal({
        address: 'newbie@example.test',
        displayName: 'New Bie',
      });
      const found = await c.search(BASE, { filter: '(uid=newbie)' });
      assert.deepEqual(dnsOf(found.searchEntries), [`uid=newbie,${PEOPLE}`]);
      await fx.core.directory.setDisplayName(p.id, 'Renamed Person');
      const renamed = await c.search(`uid=newbie,${PEOPLE}`, { scope: 'base', attributes: ['cn'] });
      assert.equal(renamed.searchEntries[0]?.cn, 'Renamed Person');
      await fx.core.directory.removePrincipal(p.id);
      assert.deepEqual((await c.search(BASE, { filter: '(uid=newbie)' })).searchEntries, []);
    });
  });

  describe('search', () => {
    it('honours base, one-level, subtree and subordinate scopes', async () => {
      const c = await alice();
      const base = await c.search(PEOPLE, { scope: 'base' });
      assert.deepEqual(dnsOf(base.searchEntries), [PEOPLE]);
      const one = await c.search(PEOPLE, { scope: 'one', attributes: ['1.1'] });
      assert.equal(one.searchEntries.length, 25);
      const sub = await c.search(PEOPLE, { scope: 'sub', attributes: ['1.1'] });
      assert.equal(sub.searchEntries.length, 26);
      const children = await c.search(PEOPLE, { scope: 'children', attributes: ['1.1'] });
      assert.equal(children.searchEntries.length, 25);
      const top = await c.search(BASE, { scope: 'one' });
      assert.deepEqual(dnsOf(top.searchEntries), [
        `ou=groups,${BASE}`,
        PEOPLE,
        `ou=resources,${BASE}`,
      ]);
      const contexts = await c.search('', { scope: 'one', attributes: ['1.1'] });
      assert.deepEqual(dnsOf(contexts.searchEntries), ['dc=example,dc=test', 'dc=other,dc=test']);
    });

    it('answers noSuchObject with the matched DN, and invalidDNSyntax', async () => {
      const c = await alice();
      await assert.rejects(c.search(`uid=nobody,${PEOPLE}`, { scope: 'base' }), (err: unknown) => {
        assert.equal((err as { code: number }).code, ResultCode.noSuchObject);
        return true;
      });
      const r = await raw();
      r.send(1, simpleBind(ALICE_DN, PASSWORDS.alice ?? ''));
      await r.next();
      r.send(2, search('(objectClass=*)', { baseObject: `uid=nobody,${PEOPLE}` }));
      const done = (await r.next()).protocolOp as { resultCode: number; matchedDN: string };
      assert.equal(done.resultCode, ResultCode.noSuchObject);
      assert.equal(done.matchedDN, PEOPLE);
      r.send(3, search('(objectClass=*)', { baseObject: 'not a dn' }));
      assert.equal(
        ((await r.next()).protocolOp as { resultCode: number }).resultCode,
        ResultCode.invalidDNSyntax,
      );
    });

    const filterCases: readonly [string, string[]][] = [
      ['(uid=alice)', ['alice']],
      ['(UID=ALICE)', ['alice']],
      ['(mail=a.liddell@example.test)', ['alice']],
      ['(cn=Mark Twain)', ['mark']],
      ['(commonName=mark twain)', ['mark']],
      ['(cn=ma*)', ['maria', 'mark', 'room1']],
      ['(cn=*ar*)', ['bob', 'carol', 'maria', 'mark', 'room1']],
      ['(sn=*s)', ['carol', 'maria']],
      ['(cn=m*a*s)', ['maria']],
      ['(&(objectClass=inetOrgPerson)(uid>=victim))', ['victim', 'zed']],
      ['(&(objectClass=inetOrgPerson)(uid<=bob))', ['alice', 'bob']],
      ['(&(givenName=*)(!(uid=user*)))', ['alice', 'bob', 'carol', 'maria', 'mark', 'victim']],
      ['(&(objectClass=inetOrgPerson)(!(givenName=*)))', ['zed']],
      ['(cn~=marktwain)', ['mark']],
      ['(cn:caseIgnoreMatch:=ALICE LIDDELL)', ['alice']],
      ['(cn:2.5.13.2:=bob marley)', ['bob']],
      ['(cn:caseExactMatch:=Bob Marley)', ['bob']],
      ['(cn:caseExactMatch:=bob marley)', []],
      ['(:caseIgnoreMatch:=zed)', ['zed']],
      ['(|(uid=alice)(uid=bob)(uid=nobody))', ['alice', 'bob']],
      ['(&(uid=alice)(mail=alice@example.test))', ['alice']],
      ['(&(uid=alice)(mail=bob@example.test))', []],
      ['(memberOf=cn=staff,ou=groups,dc=example,dc=test)', ['alice', 'bob']],
      ['(member=uid=alice,ou=people,dc=example,dc=test)', ['staff']],
      ['(objectClass=groupOfNames)', ['all-staff', 'staff']],
      ['(objectClass=device)', ['projector', 'room1']],
      [
        '(&(objectClass=inetOrgPerson)(uid=user1*))',
        [
          'user10',
          'user11',
          'user12',
          'user13',
          'user14',
          'user15',
          'user16',
          'user17',
          'user18',
          'user19',
        ],
      ],
      ['(unknownAttribute=x)', []],
      ['(!(unknownAttribute=x))', []],
    ];
    for (const [filter, expected] of filterCases) {
      it(`filter ${filter}`, async () => {
        const c = await alice();
        const { searchEntries } = await c.search('', {
          scope: 'sub',
          filter,
          attributes: ['uid', 'cn'],
        });
        const names = searchEntries.map((e) => e.dn.split(',')[0]?.split('=')[1] ?? '').sort();
        assert.deepEqual(names, [...expected].sort());
      });
    }

    it('absolute true (&) and false (|) (RFC 4526)', async () => {
      const r = await raw();
      r.send(1, simpleBind(ALICE_DN, PASSWORDS.alice ?? ''));
      await r.next();
      r.send(2, search('(&)', { baseObject: PEOPLE, scope: 'singleLevel' }));
      assert.equal((await r.collect('searchResDone')).length, 26);
      r.send(3, search('(|)', { baseObject: PEOPLE, scope: 'singleLevel' }));
      assert.equal((await r.collect('searchResDone')).length, 1);
    });

    it('selects attributes: names, aliases, *, +, 1.1 and typesOnly', async () => {
      const c = await alice();
      const get = async (attributes: string[], returnAttributeValues = true): Promise<Entry> => {
        const { searchEntries } = await c.search(ALICE_DN, {
          scope: 'base',
          attributes,
          returnAttributeValues,
        });
        assert.ok(searchEntries[0]);
        return searchEntries[0];
      };
      const keys = (e: Entry): string[] =>
        Object.keys(e)
          .filter((k) => k !== 'dn')
          .sort();
      assert.deepEqual(keys(await get(['uid'])), ['uid']);
      const aliased = await get(['commonName', 'SURNAME']);
      assert.equal(aliased.cn, 'Alice Liddell');
      assert.equal(aliased.sn, 'Liddell');
      assert.equal(aliased.mail, undefined);
      const star = await get(['*']);
      assert.ok('mail' in star && 'objectClass' in star);
      assert.ok(!('entryUUID' in star) && !('memberOf' in star));
      const plus = await get(['+']);
      assert.ok('entryUUID' in plus && 'createTimestamp' in plus && 'memberOf' in plus);
      assert.ok(!('mail' in plus));
      assert.match(
        String(plus.entryUUID),
        /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
      );
      assert.match(String(plus.createTimestamp), /^\d{14}Z$/);
      assert.equal(plus.entryDN, ALICE_DN);
      assert.equal(plus.hasSubordinates, 'FALSE');
      assert.deepEqual(keys(await get(['1.1'])), ['1.1']);
      const typesOnly = await get(['uid', 'mail'], false);
      assert.deepEqual(typesOnly.uid, []);
      assert.deepEqual(typesOnly.mail, []);
    });

    it('answers 1.1 with no attributes at all, on the wire', async () => {
      const r = await raw();
      r.send(1, simpleBind(ALICE_DN, PASSWORDS.alice ?? ''));
      await r.next();
      r.send(2, search('(uid=alice)'));
      const [entry, done] = await r.collect('searchResDone');
      assert.equal(entry?.protocolOp.type, 'searchResEntry');
      assert.deepEqual((entry?.protocolOp as { attributes: readonly unknown[] }).attributes, []);
      assert.equal((done?.protocolOp as { resultCode: number }).resultCode, ResultCode.success);
    });

    it('stops at sizeLimit with sizeLimitExceeded after the entries so far', async () => {
      const c = await alice();
      const limited = await c.search(PEOPLE, { scope: 'one', sizeLimit: 5, attributes: ['1.1'] });
      assert.equal(limited.searchEntries.length, 5);
      const r = await raw();
      r.send(1, simpleBind(ALICE_DN, PASSWORDS.alice ?? ''));
      await r.next();
      r.send(2, search('(objectClass=inetOrgPerson)', { sizeLimit: 3 }));
      const replies = await r.collect('searchResDone');
      assert.equal(replies.length, 4);
      assert.equal(
        (replies[3]?.protocolOp as { resultCode: number }).resultCode,
        ResultCode.sizeLimitExceeded,
      );
      // exactly at the limit is not exceeded
      r.send(3, search('(|(uid=alice)(uid=bob))', { sizeLimit: 2 }));
      const exact = await r.collect('searchResDone');
      assert.equal((exact[2]?.protocolOp as { resultCode: number }).resultCode, ResultCode.success);
    });

    it('applies the server size limit to unpaged searches', async () => {
      const small = await startLdap({ server: { sizeLimit: 4 } });
      try {
        const c = new Client({ url: small.url });
        await c.bind(ALICE_DN, PASSWORDS.alice ?? '');
        await rejectsWithCode(
          c.search(BASE, { attributes: ['1.1'] }),
          ResultCode.sizeLimitExceeded,
        );
        const paged = await c.search(BASE, { attributes: ['1.1'], paged: { pageSize: 3 } });
        assert.ok(paged.searchEntries.length > 4, 'paged searches are not cut');
        await c.unbind();
      } finally {
        await small.stop();
      }
    });

    it('pages 25 people by 10 (RFC 2696)', async () => {
      const c = await alice();
      const pages: number[] = [];
      const seen = new Set<string>();
      for await (const page of c.searchPaginated(PEOPLE, {
        scope: 'one',
        filter: '(objectClass=inetOrgPerson)',
        attributes: ['uid'],
        paged: { pageSize: 10 },
      })) {
        pages.push(page.searchEntries.length);
        for (const e of page.searchEntries) seen.add(e.dn);
      }
      assert.deepEqual(pages, [10, 10, 5]);
      assert.equal(seen.size, 25);
    });

    it('pages on the wire: cookies, size estimate, abandoning, bad cookies', async () => {
      const r = await raw();
      r.send(1, simpleBind(ALICE_DN, PASSWORDS.alice ?? ''));
      await r.next();
      const req = search('(objectClass=inetOrgPerson)', {
        baseObject: PEOPLE,
        scope: 'singleLevel',
      });
      r.send(2, req, [encodePagedResults({ size: 10, cookie: new Uint8Array(0) })]);
      const first = await r.collect('searchResDone');
      assert.equal(first.length, 11);
      const control = first[10]?.controls.find((x) => x.type === ControlOid.pagedResults);
      assert.ok(control);
      const paged = decodePagedResults(control);
      assert.equal(paged.size, 25);
      assert.ok(paged.cookie.length > 0);
      // size 0 with the cookie drops the rest
      r.send(3, req, [encodePagedResults({ size: 0, cookie: paged.cookie })]);
      const dropped = await r.collect('searchResDone');
      assert.equal(dropped.length, 1);
      // the cookie is gone now
      r.send(4, req, [encodePagedResults({ size: 10, cookie: paged.cookie })]);
      const stale = await r.collect('searchResDone');
      assert.equal(
        (stale[0]?.protocolOp as { resultCode: number }).resultCode,
        ResultCode.unwillingToPerform,
      );
      // a new bind drops the paged searches of the previous identity
      r.send(6, req, [encodePagedResults({ size: 10, cookie: new Uint8Array(0) })]);
      const again = await r.collect('searchResDone');
      const cookie = decodePagedResults(
        again[10]?.controls.find((x) => x.type === ControlOid.pagedResults) ?? {
          type: '',
          criticality: false,
        },
      ).cookie;
      r.send(7, simpleBind('', ''));
      await r.next();
      r.send(8, req, [encodePagedResults({ size: 10, cookie })]);
      const afterBind = await r.collect('searchResDone');
      assert.equal(
        (afterBind[0]?.protocolOp as { resultCode: number }).resultCode,
        ResultCode.unwillingToPerform,
      );
      // a malformed control value is a protocolError for that search only
      r.send(5, req, [
        { type: ControlOid.pagedResults, criticality: true, value: Uint8Array.of(1, 2, 3) },
      ]);
      const bad = await r.collect('searchResDone');
      assert.equal(
        (bad[0]?.protocolOp as { resultCode: number }).resultCode,
        ResultCode.protocolError,
      );
    });

    it('sorts server-side (RFC 2891), forward and reverse, with the sort response', async () => {
      const c = await alice();
      const filter = '(|(uid=alice)(uid=bob)(uid=mark)(uid=maria)(uid=zed))';
      const forward = await c.search(
        BASE,
        {
          filter,
          attributes: ['sn'],
        },
        new ServerSideSortingRequestControl({
          value: { attributeType: 'sn', orderingRule: '', reverseOrder: false },
        }),
      );
      assert.deepEqual(
        forward.searchEntries.map((e) => e.sn),
        ['Callas', 'Liddell', 'Marley', 'Twain', 'Zed'],
      );
      const reverse = await c.search(
        BASE,
        { filter, attributes: ['sn'] },
        new ServerSideSortingRequestControl({
          value: { attributeType: 'surname', orderingRule: '', reverseOrder: true },
        }),
      );
      assert.deepEqual(
        reverse.searchEntries.map((e) => e.sn),
        ['Zed', 'Twain', 'Marley', 'Liddell', 'Callas'],
      );

      const r = await raw();
      r.send(1, simpleBind(ALICE_DN, PASSWORDS.alice ?? ''));
      await r.next();
      const sortControl = (attributeType: string, critical: boolean) => {
        const w = new BerWriter();
        w.sequence(0x30, () => w.sequence(0x30, () => w.writeOctetString(attributeType)));
        return { type: ControlOid.sortRequest, criticality: critical, value: w.toBytes() };
      };
      r.send(2, search(filter, { attributes: ['sn'] }), [sortControl('givenName', true)]);
      const sorted = await r.collect('searchResDone');
      // entries without the attribute (zed) come last
      assert.equal(
        (sorted[4]?.protocolOp as { objectName: string }).objectName,
        `uid=zed,${PEOPLE}`,
      );
      const response = sorted[5]?.controls.find((x) => x.type === ControlOid.sortResponse);
      assert.ok(response);
      assert.equal(decodeSortResponse(response).sortResult, 0);
      r.send(3, search(filter), [sortControl('noSuchAttr', true)]);
      const critical = await r.collect('searchResDone');
      assert.equal(
        (critical[0]?.protocolOp as { resultCode: number }).resultCode,
        ResultCode.unavailableCriticalExtension,
      );
      r.send(4, search(filter), [sortControl('noSuchAttr', false)]);
      const lenient = await r.collect('searchResDone');
      assert.equal(lenient.length, 6);
      const code = lenient[5]?.controls.find((x) => x.type === ControlOid.sortResponse);
      assert.ok(code);
      assert.equal(decodeSortResponse(code).sortResult, 16);
    });

    it('refuses unknown critical controls and ignores unknown non-critical ones', async () => {
      const r = await raw();
      r.send(1, simpleBind(ALICE_DN, PASSWORDS.alice ?? ''));
      await r.next();
      r.send(2, search('(uid=alice)'), [{ type: '1.2.3.4.5', criticality: true }]);
      const refused = await r.collect('searchResDone');
      assert.equal(
        (refused[0]?.protocolOp as { resultCode: number }).resultCode,
        ResultCode.unavailableCriticalExtension,
      );
      r.send(3, search('(uid=alice)'), [{ type: '1.2.3.4.5', criticality: false }]);
      assert.equal((await r.collect('searchResDone')).length, 2);
    });

    it('refuses a filter nested too deeply, and the connection goes on', async () => {
      const c = await alice();
      let deep = '(uid=alice)';
      for (let i = 0; i < 40; i++) deep = `(!${deep})`;
      await rejectsWithCode(c.search(BASE, { filter: deep }), ResultCode.adminLimitExceeded);
      const after = await c.search(BASE, { filter: '(uid=alice)' });
      assert.equal(after.searchEntries.length, 1);
    });
  });

  describe('compare', () => {
    it('answers compareTrue, compareFalse, noSuchAttribute, undefinedAttributeType', async () => {
      const c = await alice();
      assert.equal(await c.compare(`uid=mark,${PEOPLE}`, 'sn', 'twain'), true);
      assert.equal(await c.compare(`uid=mark,${PEOPLE}`, 'surname', 'Smith'), false);
      assert.equal(await c.compare(ALICE_DN, 'mail', 'A.Liddell@Example.Test'), true);
      assert.equal(
        await c.compare(ALICE_DN, 'memberOf', 'CN=Staff,OU=Groups,DC=Example,DC=Test'),
        true,
      );
      await rejectsWithCode(
        c.compare(`uid=zed,${PEOPLE}`, 'givenName', 'Zed'),
        ResultCode.noSuchAttribute,
      );
      await rejectsWithCode(
        c.compare(ALICE_DN, 'favouriteColour', 'blue'),
        ResultCode.undefinedAttributeType,
      );
      await rejectsWithCode(
        c.compare(`uid=nobody,${PEOPLE}`, 'uid', 'nobody'),
        ResultCode.noSuchObject,
      );
    });
  });

  describe('extended operations', () => {
    it('WhoAmI (RFC 4532) for bound and anonymous sessions', async () => {
      const c = await alice();
      assert.deepEqual(await c.exop(ExtendedOid.whoAmI), {
        oid: undefined,
        value: `dn:${ALICE_DN}`,
      });
      const anonymous = client();
      assert.deepEqual(await anonymous.exop(ExtendedOid.whoAmI), {
        oid: undefined,
        value: '',
      });
    });

    it('answers unknown extended operations with protocolError', async () => {
      await rejectsWithCode(client().exop(ExtendedOid.passwordModify), ResultCode.protocolError);
    });

    it('StartTLS upgrades the connection; a second StartTLS is refused', async () => {
      const c = client();
      await c.startTLS({ ca: [fx.cert], servername: 'localhost' });
      await c.bind(ALICE_DN, PASSWORDS.alice ?? '');
      const { searchEntries } = await c.search(BASE, { filter: '(uid=bob)' });
      assert.equal(searchEntries.length, 1);
      await rejectsWithCode(c.exop(ExtendedOid.startTls), ResultCode.operationsError);
    });

    it('StartTLS discards plaintext sent after the request', async () => {
      const r = await raw();
      r.send(1, { type: 'extendedReq', requestName: ExtendedOid.startTls });
      // pipelined plaintext (a bind) that must never be executed
      r.send(2, simpleBind(ALICE_DN, PASSWORDS.alice ?? ''));
      const res = await r.next();
      assert.equal((res.protocolOp as { resultCode: number }).resultCode, ResultCode.success);
      assert.equal(
        (res.protocolOp as { responseName?: string }).responseName,
        ExtendedOid.startTls,
      );
      // nothing else comes in plaintext
      await assert.rejects(r.next(300), /timed out/);
    });

    it('serves LDAPS (implicit TLS)', async () => {
      const c = client(fx.ldapsUrl, { ca: fx.cert });
      await c.bind('alice', PASSWORDS.alice ?? '');
      assert.equal((await c.exop(ExtendedOid.whoAmI)).value, `dn:${ALICE_DN}`);
      await rejectsWithCode(c.exop(ExtendedOid.startTls), ResultCode.operationsError);
    });
  });

  describe('sessions', () => {
    it('malformed BER closes only that connection, with a Notice of Disconnection', async () => {
      const good = await alice();
      const bad = await raw();
      bad.write(Uint8Array.of(0x30, 0x05, 0x02, 0x01, 0x01, 0xff, 0x00));
      const notice = await bad.next();
      assert.equal(notice.messageId, 0);
      assert.equal(notice.protocolOp.type, 'extendedResp');
      assert.equal(
        (notice.protocolOp as { resultCode: number }).resultCode,
        ResultCode.protocolError,
      );
      assert.equal(
        (notice.protocolOp as { responseName?: string }).responseName,
        ExtendedOid.noticeOfDisconnection,
      );
      await bad.waitClosed();
      const { searchEntries } = await good.search(BASE, { filter: '(uid=bob)' });
      assert.equal(searchEntries.length, 1);
    });

    it('a framing error (not a SEQUENCE, indefinite length, oversized) ends the session', async () => {
      for (const bytes of [
        Uint8Array.of(0x04, 0x00),
        Uint8Array.of(0x30, 0x80, 0x00, 0x00),
        Uint8Array.of(0x30, 0x84, 0x7f, 0xff, 0xff, 0xff),
      ]) {
        const r = await raw();
        r.write(bytes);
        const notice = await r.next();
        assert.equal(
          (notice.protocolOp as { resultCode: number }).resultCode,
          ResultCode.protocolError,
        );
        await r.waitClosed();
      }
    });

    it('messageID 0 and a messageID in use are protocol errors', async () => {
      const r = await raw();
      r.send(0, simpleBind('', ''));
      const notice = await r.next();
      assert.equal(notice.messageId, 0);
      assert.equal(
        (notice.protocolOp as { resultCode: number }).resultCode,
        ResultCode.protocolError,
      );
      await r.waitClosed();
    });

    it('limits concurrent operations per connection with busy', async () => {
      const limited = await startLdap({ server: { maxOperations: 2 } });
      try {
        const r = await RawClient.connect(limited.ldapPort);
        raws.push(r);
        // five searches in one write: the first two run, the others are refused
        const bytes: Uint8Array[] = [];
        for (let id = 1; id <= 5; id++)
          bytes.push(
            encodeMessage({
              messageId: id,
              protocolOp: search('(objectClass=*)', { baseObject: '', scope: 'baseObject' }),
            }),
          );
        r.write(Buffer.concat(bytes));
        const codes = new Map<number, number>();
        while (codes.size < 5) {
          const m = await r.next();
          if (m.protocolOp.type === 'searchResDone')
            codes.set(m.messageId, m.protocolOp.resultCode);
        }
        assert.deepEqual(
          [...codes.entries()].sort((a, b) => a[0] - b[0]),
          [
            [1, ResultCode.success],
            [2, ResultCode.success],
            [3, ResultCode.busy],
            [4, ResultCode.busy],
            [5, ResultCode.busy],
          ],
        );
      } finally {
        await limited.stop();
      }
    });

    it('abandon stops a search without a response; the session goes on', async () => {
      const r = await raw();
      r.send(1, simpleBind(ALICE_DN, PASSWORDS.alice ?? ''));
      await r.next();
      r.write(
        Buffer.concat([
          encodeMessage({
            messageId: 2,
            protocolOp: search('(objectClass=*)', { attributes: ['*'] }),
          }),
          encodeMessage({ messageId: 3, protocolOp: { type: 'abandonRequest', idToAbandon: 2 } }),
          encodeMessage({
            messageId: 4,
            protocolOp: { type: 'extendedReq', requestName: ExtendedOid.whoAmI },
          }),
        ]),
      );
      const seen: string[] = [];
      for (;;) {
        const m = await r.next();
        seen.push(`${m.messageId}:${m.protocolOp.type}`);
        if (m.messageId === 4) break;
      }
      // Abandon is best effort (RFC 4511 §4.11): an entry already on its way may still arrive,
      // but the search stops there and never sends its Done.
      for (;;) {
        const late = await r.next(300).catch(() => undefined);
        if (late === undefined) break;
        seen.push(`${late.messageId}:${late.protocolOp.type}`);
      }
      assert.ok(!seen.includes('2:searchResDone'), seen.join(' '));
      assert.ok(seen.filter((s) => s === '2:searchResEntry').length <= 1, seen.join(' '));
    });

    it('unbind ends the session', async () => {
      const r = await raw();
      r.send(1, { type: 'unbindRequest' });
      await r.waitClosed();
    });
  });

  it('says goodbye with a Notice of Disconnection when stopping', async () => {
    const own = await startLdap();
    let stopped = false;
    try {
      const r = await RawClient.connect(own.ldapPort);
      raws.push(r);
      r.send(1, simpleBind('', ''));
      await r.next();
      const stopping = own.stop();
      const notice = await r.next();
      assert.equal(notice.messageId, 0);
      assert.equal(
        (notice.protocolOp as { resultCode: number }).resultCode,
        ResultCode.unavailable,
      );
      await r.waitClosed();
      await stopping;
      stopped = true;
    } finally {
      if (!stopped) await own.stop();
    }
  });
});
