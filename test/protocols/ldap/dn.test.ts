import assert from 'node:assert/strict';
import { CommuneError } from '../../../src/core/errors.ts';
import {
  childDn,
  dnEquals,
  escapeDnValue,
  formatDn,
  isDescendant,
  normalizeDn,
  parentDn,
  parseDn,
} from '../../../src/protocols/ldap/dn.ts';

describe('DN (RFC 4514)', () => {
  it('parses simple and multi-valued RDNs', () => {
    assert.deepEqual(parseDn('uid=alice,ou=people,dc=example,dc=test'), [
      [{ type: 'uid', value: 'alice' }],
      [{ type: 'ou', value: 'people' }],
      [{ type: 'dc', value: 'example' }],
      [{ type: 'dc', value: 'test' }],
    ]);
    assert.deepEqual(parseDn('OU=Sales+CN=J.  Smith,DC=example,DC=net')[0], [
      { type: 'OU', value: 'Sales' },
      { type: 'CN', value: 'J.  Smith' },
    ]);
    assert.deepEqual(parseDn(''), []);
    assert.deepEqual(parseDn('   '), []);
  });

  it('handles the RFC 4514 §4 escaping examples', () => {
    assert.equal(
      parseDn('CN=James \\"Jim\\" Smith\\, III,DC=example,DC=net')[0]?.[0]?.value,
      'James "Jim" Smith, III',
    );
    assert.equal(parseDn('CN=Before\\0dAfter,DC=example,DC=net')[0]?.[0]?.value, 'Before\rAfter');
    assert.equal(parseDn('1.3.6.1.4.1.1466.0=#04024869')[0]?.[0]?.value, 'Hi');
    assert.deepEqual(parseDn('1.3.6.1.4.1.1466.0=#04024869')[0]?.[0]?.type, '1.3.6.1.4.1.1466.0');
    assert.equal(parseDn('CN=Lu\\C4\\8Di\\C4\\87')[0]?.[0]?.value, 'Lučić');
    assert.equal(parseDn('cn=\\ lead and trail\\ ')[0]?.[0]?.value, ' lead and trail ');
    assert.equal(parseDn('cn=\\#hash')[0]?.[0]?.value, '#hash');
    assert.equal(parseDn('cn=a\\+b\\;c\\<d\\>e\\=f\\\\g')[0]?.[0]?.value, 'a+b;c<d>e=f\\g');
  });

  it('is forgiving with spaces, ; separators and the OID. prefix', () => {
    assert.deepEqual(parseDn(' uid = alice , ou=people ; dc=test '), [
      [{ type: 'uid', value: 'alice' }],
      [{ type: 'ou', value: 'people' }],
      [{ type: 'dc', value: 'test' }],
    ]);
    assert.deepEqual(parseDn('OID.2.5.4.3=x'), [[{ type: '2.5.4.3', value: 'x' }]]);
    assert.deepEqual(parseDn('cn='), [[{ type: 'cn', value: '' }]]);
  });

  it('rejects malformed DNs', () => {
    const bad = [
      'uid',
      'uid=alice,',
      ',dc=test',
      '=x',
      'cn=a"b',
      'cn=\\zz',
      'cn=\\c3\\28',
      '1.=x',
      'c n=x',
      'cn=#zz',
      'cn=#0203010203',
      'cn=a=b,=c',
    ];
    for (const dn of bad) assert.throws(() => parseDn(dn), CommuneError, dn);
  });

  it('is bounded', () => {
    assert.throws(() => parseDn(`cn=${'x'.repeat(9000)}`), /longer than/);
    assert.throws(
      () => parseDn(Array.from({ length: 70 }, (_, i) => `dc=d${i}`).join(',')),
      /RDNs/,
    );
    assert.throws(
      () => parseDn(Array.from({ length: 20 }, (_, i) => `cn=c${i}`).join('+')),
      /values in one RDN/,
    );
    assert.equal(parseDn(Array.from({ length: 64 }, (_, i) => `dc=d${i}`).join(',')).length, 64);
  });

  it('formats with escaping and round-trips', () => {
    const dn = parseDn('CN=James \\"Jim\\" Smith\\, III,DC=example,DC=net');
    assert.equal(formatDn(dn), 'CN=James \\"Jim\\" Smith\\, III,DC=example,DC=net');
    assert.equal(escapeDnValue(' #a+b,c;d<e>f\\g\0 '), '\\ #a\\+b\\,c\\;d\\<e\\>f\\\\g\\00\\ ');
    assert.equal(escapeDnValue('a#b'), 'a#b');
    for (const text of [
      'uid=alice,ou=people,dc=example,dc=test',
      'cn=a\\,b+sn=c,o=x',
      'cn=\\ x\\ ',
      'cn=\\#1',
      'cn=Lučić',
    ]) {
      assert.equal(formatDn(parseDn(text)), text);
      assert.deepEqual(parseDn(formatDn(parseDn(text))), parseDn(text));
    }
  });

  it('normalises types, values and multi-valued RDN order', () => {
    assert.equal(
      normalizeDn('UID=Alice, OU=People, DC=Example, DC=Test'),
      'uid=alice,ou=people,dc=example,dc=test',
    );
    assert.equal(
      normalizeDn('commonName=A  B+surname=X,2.5.4.10=Org'),
      normalizeDn('sn=x+cn=a b,o=org'),
    );
    assert.equal(normalizeDn('0.9.2342.19200300.100.1.25=test'), 'dc=test');
    assert.equal(normalizeDn(''), '');
  });

  it('compares, finds ancestors and parents', () => {
    const alice = 'uid=alice,ou=people,dc=example,dc=test';
    assert.ok(dnEquals(alice, 'UID=ALICE,OU=People,DC=example,DC=test'));
    assert.ok(!dnEquals(alice, 'uid=alice,ou=people,dc=example'));
    assert.ok(isDescendant(alice, 'dc=example,dc=test'));
    assert.ok(isDescendant(alice, 'DC=Test'));
    assert.ok(isDescendant(alice, ''));
    assert.ok(!isDescendant(alice, alice));
    assert.ok(isDescendant(alice, alice, true));
    assert.ok(!isDescendant('dc=test', alice));
    assert.ok(!isDescendant(alice, 'dc=other,dc=test'));
    assert.ok(!isDescendant('uid=alice,ou=people,dc=example,dc=test2', 'dc=test'));
    assert.equal(formatDn(parentDn(alice) ?? []), 'ou=people,dc=example,dc=test');
    assert.equal(parentDn(''), undefined);
    assert.deepEqual(parentDn('dc=test'), []);
    assert.equal(
      formatDn(childDn([{ type: 'uid', value: 'bob' }], 'ou=people,dc=test')),
      'uid=bob,ou=people,dc=test',
    );
    assert.throws(() => childDn([], 'dc=test'), CommuneError);
  });
});
