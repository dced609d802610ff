import assert from 'node:assert/strict';
import { CommuneError } from '../../../src/core/errors.ts';
import { BerReader } from '../../../src/protocols/ldap/ber/ber-reader.ts';
import { BerWriter } from '../../../src/protocols/ldap/ber/ber-writer.ts';
import {
  createFilterSchema,
  decodeFilter,
  encodeFilter,
  filterToString,
  matchFilter,
  parseFilterString,
} from '../../../src/protocols/ldap/filter.ts';
import type { Filter, FilterEntry, FilterResult } from '../../../src/protocols/ldap/filter.ts';

describe('filter string form (RFC 4515)', () => {
  it('parses every filter type', () => {
    const cases: readonly [string, Filter][] = [
      ['(cn=Babs Jensen)', { type: 'equalityMatch', attribute: 'cn', value: 'Babs Jensen' }],
      [
        '(!(cn=Tim Howes))',
        { type: 'not', filter: { type: 'equalityMatch', attribute: 'cn', value: 'Tim Howes' } },
      ],
      [
        '(&(objectClass=Person)(|(sn=Jensen)(cn=Babs J*)))',
        {
          type: 'and',
          filters: [
            { type: 'equalityMatch', attribute: 'objectClass', value: 'Person' },
            {
              type: 'or',
              filters: [
                { type: 'equalityMatch', attribute: 'sn', value: 'Jensen' },
                { type: 'substrings', attribute: 'cn', initial: 'Babs J', any: [] },
              ],
            },
          ],
        },
      ],
      [
        '(o=univ*of*mich*)',
        { type: 'substrings', attribute: 'o', initial: 'univ', any: ['of', 'mich'] },
      ],
      ['(seeAlso=)', { type: 'equalityMatch', attribute: 'seeAlso', value: '' }],
      ['(cn=*x*)', { type: 'substrings', attribute: 'cn', any: ['x'] }],
      ['(cn=*son)', { type: 'substrings', attribute: 'cn', any: [], final: 'son' }],
      ['(cn=a**b)', { type: 'substrings', attribute: 'cn', initial: 'a', any: [], final: 'b' }],
      ['(mail=*)', { type: 'present', attribute: 'mail' }],
      ['(sn>=m)', { type: 'greaterOrEqual', attribute: 'sn', value: 'm' }],
      ['(sn<=m)', { type: 'lessOrEqual', attribute: 'sn', value: 'm' }],
      ['(sn~=jensn)', { type: 'approxMatch', attribute: 'sn', value: 'jensn' }],
      ['(cn;lang-de=x)', { type: 'equalityMatch', attribute: 'cn;lang-de', value: 'x' }],
      ['(2.5.4.3=x)', { type: 'equalityMatch', attribute: '2.5.4.3', value: 'x' }],
      [
        '(cn:caseExactMatch:=Fred Flintstone)',
        {
          type: 'extensibleMatch',
          matchingRule: 'caseExactMatch',
          attribute: 'cn',
          value: 'Fred Flintstone',
          dnAttributes: false,
        },
      ],
      [
        '(cn:=Betty Rubble)',
        { type: 'extensibleMatch', attribute: 'cn', value: 'Betty Rubble', dnAttributes: false },
      ],
      [
        '(sn:dn:2.4.6.8.10:=Barney Rubble)',
        {
          type: 'extensibleMatch',
          matchingRule: '2.4.6.8.10',
          attribute: 'sn',
          value: 'Barney Rubble',
          dnAttributes: true,
        },
      ],
      [
        '(o:dn:=Ace Industry)',
        { type: 'extensibleMatch', attribute: 'o', value: 'Ace Industry', dnAttributes: true },
      ],
      [
        ':1.2.3:=Wilma Flintstone',
        {
          type: 'extensibleMatch',
          matchingRule: '1.2.3',
          value: 'Wilma Flintstone',
          dnAttributes: false,
        },
      ],
      [
        '(:DN:2.4.6.8.10:=Dino)',
        { type: 'extensibleMatch', matchingRule: '2.4.6.8.10', value: 'Dino', dnAttributes: true },
      ],
      [
        '(:dn:=x)',
        { type: 'extensibleMatch', matchingRule: 'dn', value: 'x', dnAttributes: false },
      ],
      ['(&)', { type: 'and', filters: [] }],
      ['(|)', { type: 'or', filters: [] }],
      ['cn=alice', { type: 'equalityMatch', attribute: 'cn', value: 'alice' }],
    ];
    for (const [text, expected] of cases) assert.deepEqual(parseFilterString(text), expected, text);
  });

  it('handles escapes in values (RFC 4515 §4 examples)', () => {
    assert.deepEqual(
      parseFilterString('(o=Parens R Us \\28for all your parenthetical needs\\29)'),
      {
        type: 'equalityMatch',
        attribute: 'o',
        value: 'Parens R Us (for all your parenthetical needs)',
      },
    );
    assert.deepEqual(parseFilterString('(cn=*\\2A*)'), {
      type: 'substrings',
      attribute: 'cn',
      any: ['*'],
    });
    assert.deepEqual(parseFilterString('(filename=C:\\5cMyFile)').type, 'equalityMatch');
    assert.equal(
      (parseFilterString('(filename=C:\\5cMyFile)') as { value: string }).value,
      'C:\\MyFile',
    );
    assert.equal(
      (parseFilterString('(sn=Lu\\c4\\8di\\c4\\87)') as { value: string }).value,
      'Lučić',
    );
    assert.equal((parseFilterString('(sn=Lučić)') as { value: string }).value, 'Lučić');
    assert.equal((parseFilterString('(cn=\\00)') as { value: string }).value, '\0');
  });

  it('formats filters back to the string form with escaping', () => {
    const canonical = [
      '(&(objectClass=Person)(|(sn=Jensen)(cn=Babs J*)))',
      '(|(cn=*x*)(mail=*x*)(sn=*x*)(givenName=*x*))',
      '(!(cn=a\\2ab))',
      '(o=Parens R Us \\28for all\\29 \\5c)',
      '(o=univ*of*mich*)',
      '(cn=*son)',
      '(mail=*)',
      '(sn>=m)',
      '(sn<=m)',
      '(sn~=x)',
      '(cn:caseExactMatch:=Fred)',
      '(sn:dn:2.4.6.8.10:=Barney Rubble)',
      '(:dn:2.4.6.8.10:=Dino)',
      '(:1.2.3:=Wilma)',
      '(cn:=x)',
      '(cn=\\00)',
      '(sn=Lučić)',
      '(&)',
      '(|)',
    ];
    for (const text of canonical) assert.equal(filterToString(parseFilterString(text)), text);
    assert.equal(
      filterToString({ type: 'equalityMatch', attribute: 'cn', value: 'a*(b)\\c' }),
      '(cn=a\\2a\\28b\\29\\5cc)',
    );
  });

  it('rejects malformed filters', () => {
    const bad = [
      '',
      '(cn=a',
      '(cn=a(b)',
      '(cn=a))',
      '((cn=a))',
      '(=a)',
      '(cn)',
      '(cn=\\zz)',
      '(cn=\\2)',
      '(c n=a)',
      '(:=x)',
      '(cn:dn:x:y:=z)',
      '(!(cn=a)(cn=b))',
      '(&(cn=a)x)',
      '(cn~=*)',
      '(cn>=a*)',
    ];
    for (const text of bad) assert.throws(() => parseFilterString(text), CommuneError, text);
  });

  it('is bounded in length and depth', () => {
    let deep = '(cn=x)';
    for (let i = 0; i < 30; i++) deep = `(!${deep})`;
    assert.throws(() => parseFilterString(deep), /deeper than 20/);
    assert.equal(parseFilterString(deep, { maxDepth: 31 }).type, 'not');
    assert.throws(() => parseFilterString(`(cn=${'x'.repeat(20000)})`), /longer than/);
    // a pathological string is rejected quickly rather than recursing without bound
    assert.throws(() => parseFilterString('('.repeat(15000)), CommuneError);
  });
});

describe('filter BER codec', () => {
  it('round-trips every type through BER', () => {
    const text =
      '(&(objectClass=inetOrgPerson)(!(cn=Bob))(|(sn>=m)(sn<=c)(cn~=alise))(mail=*)' +
      '(uid=a*b*c)(cn=*x)(cn=x*)(cn:caseExactMatch:=Alice)(:dn:2.5.13.2:=x)(|)(&))';
    const filter = parseFilterString(text);
    const w = new BerWriter();
    encodeFilter(w, filter);
    const r = new BerReader(w.toBytes());
    assert.deepEqual(decodeFilter(r), filter);
    assert.ok(r.atEnd());
  });

  it('encodes (cn=*x*) as RFC 4511 §4.5.1 prescribes', () => {
    const w = new BerWriter();
    encodeFilter(w, parseFilterString('(cn=*x*)'));
    assert.equal(Buffer.from(w.toBytes()).toString('hex'), 'a4090402636e3003810178');
  });

  it('rejects substrings out of order and extensible matches without rule or type', () => {
    const decode = (hex: string): Filter =>
      decodeFilter(new BerReader(Buffer.from(hex.replace(/ /g, ''), 'hex')));
    assert.throws(
      () => decode('a4 0b 04 02 636e 30 05 8101 78 8001 79'),
      /initial substring not first/,
    );
    assert.throws(() => decode('a4 0b 04 02 636e 30 05 8201 78 8101 79'), /after final/);
    assert.throws(() => decode('a9 03 83 01 78'), /matchingRule or a type/);
    assert.throws(() => decode('8b 00'), /unknown filter choice/);
  });
});

describe('filter evaluation (RFC 4511 §4.5.1.7)', () => {
  const schema = createFilterSchema([
    { name: 'cn', equality: 'caseIgnore', aliases: ['commonName', '2.5.4.3'] },
    { name: 'sn', equality: 'caseIgnore', aliases: ['surname', '2.5.4.4'] },
    { name: 'givenName', equality: 'caseIgnore' },
    { name: 'mail', equality: 'caseIgnore' },
    { name: 'uid', equality: 'caseIgnore' },
    { name: 'objectClass', equality: 'caseIgnore' },
    { name: 'memberOf', equality: 'distinguishedName' },
    { name: 'uidNumber', equality: 'integer' },
    { name: 'userPassword', equality: 'octetString' },
    { name: 'description', equality: 'caseExact' },
  ]);
  const alice: FilterEntry = {
    dn: 'uid=alice,ou=people,dc=example,dc=test',
    attributes: new Map([
      ['objectclass', ['top', 'person', 'inetOrgPerson']],
      ['uid', ['alice']],
      ['cn', ['Alice Liddell', 'Alice']],
      ['sn', ['Liddell']],
      ['givenname', ['Alice']],
      ['mail', ['alice@example.test', 'a.liddell@example.test']],
      ['memberof', ['cn=Staff,ou=groups,dc=example,dc=test']],
      ['uidnumber', ['1001']],
      ['description', ['Curious Girl']],
      ['x-unknown', ['y']],
    ]),
  };
  const check = (cases: readonly [string, FilterResult][]): void => {
    for (const [text, expected] of cases) {
      assert.equal(matchFilter(parseFilterString(text), alice, schema), expected, text);
    }
  };

  it('equality: caseIgnoreMatch with insignificant spaces, aliases and OIDs', () => {
    check([
      ['(cn=alice)', 'TRUE'],
      ['(cn=  ALICE )', 'TRUE'],
      ['(cn=alice   liddell)', 'TRUE'],
      ['(cn=bob)', 'FALSE'],
      ['(commonName=Alice)', 'TRUE'],
      ['(2.5.4.3=alice)', 'TRUE'],
      ['(CN=alice)', 'TRUE'],
      ['(objectclass=INETORGPERSON)', 'TRUE'],
      ['(title=boss)', 'UNDEFINED'],
      ['(cn;lang-de=alice)', 'FALSE'],
      ['(userPassword=x)', 'FALSE'],
    ]);
  });

  it('present', () => {
    check([
      ['(cn=*)', 'TRUE'],
      ['(objectClass=*)', 'TRUE'],
      ['(userPassword=*)', 'FALSE'],
      ['(telephoneNumber=*)', 'FALSE'],
      ['(x-unknown=*)', 'TRUE'],
      ['(cn;lang-de=*)', 'FALSE'],
    ]);
  });

  it('substrings: caseIgnoreSubstringsMatch, caseExact, no overlap of initial and final', () => {
    check([
      ['(cn=*lid*)', 'TRUE'],
      ['(cn=ali*)', 'TRUE'],
      ['(cn=*DELL)', 'TRUE'],
      ['(cn=a*e*l)', 'TRUE'],
      ['(cn=*x*)', 'FALSE'],
      ['(mail=*@example.test)', 'TRUE'],
      ['(cn=alice*liddell)', 'TRUE'],
      ['(sn=lid*dell)', 'TRUE'],
      ['(sn=lidd*dell)', 'FALSE'],
      ['(sn=*d*d*d*)', 'FALSE'],
      ['(sn=*d*d*)', 'TRUE'],
      ['(description=*rious*)', 'TRUE'],
      ['(description=*RIOUS*)', 'FALSE'],
      ['(memberOf=cn=*)', 'UNDEFINED'],
      ['(uidNumber=1*)', 'UNDEFINED'],
      ['(userPassword=*x*)', 'UNDEFINED'],
      ['(title=*x*)', 'UNDEFINED'],
    ]);
  });

  it('ordering: caseIgnoreOrderingMatch and integerOrderingMatch', () => {
    check([
      ['(sn>=k)', 'TRUE'],
      ['(sn>=M)', 'FALSE'],
      ['(sn<=m)', 'TRUE'],
      ['(sn<=liddell)', 'TRUE'],
      ['(uidNumber>=1000)', 'TRUE'],
      ['(uidNumber>=999)', 'TRUE'],
      ['(uidNumber>=1002)', 'FALSE'],
      ['(uidNumber<=1001)', 'TRUE'],
      ['(uidNumber>=abc)', 'UNDEFINED'],
      ['(uidNumber=01001)', 'TRUE'],
      ['(uidNumber=x)', 'UNDEFINED'],
      ['(memberOf>=x)', 'UNDEFINED'],
      ['(userPassword>=x)', 'UNDEFINED'],
    ]);
  });

  it('approx: case-insensitive, white space removed', () => {
    check([
      ['(cn~=aliceliddell)', 'TRUE'],
      ['(cn~=ALICE LID DELL)', 'TRUE'],
      ['(cn~=alicia)', 'FALSE'],
      ['(uidNumber~=1001)', 'TRUE'],
    ]);
  });

  it('distinguishedNameMatch', () => {
    check([
      ['(memberOf=CN=staff, OU=Groups,DC=example,DC=test)', 'TRUE'],
      ['(memberOf=cn=other,ou=groups,dc=example,dc=test)', 'FALSE'],
      ['(memberOf=not a dn)', 'UNDEFINED'],
    ]);
  });

  it('extensibleMatch: caseIgnoreMatch and caseExactMatch, unknown rules are Undefined', () => {
    check([
      ['(cn:caseExactMatch:=Alice)', 'TRUE'],
      ['(cn:caseExactMatch:=alice)', 'FALSE'],
      ['(cn:2.5.13.5:=Alice)', 'TRUE'],
      ['(cn:2.5.13.2:=ALICE)', 'TRUE'],
      ['(cn:caseIgnoreMatch:=ALICE)', 'TRUE'],
      ['(cn:=alice)', 'TRUE'],
      ['(cn:=bob)', 'FALSE'],
      ['(uidNumber:=1001)', 'TRUE'],
      ['(:caseIgnoreMatch:=liddell)', 'TRUE'],
      ['(:caseExactMatch:=liddell)', 'FALSE'],
      ['(:caseExactMatch:=Liddell)', 'TRUE'],
      ['(cn:dn:caseIgnoreMatch:=alice)', 'TRUE'],
      ['(cn:1.2.3.4:=x)', 'UNDEFINED'],
      ['(:1.2.3:=x)', 'UNDEFINED'],
      ['(memberOf:caseIgnoreMatch:=x)', 'UNDEFINED'],
      ['(title:caseIgnoreMatch:=x)', 'UNDEFINED'],
      ['(title:=x)', 'UNDEFINED'],
      ['(cn;lang-de:caseIgnoreMatch:=alice)', 'FALSE'],
    ]);
  });

  it('three-valued and / or / not', () => {
    // T, F and U stand for a true, a false and an undefined item
    const T = '(cn=alice)';
    const F = '(cn=bob)';
    const U = '(title=x)';
    check([
      [`(&${T}${T})`, 'TRUE'],
      [`(&${T}${F})`, 'FALSE'],
      [`(&${T}${U})`, 'UNDEFINED'],
      [`(&${F}${U})`, 'FALSE'],
      [`(&${U}${F})`, 'FALSE'],
      [`(&${U}${U})`, 'UNDEFINED'],
      [`(|${T}${U})`, 'TRUE'],
      [`(|${U}${T})`, 'TRUE'],
      [`(|${F}${U})`, 'UNDEFINED'],
      [`(|${F}${F})`, 'FALSE'],
      [`(|${U}${U})`, 'UNDEFINED'],
      [`(!${T})`, 'FALSE'],
      [`(!${F})`, 'TRUE'],
      [`(!${U})`, 'UNDEFINED'],
      [`(!(!${U}))`, 'UNDEFINED'],
      ['(&)', 'TRUE'],
      ['(|)', 'FALSE'],
      ['(!(&))', 'FALSE'],
    ]);
  });

  it("evaluates Thunderbird's autocomplete search", () => {
    const filter = (q: string): string =>
      `(|(cn=*${q}*)(mail=*${q}*)(sn=*${q}*)(givenName=*${q}*))`;
    check([
      [filter('lidd'), 'TRUE'],
      [filter('EXAMPLE.TEST'), 'TRUE'],
      [filter('zz'), 'FALSE'],
    ]);
  });
});
