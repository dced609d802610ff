import assert from 'node:assert/strict';
import type { PrincipalKind } from '../../src/core/principal.ts';
import {
  activityPubActor,
  davPrincipalPath,
  ldapBaseDn,
  ldapContainerDn,
  ldapDn,
  principalAddressFromDn,
  sipUri,
} from '../../src/core/principal-names.ts';

const p = (address: string, kind: PrincipalKind = 'individual') => ({ address, kind });

describe('principal names', () => {
  it('maps a domain to its LDAP naming context (RFC 2247)', () => {
    assert.equal(ldapBaseDn('example.test'), 'dc=example,dc=test');
    assert.equal(ldapBaseDn('Mail.Example.Org'), 'dc=mail,dc=example,dc=org');
    assert.equal(ldapContainerDn('example.test', 'groups'), 'ou=groups,dc=example,dc=test');
  });

  it('names entries by kind: people by uid, groups and resources by cn', () => {
    assert.equal(ldapDn(p('alice@example.test')), 'uid=alice,ou=people,dc=example,dc=test');
    assert.equal(ldapDn(p('staff@example.test', 'group')), 'cn=staff,ou=groups,dc=example,dc=test');
    assert.equal(
      ldapDn(p('beamer@example.test', 'resource')),
      'cn=beamer,ou=resources,dc=example,dc=test',
    );
    assert.equal(ldapDn(p('room1@other.test', 'room')), 'cn=room1,ou=resources,dc=other,dc=test');
  });

  it('escapes RDN values that need it (RFC 4514 §2.4)', () => {
    assert.equal(ldapDn(p('#x=y@example.test')), 'uid=\\#x=y,ou=people,dc=example,dc=test');
  });

  it('maps DNs back to addresses, case-insensitively and with long names', () => {
    assert.deepEqual(principalAddressFromDn('uid=alice,ou=people,dc=example,dc=test'), {
      address: 'alice@example.test',
      kinds: ['individual'],
    });
    assert.deepEqual(principalAddressFromDn('UID=Alice, OU=People, DC=Example, DC=Test'), {
      address: 'alice@example.test',
      kinds: ['individual'],
    });
    assert.deepEqual(
      principalAddressFromDn('userid=bob,organizationalUnitName=people,domainComponent=test'),
      { address: 'bob@test', kinds: ['individual'] },
    );
    assert.deepEqual(principalAddressFromDn('cn=staff,ou=groups,dc=example,dc=test'), {
      address: 'staff@example.test',
      kinds: ['group'],
    });
    assert.deepEqual(principalAddressFromDn('cn=room1,ou=resources,dc=example,dc=test'), {
      address: 'room1@example.test',
      kinds: ['resource', 'room'],
    });
    assert.deepEqual(principalAddressFromDn('uid=\\#x=y,ou=people,dc=example,dc=test'), {
      address: '#x=y@example.test',
      kinds: ['individual'],
    });
  });

  it('round-trips every kind', () => {
    for (const kind of ['individual', 'group', 'resource', 'room'] as const) {
      const ref = principalAddressFromDn(ldapDn(p('x.y@a.b.example', kind)));
      assert.equal(ref?.address, 'x.y@a.b.example');
      assert.ok(ref.kinds.includes(kind));
    }
  });

  it('rejects DNs that do not name a principal', () => {
    for (const dn of [
      '',
      'alice',
      'alice@example.test',
      'dc=example,dc=test',
      'ou=people,dc=example,dc=test',
      'cn=alice,ou=people,dc=example,dc=test',
      'uid=staff,ou=groups,dc=example,dc=test',
      'uid=alice,ou=staff,dc=example,dc=test',
      'uid=alice,ou=people,o=example',
      'uid=alice+cn=x,ou=people,dc=example,dc=test',
      'uid=,ou=people,dc=example,dc=test',
      'uid=alice,ou=people',
      'not a dn at all',
    ]) {
      assert.equal(principalAddressFromDn(dn), undefined, dn);
    }
  });

  it('gives DAV principal paths, ActivityPub actors and SIP URIs', () => {
    const alice = p('alice@example.test');
    assert.equal(davPrincipalPath(alice), '/dav/principals/alice@example.test/');
    assert.equal(
      davPrincipalPath(p('a/b?c@example.test')),
      '/dav/principals/a%2Fb%3Fc@example.test/',
    );
    assert.equal(
      activityPubActor(alice, 'Mail.Example.Test'),
      'https://mail.example.test/social/actors/alice@example.test',
    );
    assert.equal(sipUri(alice), 'sip:alice@example.test');
    assert.equal(sipUri(p('a#b{c@example.test')), 'sip:a%23b%7Bc@example.test');
  });
});
