/**
 * The LDAP view of the Directory: a read-only tree of entries built from domains, principals
 * and group membership, plus the root DSE (RFC 4512 §5.1) and one subschema entry
 * (`cn=Subschema`, RFC 4512 §4.2) describing exactly the attribute types and object classes
 * we serve.
 *
 *   ""                                        root DSE: namingContexts, supportedControl, ...
 *   cn=Subschema                              attributeTypes, objectClasses, ...
 *   dc=example,dc=test                        domain (RFC 4524), one naming context per domain
 *     ou=people     uid=alice,...             inetOrgPerson (RFC 2798)
 *     ou=groups     cn=staff,...              groupOfNames (RFC 4519) with member DNs and mail
 *     ou=resources  cn=room1,...              device, for resources and rooms
 *
 * Entry names come from principal-names.ts, the one mapping every protocol shares. Passwords
 * and app passwords are never part of an entry.
 *
 * DirectoryTree keeps the principals in memory and follows the directory change log (account
 * 0): a bus nudge marks it stale, and it also re-checks the log's counter at most once per
 * `recheckMs`, so changes made by another node are seen too. Refreshes re-read only the
 * principals the log names, then rebuild the immutable TreeSnapshot that searches run on.
 */

import { createHash } from 'node:crypto';
import type { Logger } from '../../core/log.ts';
import type { Principal, PrincipalProfile } from '../../core/principal.ts';
import {
  ldapBaseDn,
  ldapContainerDn,
  ldapContainerOf,
  ldapDn,
  type LdapContainer,
} from '../../core/principal-names.ts';
import { VERSION } from '../../core/version.ts';
import { currentChangeId, readChanges } from '../../storage/change-log.ts';
import type { Directory } from '../../storage/directory/directory.ts';
import { DIRECTORY_ACCOUNT, DIRECTORY_COLLECTION } from '../../storage/directory/directory.ts';
import { RESYNC_ALL_ACCOUNTS } from '../../storage/change-bus.ts';
import type { Storage } from '../../storage/storage.ts';
import { normalizeDn } from './dn.ts';
import { prepareCaseIgnore } from './string-prep.ts';
import type { EqualityRule, FilterEntry, FilterSchema } from './filter.ts';
import type { SearchScope } from './messages.ts';

// ---------------------------------------------------------------------------------------------
// Schema (RFC 4512 §4.1): what we serve, described in the subschema entry

interface AttributeTypeSpec {
  readonly oid: string;
  /** First name is the canonical one we return. */
  readonly names: readonly string[];
  readonly sup?: string;
  readonly equality?: string;
  readonly ordering?: string;
  readonly substr?: string;
  readonly syntax?: string;
  readonly singleValue?: boolean;
  readonly noUserModification?: boolean;
  readonly usage?: 'directoryOperation' | 'dSAOperation';
}

const S = '1.3.6.1.4.1.1466.115.121.1.';

const ATTRIBUTE_TYPES: readonly AttributeTypeSpec[] = [
  {
    oid: '2.5.4.0',
    names: ['objectClass'],
    equality: 'objectIdentifierMatch',
    syntax: `${S}38`,
  },
  {
    oid: '2.5.4.41',
    names: ['name'],
    equality: 'caseIgnoreMatch',
    substr: 'caseIgnoreSubstringsMatch',
    syntax: `${S}15{32768}`,
  },
  { oid: '2.5.4.3', names: ['cn', 'commonName'], sup: 'name' },
  { oid: '2.5.4.4', names: ['sn', 'surname'], sup: 'name' },
  { oid: '2.5.4.42', names: ['givenName', 'gn'], sup: 'name' },
  { oid: '2.5.4.10', names: ['o', 'organizationName'], sup: 'name' },
  { oid: '2.5.4.11', names: ['ou', 'organizationalUnitName'], sup: 'name' },
  { oid: '2.5.4.12', names: ['title'], sup: 'name' },
  {
    oid: '2.5.4.20',
    names: ['telephoneNumber'],
    equality: 'telephoneNumberMatch',
    substr: 'telephoneNumberSubstringsMatch',
    syntax: `${S}50{32}`,
  },
  {
    oid: '0.9.2342.19200300.100.1.41',
    names: ['mobile', 'mobileTelephoneNumber'],
    equality: 'telephoneNumberMatch',
    substr: 'telephoneNumberSubstringsMatch',
    syntax: `${S}50{32}`,
  },
  {
    oid: '2.16.840.1.113730.3.1.241',
    names: ['displayName'],
    equality: 'caseIgnoreMatch',
    ordering: 'caseIgnoreOrderingMatch',
    substr: 'caseIgnoreSubstringsMatch',
    syntax: `${S}15`,
    singleValue: true,
  },
  {
    oid: '0.9.2342.19200300.100.1.1',
    names: ['uid', 'userid'],
    equality: 'caseIgnoreMatch',
    substr: 'caseIgnoreSubstringsMatch',
    syntax: `${S}15{256}`,
  },
  {
    oid: '0.9.2342.19200300.100.1.3',
    names: ['mail', 'rfc822Mailbox'],
    equality: 'caseIgnoreIA5Match',
    substr: 'caseIgnoreIA5SubstringsMatch',
    syntax: `${S}26{256}`,
  },
  {
    oid: '0.9.2342.19200300.100.1.25',
    names: ['dc', 'domainComponent'],
    equality: 'caseIgnoreIA5Match',
    substr: 'caseIgnoreIA5SubstringsMatch',
    syntax: `${S}26`,
    singleValue: true,
  },
  {
    oid: '2.5.4.13',
    names: ['description'],
    equality: 'caseIgnoreMatch',
    substr: 'caseIgnoreSubstringsMatch',
    syntax: `${S}15{1024}`,
  },
  {
    oid: '2.5.4.49',
    names: ['distinguishedName'],
    equality: 'distinguishedNameMatch',
    syntax: `${S}12`,
  },
  { oid: '2.5.4.31', names: ['member'], sup: 'distinguishedName' },
  // operational (RFC 4512 §3.4, RFC 4530, RFC 5020, draft memberOf as OpenLDAP serves it)
  {
    oid: '1.2.840.113556.1.2.102',
    names: ['memberOf'],
    equality: 'distinguishedNameMatch',
    syntax: `${S}12`,
    noUserModification: true,
    usage: 'dSAOperation',
  },
  {
    oid: '1.3.6.1.1.16.4',
    names: ['entryUUID'],
    equality: 'UUIDMatch',
    ordering: 'UUIDOrderingMatch',
    syntax: '1.3.6.1.1.16.1',
    singleValue: true,
    noUserModification: true,
    usage: 'directoryOperation',
  },
  {
    oid: '1.3.6.1.1.20',
    names: ['entryDN'],
    equality: 'distinguishedNameMatch',
    syntax: `${S}12`,
    singleValue: true,
    noUserModification: true,
    usage: 'directoryOperation',
  },
  {
    oid: '2.5.18.1',
    names: ['createTimestamp'],
    equality: 'generalizedTimeMatch',
    ordering: 'generalizedTimeOrderingMatch',
    syntax: `${S}24`,
    singleValue: true,
    noUserModification: true,
    usage: 'directoryOperation',
  },
  {
    oid: '2.5.18.2',
    names: ['modifyTimestamp'],
    equality: 'generalizedTimeMatch',
    ordering: 'generalizedTimeOrderingMatch',
    syntax: `${S}24`,
    singleValue: true,
    noUserModification: true,
    usage: 'directoryOperation',
  },
  {
    oid: '2.5.21.9',
    names: ['structuralObjectClass'],
    equality: 'objectIdentifierMatch',
    syntax: `${S}38`,
    singleValue: true,
    noUserModification: true,
    usage: 'directoryOperation',
  },
  {
    oid: '2.5.18.9',
    names: ['hasSubordinates'],
    equality: 'booleanMatch',
    syntax: `${S}7`,
    singleValue: true,
    noUserModification: true,
    usage: 'directoryOperation',
  },
  {
    oid: '2.5.18.10',
    names: ['subschemaSubentry'],
    equality: 'distinguishedNameMatch',
    syntax: `${S}12`,
    singleValue: true,
    noUserModification: true,
    usage: 'directoryOperation',
  },
  // root DSE (RFC 4512 §5.1, RFC 3045, RFC 3674)
  ...(
    [
      ['1.3.6.1.4.1.1466.101.120.5', 'namingContexts', `${S}12`, undefined],
      ['1.3.6.1.4.1.1466.101.120.13', 'supportedControl', `${S}38`, 'objectIdentifierMatch'],
      ['1.3.6.1.4.1.1466.101.120.7', 'supportedExtension', `${S}38`, 'objectIdentifierMatch'],
      ['1.3.6.1.4.1.4203.1.3.5', 'supportedFeatures', `${S}38`, 'objectIdentifierMatch'],
      ['1.3.6.1.4.1.1466.101.120.15', 'supportedLDAPVersion', `${S}27`, undefined],
      ['1.3.6.1.4.1.1466.101.120.14', 'supportedSASLMechanisms', `${S}15`, undefined],
    ] as const
  ).map(([oid, name, syntax, equality]) => ({
    oid,
    names: [name],
    syntax,
    ...(equality === undefined ? {} : { equality }),
    usage: 'dSAOperation' as const,
  })),
  ...(
    [
      ['1.3.6.1.1.4', 'vendorName'],
      ['1.3.6.1.1.5', 'vendorVersion'],
    ] as const
  ).map(([oid, name]) => ({
    oid,
    names: [name],
    equality: 'caseExactIA5Match',
    syntax: `${S}15`,
    singleValue: true,
    noUserModification: true,
    usage: 'dSAOperation' as const,
  })),
  // subschema (RFC 4512 §4.2)
  ...(
    [
      ['2.5.21.5', 'attributeTypes', `${S}3`],
      ['2.5.21.6', 'objectClasses', `${S}37`],
      ['2.5.21.4', 'matchingRules', `${S}30`],
      ['1.3.6.1.4.1.1466.101.120.16', 'ldapSyntaxes', `${S}54`],
    ] as const
  ).map(([oid, name, syntax]) => ({
    oid,
    names: [name],
    equality: 'objectIdentifierFirstComponentMatch',
    syntax,
    usage: 'directoryOperation' as const,
  })),
];

const OBJECT_CLASSES: readonly string[] = [
  "( 2.5.6.0 NAME 'top' ABSTRACT MUST objectClass )",
  "( 1.3.6.1.4.1.1466.101.120.111 NAME 'extensibleObject' SUP top AUXILIARY )",
  "( 2.5.6.6 NAME 'person' SUP top STRUCTURAL MUST ( sn $ cn ) MAY ( description $ telephoneNumber ) )",
  "( 2.5.6.7 NAME 'organizationalPerson' SUP person STRUCTURAL MAY ( ou $ title ) )",
  "( 2.16.840.1.113730.3.2.2 NAME 'inetOrgPerson' SUP organizationalPerson STRUCTURAL MAY ( displayName $ givenName $ mail $ mobile $ o $ uid ) )",
  "( 2.5.6.5 NAME 'organizationalUnit' SUP top STRUCTURAL MUST ou MAY description )",
  "( 0.9.2342.19200300.100.4.13 NAME 'domain' SUP top STRUCTURAL MUST dc MAY ( description $ o ) )",
  "( 2.5.6.9 NAME 'groupOfNames' SUP top STRUCTURAL MUST cn MAY ( member $ description $ o $ ou ) )",
  "( 2.5.6.14 NAME 'device' SUP top STRUCTURAL MUST cn MAY ( description $ o $ ou ) )",
  "( 2.5.17.0 NAME 'subentry' SUP top STRUCTURAL MUST cn )",
  "( 2.5.20.1 NAME 'subschema' AUXILIARY MAY ( ldapSyntaxes $ matchingRules $ attributeTypes $ objectClasses ) )",
];

const MATCHING_RULES: readonly (readonly [string, string, string])[] = [
  ['2.5.13.0', 'objectIdentifierMatch', `${S}38`],
  ['2.5.13.1', 'distinguishedNameMatch', `${S}12`],
  ['2.5.13.2', 'caseIgnoreMatch', `${S}15`],
  ['2.5.13.3', 'caseIgnoreOrderingMatch', `${S}15`],
  ['2.5.13.4', 'caseIgnoreSubstringsMatch', `${S}58`],
  ['2.5.13.5', 'caseExactMatch', `${S}15`],
  ['2.5.13.13', 'booleanMatch', `${S}7`],
  ['2.5.13.14', 'integerMatch', `${S}27`],
  ['2.5.13.27', 'generalizedTimeMatch', `${S}24`],
  ['2.5.13.28', 'generalizedTimeOrderingMatch', `${S}24`],
  ['2.5.13.30', 'objectIdentifierFirstComponentMatch', `${S}38`],
  ['2.5.13.20', 'telephoneNumberMatch', `${S}50`],
  ['2.5.13.21', 'telephoneNumberSubstringsMatch', `${S}58`],
  ['1.3.6.1.4.1.1466.109.114.1', 'caseExactIA5Match', `${S}26`],
  ['1.3.6.1.4.1.1466.109.114.2', 'caseIgnoreIA5Match', `${S}26`],
  ['1.3.6.1.4.1.1466.109.114.3', 'caseIgnoreIA5SubstringsMatch', `${S}58`],
  ['1.3.6.1.1.16.2', 'UUIDMatch', '1.3.6.1.1.16.1'],
  ['1.3.6.1.1.16.3', 'UUIDOrderingMatch', '1.3.6.1.1.16.1'],
];

const SYNTAXES: readonly (readonly [string, string])[] = [
  [`${S}3`, 'Attribute Type Description'],
  [`${S}7`, 'Boolean'],
  [`${S}12`, 'Distinguished Name'],
  [`${S}15`, 'Directory String'],
  [`${S}24`, 'Generalized Time'],
  [`${S}26`, 'IA5 String'],
  [`${S}27`, 'INTEGER'],
  [`${S}30`, 'Matching Rule Description'],
  [`${S}37`, 'Object Class Description'],
  [`${S}38`, 'OID'],
  [`${S}50`, 'Telephone Number'],
  [`${S}54`, 'LDAP Syntax Description'],
  [`${S}58`, 'Substring Assertion'],
  ['1.3.6.1.1.16.1', 'UUID'],
];

/** How filters, compare and sorting treat each equality matching rule. */
const RULE_OF: Readonly<Record<string, EqualityRule>> = {
  objectIdentifierMatch: 'caseIgnore',
  objectIdentifierFirstComponentMatch: 'caseIgnore',
  caseIgnoreMatch: 'caseIgnore',
  caseIgnoreIA5Match: 'caseIgnore',
  // close enough for phone numbers as people type them; RFC 4517 also ignores spaces and '-'
  telephoneNumberMatch: 'caseIgnore',
  caseExactIA5Match: 'caseExact',
  distinguishedNameMatch: 'distinguishedName',
  UUIDMatch: 'caseIgnore',
  generalizedTimeMatch: 'caseExact',
  booleanMatch: 'caseIgnore',
};

/** One attribute type as the server uses it. */
export interface AttributeInfo {
  /** Canonical name, as returned in entries. */
  readonly name: string;
  /** Lower-cased canonical name: the key in LdapEntry.attributes. */
  readonly key: string;
  readonly rule: EqualityRule;
  readonly operational: boolean;
}

/** Our schema: attribute lookup by any name or OID, and the filter view of it. */
export class LdapSchema {
  readonly filter: FilterSchema;
  readonly #byName = new Map<string, AttributeInfo>();

  constructor() {
    const specs = new Map(ATTRIBUTE_TYPES.map((a) => [a.names[0]?.toLowerCase() ?? '', a]));
    const equalityOf = (a: AttributeTypeSpec | undefined): string | undefined =>
      a === undefined || a.equality !== undefined || a.sup === undefined
        ? a?.equality
        : equalityOf(specs.get(a.sup.toLowerCase()));
    for (const spec of ATTRIBUTE_TYPES) {
      const name = spec.names[0] ?? spec.oid;
      const equality = equalityOf(spec);
      const info: AttributeInfo = {
        name,
        key: name.toLowerCase(),
        rule: equality === undefined ? 'caseExact' : (RULE_OF[equality] ?? 'caseIgnore'),
        operational: spec.usage !== undefined,
      };
      for (const n of [...spec.names, spec.oid]) this.#byName.set(n.toLowerCase(), info);
    }
    // step: filters resolve names and OIDs through the same table
    const byName = this.#byName;
    this.filter = {
      attribute: (type) => {
        const info = byName.get(type.toLowerCase());
        return info && { name: info.key, equality: info.rule };
      },
    };
  }

  /** Resolve an attribute type (any name or OID, any case, no options). */
  attribute(type: string): AttributeInfo | undefined {
    return this.#byName.get(type.toLowerCase());
  }

  /** The subschema values (RFC 4512 §4.1). */
  subschemaValues(): Record<
    'attributeTypes' | 'objectClasses' | 'matchingRules' | 'ldapSyntaxes',
    string[]
  > {
    return {
      attributeTypes: ATTRIBUTE_TYPES.map(describeAttributeType),
      objectClasses: [...OBJECT_CLASSES],
      matchingRules: MATCHING_RULES.map(
        ([oid, name, syntax]) => `( ${oid} NAME '${name}' SYNTAX ${syntax} )`,
      ),
      ldapSyntaxes: SYNTAXES.map(([oid, desc]) => `( ${oid} DESC '${desc}' )`),
    };
  }
}

function describeAttributeType(a: AttributeTypeSpec): string {
  const names = a.names.length === 1 ? `'${a.names[0]}'` : `( '${a.names.join("' '")}' )`;
  const parts = [`( ${a.oid} NAME ${names}`];
  if (a.sup !== undefined) parts.push(`SUP ${a.sup}`);
  if (a.equality !== undefined) parts.push(`EQUALITY ${a.equality}`);
  if (a.ordering !== undefined) parts.push(`ORDERING ${a.ordering}`);
  if (a.substr !== undefined) parts.push(`SUBSTR ${a.substr}`);
  if (a.syntax !== undefined) parts.push(`SYNTAX ${a.syntax}`);
  if (a.singleValue === true) parts.push('SINGLE-VALUE');
  if (a.noUserModification === true) parts.push('NO-USER-MODIFICATION');
  if (a.usage !== undefined) parts.push(`USAGE ${a.usage}`);
  return `${parts.join(' ')} )`;
}

// ---------------------------------------------------------------------------------------------
// Entries

export interface EntryAttribute {
  /** Canonical attribute name. */
  readonly name: string;
  readonly values: readonly string[];
  /** Returned for "+" or by name only (RFC 4511 §4.5.1.8). */
  readonly operational: boolean;
}

/** Who may read an entry: everyone, or sessions allowed to read the directory. */
export type EntryAccess = 'public' | 'directory';

export interface LdapEntry {
  /** RFC 4514 form; '' for the root DSE. */
  readonly dn: string;
  /** normalizeDn(dn): the key of the entry. */
  readonly ndn: string;
  /** ndn of the parent entry; '' under the root DSE; undefined for the root DSE and subschema. */
  readonly parent: string | undefined;
  readonly access: EntryAccess;
  /**
   * "*" returns the operational attributes too (the root DSE: RFC 4512 §5.1 makes them
   * operational, but many clients ask for "*" and expect namingContexts).
   */
  readonly starIncludesOperational: boolean;
  /** By lower-cased canonical name, in the order they are returned. */
  readonly attributes: ReadonlyMap<string, EntryAttribute>;
  /** The same values, as filter evaluation sees them. */
  readonly match: FilterEntry;
  /** caseIgnore-prepared values of the caseIgnore attributes, for quick rejection. */
  readonly prepared: ReadonlyMap<string, readonly string[]>;
}

export const ROOT_DSE_DN = '';
export const SUBSCHEMA_DN = 'cn=Subschema';

type AttrList = [name: string, values: readonly string[]][];

interface EntryDraft {
  readonly dn: string;
  readonly ndn: string;
  readonly parent: string | undefined;
  readonly access: EntryAccess;
  readonly user: AttrList;
  readonly operational: AttrList;
  /** Kept for sorting children. */
  readonly sortKey: string;
}

function finishEntry(
  draft: Pick<EntryDraft, 'dn' | 'ndn' | 'parent' | 'access' | 'user' | 'operational'>,
  schema: LdapSchema,
  starIncludesOperational = false,
): LdapEntry {
  const attributes = new Map<string, EntryAttribute>();
  const matchMap = new Map<string, readonly string[]>();
  const prepared = new Map<string, readonly string[]>();
  const add = (list: AttrList, operational: boolean): void => {
    for (const [name, values] of list) {
      if (values.length === 0) continue;
      const info = schema.attribute(name);
      const key = info?.key ?? name.toLowerCase();
      attributes.set(key, { name: info?.name ?? name, values, operational });
      matchMap.set(key, values);
      if (info?.rule === 'caseIgnore') prepared.set(key, values.map(prepareCaseIgnore));
    }
  };
  add(draft.user, false);
  add(draft.operational, true);
  return {
    dn: draft.dn,
    ndn: draft.ndn,
    parent: draft.parent,
    access: draft.access,
    starIncludesOperational,
    attributes,
    match: { dn: draft.dn, attributes: matchMap },
    prepared,
  };
}

/** ISO 8601 -> GeneralizedTime (RFC 4517 §3.3.13), UTC, seconds. */
export function generalizedTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '19700101000000Z';
  return `${d.toISOString().slice(0, 19).replace(/[-T:]/g, '')}Z`;
}

/** A stable name-based UUID (RFC 9562 §5.5 layout) for an entry that has no stored one. */
export function stableUuid(name: string): string {
  const h = createHash('sha1').update(`commune:${name}`).digest();
  h[6] = ((h[6] ?? 0) & 0x0f) | 0x50;
  h[8] = ((h[8] ?? 0) & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

/** Profile fields and the attributes that serve them. */
const PROFILE_ATTRIBUTES: readonly [keyof PrincipalProfile, string][] = [
  ['phone', 'telephoneNumber'],
  ['mobile', 'mobile'],
  ['title', 'title'],
  ['organization', 'o'],
  ['department', 'ou'],
];

/** givenName and sn from a display name: the last word is the surname. */
export function splitPersonName(
  displayName: string,
  fallback: string,
): { sn: string; givenName: string | undefined } {
  const words = displayName
    .trim()
    .split(/\s+/u)
    .filter((w) => w !== '');
  if (words.length >= 2) {
    return { sn: words[words.length - 1] ?? fallback, givenName: words.slice(0, -1).join(' ') };
  }
  return { sn: words[0] ?? fallback, givenName: undefined };
}

/** Attributes (keys) with an equality index: the ones address books search by. */
const INDEXED: readonly string[] = ['uid', 'mail', 'cn', 'sn', 'givenname', 'displayname'];

const CONTAINERS: readonly LdapContainer[] = ['people', 'groups', 'resources'];
const OBJECT_CLASSES_OF: Readonly<Record<Principal['kind'], readonly string[]>> = {
  individual: ['top', 'person', 'organizationalPerson', 'inetOrgPerson'],
  group: ['top', 'groupOfNames', 'extensibleObject'],
  resource: ['top', 'device', 'extensibleObject'],
  room: ['top', 'device', 'extensibleObject'],
};
const STRUCTURAL_OF: Readonly<Record<Principal['kind'], string>> = {
  individual: 'inetOrgPerson',
  group: 'groupOfNames',
  resource: 'device',
  room: 'device',
};

function localPart(address: string): string {
  return address.slice(0, address.lastIndexOf('@'));
}

/** What the tree is built from. */
export interface DirectoryData {
  readonly domains: ReadonlyMap<string, string>;
  readonly principals: ReadonlyMap<number, Principal>;
  /** Direct members per group id. */
  readonly members: ReadonlyMap<number, readonly number[]>;
}

/** What the root DSE advertises (RFC 4512 §5.1). */
export interface ServerFeatures {
  /** SASL mechanisms offered (RFC 4513 §5.2.1). */
  readonly saslMechanisms: readonly string[];
  /** Extended operation OIDs. */
  readonly extensions: readonly string[];
  /** Control OIDs. */
  readonly controls: readonly string[];
}

/** An immutable tree of entries, with scope enumeration (RFC 4511 §4.5.1.2). */
export class TreeSnapshot {
  readonly rootDse: LdapEntry;
  readonly subschema: LdapEntry;
  readonly #entries = new Map<string, LdapEntry>();
  /** Children per parent ndn; '' holds the top entries (naming contexts). */
  readonly #children = new Map<string, LdapEntry[]>();
  /** Equality index: attribute key -> caseIgnore-prepared value -> entries, in tree order. */
  readonly #index = new Map<string, Map<string, LdapEntry[]>>();

  constructor(data: DirectoryData, schema: LdapSchema, features: ServerFeatures) {
    const drafts: EntryDraft[] = [];
    const domains = new Map(data.domains);
    for (const p of data.principals.values()) {
      if (!domains.has(p.domain)) domains.set(p.domain, p.createdAt);
    }

    // step: naming contexts and their containers
    for (const [domain, createdAt] of domains) {
      const base = ldapBaseDn(domain);
      const label = domain.split('.')[0] ?? domain;
      drafts.push(
        draft(
          base,
          'domain',
          [
            ['objectClass', ['top', 'domain']],
            ['dc', [label]],
            ['o', [domain]],
          ],
          createdAt,
        ),
      );
      for (const ou of CONTAINERS) {
        drafts.push(
          draft(
            ldapContainerDn(domain, ou),
            'organizationalUnit',
            [
              ['objectClass', ['top', 'organizationalUnit']],
              ['ou', [ou]],
            ],
            createdAt,
          ),
        );
      }
    }

    // step: memberships both ways, direct only
    const dnOf = new Map<number, string>();
    for (const p of data.principals.values()) dnOf.set(p.id, ldapDn(p));
    const groupsOf = new Map<number, string[]>();
    for (const [groupId, ids] of data.members) {
      const groupDn = dnOf.get(groupId);
      if (groupDn === undefined) continue;
      for (const id of ids) {
        const list = groupsOf.get(id) ?? [];
        list.push(groupDn);
        groupsOf.set(id, list);
      }
    }

    // step: one entry per principal
    for (const p of data.principals.values()) {
      const dn = dnOf.get(p.id) ?? ldapDn(p);
      const local = localPart(p.address);
      const display = p.displayName.trim() === '' ? local : p.displayName.trim();
      const user: AttrList = [['objectClass', OBJECT_CLASSES_OF[p.kind]]];
      if (p.kind === 'individual') {
        const { sn, givenName } = splitPersonName(display, local);
        user.push(['uid', [local]], ['cn', [display]], ['sn', [sn]]);
        if (givenName !== undefined) user.push(['givenName', [givenName]]);
      } else {
        user.push(['cn', display.toLowerCase() === local ? [local] : [local, display]]);
      }
      user.push(['displayName', [display]], ['mail', p.addresses]);
      const profile = p.profile ?? {};
      for (const [field, attr] of PROFILE_ATTRIBUTES) {
        const value = profile[field];
        if (value !== undefined && value !== '') user.push([attr, [value]]);
      }
      if (p.kind === 'group') {
        const members = (data.members.get(p.id) ?? []).flatMap((id) => {
          const m = dnOf.get(id);
          return m === undefined ? [] : [m];
        });
        user.push(['member', members]);
      }
      if (p.kind === 'resource' || p.kind === 'room') user.push(['description', [p.kind]]);
      drafts.push({
        dn,
        ndn: normalizeDn(dn),
        parent: normalizeDn(ldapContainerDn(p.domain, ldapContainerOf(p.kind))),
        access: 'directory',
        user,
        operational: [
          ['memberOf', groupsOf.get(p.id) ?? []],
          ['structuralObjectClass', [STRUCTURAL_OF[p.kind]]],
          ['entryUUID', [stableUuid(`principal:${p.id}`)]],
          ['createTimestamp', [generalizedTime(p.createdAt)]],
        ],
        sortKey: local,
      });
    }

    // step: link children, then finish entries with their tree attributes
    const known = new Set(drafts.map((d) => d.ndn));
    const childDrafts = new Map<string, EntryDraft[]>();
    for (const d of drafts) {
      const parent = d.parent !== undefined && known.has(d.parent) ? d.parent : '';
      const list = childDrafts.get(parent) ?? [];
      list.push(d);
      childDrafts.set(parent, list);
    }
    for (const list of childDrafts.values()) {
      list.sort((a, b) => (a.sortKey < b.sortKey ? -1 : a.sortKey > b.sortKey ? 1 : 0));
    }
    for (const [parent, list] of childDrafts) {
      const entries = list.map((d) =>
        finishEntry(
          {
            ...d,
            parent,
            operational: [
              ...d.operational,
              ['entryDN', [d.dn]],
              ['hasSubordinates', [childDrafts.has(d.ndn) ? 'TRUE' : 'FALSE']],
              ['subschemaSubentry', [SUBSCHEMA_DN]],
            ],
          },
          schema,
        ),
      );
      this.#children.set(parent, entries);
      for (const e of entries) this.#entries.set(e.ndn, e);
    }

    // step: root DSE (its operational attributes come with "*" too, as most clients expect)
    this.rootDse = finishEntry(
      {
        dn: ROOT_DSE_DN,
        ndn: '',
        parent: undefined,
        access: 'public',
        user: [['objectClass', ['top']]],
        operational: [
          ['namingContexts', [...domains.keys()].sort().map(ldapBaseDn)],
          ['subschemaSubentry', [SUBSCHEMA_DN]],
          ['supportedLDAPVersion', ['3']],
          ['supportedControl', features.controls],
          ['supportedExtension', features.extensions],
          // RFC 3673 all operational attributes, RFC 4526 absolute true/false filters
          ['supportedFeatures', ['1.3.6.1.4.1.4203.1.5.1', '1.3.6.1.4.1.4203.1.5.3']],
          ['supportedSASLMechanisms', features.saslMechanisms],
          ['vendorName', ['Commune']],
          ['vendorVersion', [VERSION]],
        ],
      },
      schema,
      true,
    );
    const subschema = schema.subschemaValues();
    this.subschema = finishEntry(
      {
        dn: SUBSCHEMA_DN,
        ndn: normalizeDn(SUBSCHEMA_DN),
        parent: undefined,
        access: 'public',
        user: [
          ['objectClass', ['top', 'subentry', 'subschema', 'extensibleObject']],
          ['cn', ['Subschema']],
        ],
        operational: [
          ['attributeTypes', subschema.attributeTypes],
          ['objectClasses', subschema.objectClasses],
          ['matchingRules', subschema.matchingRules],
          ['ldapSyntaxes', subschema.ldapSyntaxes],
          ['structuralObjectClass', ['subentry']],
          ['entryDN', [SUBSCHEMA_DN]],
          ['subschemaSubentry', [SUBSCHEMA_DN]],
        ],
      },
      schema,
    );
    this.#buildIndex();
  }

  #buildIndex(): void {
    for (const key of INDEXED) this.#index.set(key, new Map());
    for (const entry of this.inScope(this.rootDse, 'wholeSubtree')) {
      for (const key of INDEXED) {
        const values = entry.attributes.get(key)?.values;
        if (values === undefined) continue;
        const index = this.#index.get(key);
        for (const v of new Set(values.map(prepareCaseIgnore))) {
          const list = index?.get(v);
          if (list === undefined) index?.set(v, [entry]);
          else list.push(entry);
        }
      }
    }
  }

  /**
   * Entries whose `key` attribute equals `value` under caseIgnoreMatch, from the equality
   * index; undefined when that attribute is not indexed.
   */
  lookup(key: string, value: string): readonly LdapEntry[] | undefined {
    const index = this.#index.get(key);
    return index && (index.get(prepareCaseIgnore(value)) ?? []);
  }

  /** Number of entries under the naming contexts. */
  get size(): number {
    return this.#entries.size;
  }

  /** The entry with this normalized DN ('' is the root DSE). */
  get(ndn: string): LdapEntry | undefined {
    if (ndn === '') return this.rootDse;
    if (ndn === this.subschema.ndn) return this.subschema;
    return this.#entries.get(ndn);
  }

  /**
   * The entries `scope` selects under `base` (RFC 4511 §4.5.1.2), parents before children.
   * From the root DSE, one level gives the naming contexts and a subtree every entry below
   * them; the root DSE itself only answers baseObject searches.
   */
  *inScope(base: LdapEntry, scope: SearchScope): Generator<LdapEntry> {
    if (scope === 'baseObject') {
      yield base;
      return;
    }
    if (base === this.subschema) {
      if (scope === 'wholeSubtree') yield base;
      return;
    }
    const isRoot = base === this.rootDse;
    if (scope === 'wholeSubtree' && !isRoot) yield base;
    if (scope === 'singleLevel') {
      yield* this.#children.get(base.ndn) ?? [];
      return;
    }
    // step: depth-first with an explicit stack (no recursion limits)
    const stack: LdapEntry[][] = [this.#children.get(base.ndn) ?? []];
    const index: number[] = [0];
    while (stack.length > 0) {
      const level = stack[stack.length - 1] ?? [];
      const i = index[index.length - 1] ?? 0;
      if (i >= level.length) {
        stack.pop();
        index.pop();
        continue;
      }
      index[index.length - 1] = i + 1;
      const entry = level[i];
      if (entry === undefined) continue;
      yield entry;
      const kids = this.#children.get(entry.ndn);
      if (kids !== undefined && kids.length > 0) {
        stack.push(kids);
        index.push(0);
      }
    }
  }
}

function draft(dn: string, structural: string, user: AttrList, createdAt: string): EntryDraft {
  const ndn = normalizeDn(dn);
  const comma = ndn.indexOf(',');
  return {
    dn,
    ndn,
    parent: comma < 0 ? undefined : ndn.slice(comma + 1),
    access: 'directory',
    user,
    operational: [
      ['structuralObjectClass', [structural]],
      ['entryUUID', [stableUuid(`entry:${ndn}`)]],
      ['createTimestamp', [generalizedTime(createdAt)]],
    ],
    sortKey: ndn,
  };
}

// ---------------------------------------------------------------------------------------------
// Following the directory

export interface DirectoryTreeOptions {
  readonly directory: Directory;
  readonly storage: Storage;
  readonly log: Logger;
  readonly features: ServerFeatures;
  /** Re-check the change log counter at least this often (ms), nudge or not. */
  readonly recheckMs?: number;
  /** More pending changes than this are applied by reloading everything. */
  readonly maxIncremental?: number;
}

/** Keeps a TreeSnapshot in step with the directory change log. */
export class DirectoryTree {
  readonly schema = new LdapSchema();
  readonly #options: DirectoryTreeOptions;
  readonly #domains = new Map<string, string>();
  readonly #principals = new Map<number, Principal>();
  readonly #members = new Map<number, readonly number[]>();
  #cursor = -1n;
  #snapshot: TreeSnapshot | undefined;
  #stale = true;
  #checkedAt = 0;
  #refreshing: Promise<TreeSnapshot> | undefined;
  #unsubscribe: (() => void) | undefined;

  constructor(options: DirectoryTreeOptions) {
    this.#options = options;
  }

  /** Follow change nudges for the directory account. */
  start(): void {
    this.#unsubscribe ??= this.#options.storage.bus.subscribe((nudge) => {
      if (nudge.account === DIRECTORY_ACCOUNT || nudge.account === RESYNC_ALL_ACCOUNTS) {
        this.#stale = true;
      }
    });
  }

  close(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
  }

  /** The current tree, refreshed first when the directory has changed. */
  snapshot(): Promise<TreeSnapshot> {
    const recheck = this.#options.recheckMs ?? 1000;
    const current = this.#snapshot;
    if (current !== undefined && !this.#stale && Date.now() - this.#checkedAt < recheck) {
      return Promise.resolve(current);
    }
    // step: a refresh already running may have read the log before the latest change
    if (this.#refreshing !== undefined) return this.#refreshing.then(() => this.snapshot());
    this.#refreshing = this.#refresh().finally(() => {
      this.#refreshing = undefined;
    });
    return this.#refreshing;
  }

  async #refresh(): Promise<TreeSnapshot> {
    const { storage, directory } = this.#options;
    this.#stale = false;
    this.#checkedAt = Date.now();
    const latest = await currentChangeId(storage.store, DIRECTORY_ACCOUNT);
    if (this.#snapshot !== undefined && latest === this.#cursor) return this.#snapshot;
    const started = Date.now();
    let full = this.#cursor < 0n;
    if (!full) {
      // step: apply the logged changes since our cursor, or reload when there are many
      const limit = this.#options.maxIncremental ?? 500;
      const { changes, lastChangeId } = await readChanges(
        storage.store,
        DIRECTORY_ACCOUNT,
        this.#cursor,
        limit,
      );
      if (changes.length >= limit) full = true;
      else {
        const ids = new Set<number>();
        let domains = false;
        for (const change of changes) {
          for (const e of change.entries) {
            if (e.collection !== DIRECTORY_COLLECTION) continue;
            if (e.id.startsWith('domain:')) domains = true;
            else if (/^\d+$/.test(e.id)) ids.add(Number(e.id));
          }
        }
        if (domains) await this.#loadDomains();
        for (const id of ids) await this.#loadPrincipal(id);
        this.#cursor = lastChangeId;
      }
    }
    if (full) {
      // step: the cursor is read first, so changes made while loading are applied next time
      this.#cursor = latest;
      this.#principals.clear();
      this.#members.clear();
      await this.#loadDomains();
      for (const p of await directory.listPrincipals()) this.#principals.set(p.id, p);
      for (const p of this.#principals.values()) {
        if (p.kind === 'group')
          this.#members.set(
            p.id,
            (await directory.members(p.id)).map((m) => m.id),
          );
      }
    }
    this.#snapshot = new TreeSnapshot(
      { domains: this.#domains, principals: this.#principals, members: this.#members },
      this.schema,
      this.#options.features,
    );
    this.#options.log.debug(
      { protocol: 'ldap', entries: this.#snapshot.size, full, ms: Date.now() - started },
      'directory tree refreshed',
    );
    return this.#snapshot;
  }

  async #loadDomains(): Promise<void> {
    this.#domains.clear();
    for (const d of await this.#options.directory.listDomains()) {
      this.#domains.set(d.name, d.createdAt);
    }
  }

  async #loadPrincipal(id: number): Promise<void> {
    const p = await this.#options.directory.getPrincipal(id);
    if (p === undefined) {
      this.#principals.delete(id);
      this.#members.delete(id);
      return;
    }
    this.#principals.set(id, p);
    if (p.kind === 'group') {
      this.#members.set(
        id,
        (await this.#options.directory.members(id)).map((m) => m.id),
      );
    } else this.#members.delete(id);
  }
}
