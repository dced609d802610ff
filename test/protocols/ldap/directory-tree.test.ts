import assert from 'node:assert/strict';
import { silentLogger } from '../../../src/core/log.ts';
import {
  DirectoryTree,
  generalizedTime,
  LdapSchema,
  splitPersonName,
  stableUuid,
} from '../../../src/protocols/ldap/directory-tree.ts';
import type { LdapEntry, TreeSnapshot } from '../../../src/protocols/ldap/directory-tree.ts';
import { makeDirectory } from '../../storage/directory/directory-fixture.ts';
import type { Fixture } from '../../storage/directory/directory-fixture.ts';

const FEATURES = { saslMechanisms: ['PLAIN'], extensions: ['1.2.3'], controls: ['4.5.6'] };

function treeOf(fx: Fixture, options: { recheckMs?: number; maxIncremental?: number } = {}) {
  return new DirectoryTree({
    directory: fx.directory,
    storage: fx.storage,
    log: silentLogger(),
    features: FEATURES,
    ...options,
  });
}

const values = (entry: LdapEntry | undefined, name: string): readonly string[] | undefined =>
  entry?.attributes.get(name.toLowerCase())?.values;

const dns = (snapshot: TreeSnapshot, base: LdapEntry, scope: 'singleLevel' | 'wholeSubtree') =>
  [...snapshot.inScope(base, scope)].map((e) => e.dn);

describe('directory tree', () => {
  it('derives sn and givenName from the display name', () => {
    assert.deepEqual(splitPersonName('Alice Liddell', 'x'), { sn: 'Liddell', givenName: 'Alice' });
    assert.deepEqual(splitPersonName(' Jean  Paul Sartre ', 'x'), {
      sn: 'Sartre',
      givenName: 'Jean Paul',
    });
    assert.deepEqual(splitPersonName('Zed', 'x'), { sn: 'Zed', givenName: undefined });
    assert.deepEqual(splitPersonName('  ', 'local'), { sn: 'local', givenName: undefined });
  });

  it('formats GeneralizedTime and stable UUIDs', () => {
    assert.equal(generalizedTime('2026-01-02T03:04:05.678Z'), '20260102030405Z');
    assert.equal(stableUuid('a'), stableUuid('a'));
    assert.notEqual(stableUuid('a'), stableUuid('b'));
    assert.match(
      stableUuid('a'),
      /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });

  it('resolves attribute names, aliases and OIDs in its schema', () => {
    const schema = new LdapSchema();
    assert.equal(schema.attribute('commonName')?.key, 'cn');
    assert.equal(schema.attribute('2.5.4.3')?.name, 'cn');
    assert.equal(schema.attribute('RFC822MAILBOX')?.name, 'mail');
    assert.equal(schema.attribute('gn')?.rule, 'caseIgnore');
    assert.equal(schema.attribute('member')?.rule, 'distinguishedName');
    assert.equal(schema.attribute('supportedLDAPVersion')?.operational, true);
    assert.equal(schema.attribute('entryUUID')?.operational, true);
    assert.equal(schema.attribute('mail')?.operational, false);
    assert.equal(schema.attribute('userPassword'), undefined);
    assert.deepEqual(schema.filter.attribute('surname'), { name: 'sn', equality: 'caseIgnore' });
    const sub = schema.subschemaValues();
    assert.ok(sub.attributeTypes.includes("( 2.5.4.4 NAME ( 'sn' 'surname' ) SUP name )"));
  });

  it('builds naming contexts, containers and entries; subdomains nest under their parent', async () => {
    const fx = makeDirectory();
    await fx.directory.addDomain('example.test');
    await fx.directory.addDomain('sub.example.test');
    await fx.directory.createPrincipal({ address: 'a@example.test', displayName: 'Ann Smith' });
    await fx.directory.createPrincipal({ address: 'b@sub.example.test' });
    const snapshot = await treeOf(fx).snapshot();
    assert.deepEqual(values(snapshot.rootDse, 'namingContexts'), [
      'dc=example,dc=test',
      'dc=sub,dc=example,dc=test',
    ]);
    assert.deepEqual(values(snapshot.rootDse, 'supportedExtension'), ['1.2.3']);
    assert.deepEqual(values(snapshot.rootDse, 'supportedControl'), ['4.5.6']);
    const top = dns(snapshot, snapshot.rootDse, 'singleLevel');
    assert.deepEqual(top, ['dc=example,dc=test']);
    const base = snapshot.get('dc=example,dc=test');
    assert.ok(base);
    assert.deepEqual(dns(snapshot, base, 'singleLevel'), [
      'dc=sub,dc=example,dc=test',
      'ou=groups,dc=example,dc=test',
      'ou=people,dc=example,dc=test',
      'ou=resources,dc=example,dc=test',
    ]);
    assert.ok(
      dns(snapshot, base, 'wholeSubtree').includes('uid=b,ou=people,dc=sub,dc=example,dc=test'),
    );
    const a = snapshot.get('uid=a,ou=people,dc=example,dc=test');
    assert.deepEqual(values(a, 'sn'), ['Smith']);
    assert.equal(a?.parent, 'ou=people,dc=example,dc=test');
    assert.deepEqual(values(base, 'hasSubordinates'), ['TRUE']);
    assert.deepEqual(values(snapshot.get('ou=groups,dc=example,dc=test'), 'hasSubordinates'), [
      'FALSE',
    ]);
    assert.deepEqual(
      snapshot.lookup('mail', 'A@EXAMPLE.TEST')?.map((e) => e.dn),
      ['uid=a,ou=people,dc=example,dc=test'],
    );
    assert.equal(snapshot.lookup('description', 'x'), undefined);
  });

  it('follows the change log: renames, memberships, aliases, removals', async () => {
    const fx = makeDirectory();
    await fx.directory.addDomain('example.test');
    const a = await fx.directory.createPrincipal({ address: 'a@example.test' });
    const g = await fx.directory.createPrincipal({ address: 'g@example.test', kind: 'group' });
    const tree = treeOf(fx);
    tree.start();
    const first = await tree.snapshot();
    assert.deepEqual(values(first.get('cn=g,ou=groups,dc=example,dc=test'), 'member'), undefined);

    await fx.directory.addMember(g.id, a.id);
    await fx.directory.setDisplayName(a.id, 'Ann Other');
    await fx.directory.addAlias(a.id, 'ann@example.test');
    const second = await tree.snapshot();
    assert.notEqual(second, first);
    const entry = second.get('uid=a,ou=people,dc=example,dc=test');
    assert.deepEqual(values(entry, 'cn'), ['Ann Other']);
    assert.deepEqual(values(entry, 'mail'), ['a@example.test', 'ann@example.test']);
    assert.deepEqual(values(entry, 'memberOf'), ['cn=g,ou=groups,dc=example,dc=test']);
    assert.deepEqual(values(second.get('cn=g,ou=groups,dc=example,dc=test'), 'member'), [
      'uid=a,ou=people,dc=example,dc=test',
    ]);
    // unchanged directory: the same snapshot
    assert.equal(await tree.snapshot(), second);

    await fx.directory.removePrincipal(a.id);
    const third = await tree.snapshot();
    assert.equal(third.get('uid=a,ou=people,dc=example,dc=test'), undefined);
    assert.equal(values(third.get('cn=g,ou=groups,dc=example,dc=test'), 'member'), undefined);
    tree.close();
  });

  it('sees changes without a nudge by re-checking the change counter', async () => {
    const fx = makeDirectory();
    await fx.directory.addDomain('example.test');
    const tree = treeOf(fx, { recheckMs: 0 }); // not started: no bus subscription
    assert.equal((await tree.snapshot()).size, 4);
    await fx.directory.createPrincipal({ address: 'late@example.test' });
    assert.ok((await tree.snapshot()).get('uid=late,ou=people,dc=example,dc=test'));
  });

  it('reloads everything when many changes are pending', async () => {
    const fx = makeDirectory();
    await fx.directory.addDomain('example.test');
    const tree = treeOf(fx, { recheckMs: 0, maxIncremental: 2 });
    await tree.snapshot();
    for (const n of [1, 2, 3, 4]) {
      await fx.directory.createPrincipal({ address: `u${n}@example.test` });
    }
    const snapshot = await tree.snapshot();
    for (const n of [1, 2, 3, 4]) {
      assert.ok(snapshot.get(`uid=u${n},ou=people,dc=example,dc=test`), `u${n}`);
    }
  });

  it('serves concurrent callers from one refresh', async () => {
    const fx = makeDirectory();
    await fx.directory.addDomain('example.test');
    const tree = treeOf(fx);
    const [x, y] = await Promise.all([tree.snapshot(), tree.snapshot()]);
    assert.equal(x, y);
  });
});
