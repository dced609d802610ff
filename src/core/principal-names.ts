/**
 * One identity, every protocol: the names a principal goes by on each wire, derived by pure
 * functions from its kind and primary address so that every protocol agrees.
 *
 *   LDAP DN        uid=alice,ou=people,dc=example,dc=test   (groups: cn=<local>,ou=groups;
 *                  resources and rooms: cn=<local>,ou=resources)
 *   DAV principal  /dav/principals/alice@example.test/
 *   AP actor       https://<hostname>/social/actors/alice@example.test
 *   SIP URI        sip:alice@example.test
 *
 * `principalAddressFromDn` is the inverse for LDAP (bind names, member assertions).
 */

import { parseDn } from '../protocols/ldap/dn.ts';
import type { Dn } from '../protocols/ldap/dn.ts';
import type { Principal, PrincipalKind } from './principal.ts';

/** What naming needs of a principal. */
export type NamedPrincipal = Pick<Principal, 'kind' | 'address'>;

/** The organisational unit each kind lives under in the LDAP tree. */
export type LdapContainer = 'people' | 'groups' | 'resources';

/** Container and naming attribute per kind. */
const LDAP_PLACE: Readonly<Record<PrincipalKind, { ou: LdapContainer; attr: 'uid' | 'cn' }>> = {
  individual: { ou: 'people', attr: 'uid' },
  group: { ou: 'groups', attr: 'cn' },
  resource: { ou: 'resources', attr: 'cn' },
  room: { ou: 'resources', attr: 'cn' },
};

/** Which kinds a container holds. */
const KINDS_IN: Readonly<Record<LdapContainer, readonly PrincipalKind[]>> = {
  people: ['individual'],
  groups: ['group'],
  resources: ['resource', 'room'],
};

function splitAddress(address: string): { local: string; domain: string } {
  const at = address.lastIndexOf('@');
  return { local: address.slice(0, at), domain: address.slice(at + 1) };
}

/** Escape an attribute value for an RFC 4514 DN string (§2.4). */
function escapeRdnValue(value: string): string {
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i] ?? '';
    if ('"+,;<>\\'.includes(c)) out += `\\${c}`;
    else if ((i === 0 && (c === ' ' || c === '#')) || (i === value.length - 1 && c === ' ')) {
      out += `\\${c}`;
    } else out += c;
  }
  return out;
}

/** The naming context of a mail domain (RFC 2247): `example.test` -> `dc=example,dc=test`. */
export function ldapBaseDn(domain: string): string {
  return domain
    .toLowerCase()
    .split('.')
    .map((label) => `dc=${escapeRdnValue(label)}`)
    .join(',');
}

/** The DN of a container entry of a domain: `ou=people,dc=example,dc=test`. */
export function ldapContainerDn(domain: string, container: LdapContainer): string {
  return `ou=${container},${ldapBaseDn(domain)}`;
}

/** The container a principal's entry lives in. */
export function ldapContainerOf(kind: PrincipalKind): LdapContainer {
  return LDAP_PLACE[kind].ou;
}

/** The LDAP DN of a principal's entry: `uid=alice,ou=people,dc=example,dc=test`. */
export function ldapDn(principal: NamedPrincipal): string {
  const { local, domain } = splitAddress(principal.address);
  const place = LDAP_PLACE[principal.kind];
  return `${place.attr}=${escapeRdnValue(local)},${ldapContainerDn(domain, place.ou)}`;
}

/** What an LDAP DN names, when it has the shape of a principal's entry. */
export interface DnPrincipalRef {
  /** Lower-case `local@domain`. */
  readonly address: string;
  /** The kinds an entry in that container can be. */
  readonly kinds: readonly PrincipalKind[];
}

/**
 * The inverse of `ldapDn`: the address named by `uid=<local>,ou=people,dc=...` (or
 * `cn=<local>,ou=groups|resources,dc=...`), case-insensitive, long type names and OIDs
 * accepted. Undefined for anything else, including strings that are not DNs.
 */
export function principalAddressFromDn(dn: string): DnPrincipalRef | undefined {
  let rdns: Dn;
  try {
    rdns = parseDn(dn);
  } catch {
    return undefined;
  }
  const [leaf, container, ...dcs] = rdns;
  if (leaf?.length !== 1 || container?.length !== 1 || dcs.length === 0) return undefined;
  const [own] = leaf;
  const [ou] = container;
  if (own === undefined || ou === undefined || typeName(ou.type) !== 'ou') return undefined;
  const place = ou.value.trim().toLowerCase();
  if (place !== 'people' && place !== 'groups' && place !== 'resources') return undefined;
  if (typeName(own.type) !== (place === 'people' ? 'uid' : 'cn')) return undefined;
  const labels: string[] = [];
  for (const rdn of dcs) {
    const [dc] = rdn;
    if (rdn.length !== 1 || dc === undefined || typeName(dc.type) !== 'dc') return undefined;
    labels.push(dc.value.trim().toLowerCase());
  }
  const local = own.value.trim().toLowerCase();
  if (local === '' || labels.some((l) => l === '')) return undefined;
  return { address: `${local}@${labels.join('.')}`, kinds: KINDS_IN[place] };
}

/** Canonical short name of the naming attribute types we use. */
function typeName(type: string): string {
  const t = type.toLowerCase();
  switch (t) {
    case 'userid':
    case '0.9.2342.19200300.100.1.1':
      return 'uid';
    case 'commonname':
    case '2.5.4.3':
      return 'cn';
    case 'organizationalunitname':
    case '2.5.4.11':
      return 'ou';
    case 'domaincomponent':
    case '0.9.2342.19200300.100.1.25':
      return 'dc';
    default:
      return t;
  }
}

/** The DAV principal URL path (RFC 3744 §2): `/dav/principals/alice@example.test/`. */
export function davPrincipalPath(principal: NamedPrincipal): string {
  return `/dav/principals/${encodeSegment(principal.address)}/`;
}

/** The inverse of `davPrincipalPath` on a decoded path: the address, or undefined. */
export function davPrincipalAddress(path: string): string | undefined {
  const m = /^\/dav\/principals\/([^/]+@[^/]+)\/?$/.exec(path);
  return m ? (m[1] as string).toLowerCase() : undefined;
}

/** The ActivityPub actor id: `https://<hostname>/social/actors/alice@example.test`. */
export function activityPubActor(principal: NamedPrincipal, hostname: string): string {
  return `https://${hostname.toLowerCase()}/social/actors/${encodeSegment(principal.address)}`;
}

/**
 * The SIP address of record (RFC 3261 §19.1.1): `sip:alice@example.test`. Local-part
 * characters outside the SIP `user` production are %-escaped.
 */
export function sipUri(principal: NamedPrincipal): string {
  const { local, domain } = splitAddress(principal.address);
  const user = local.replace(
    /[^A-Za-z0-9\-_.!~*'()&=+$,;?/]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`,
  );
  return `sip:${user}@${domain}`;
}

/** A URL path segment that keeps `@` readable (RFC 3986 §3.3 allows it in pchar). */
function encodeSegment(value: string): string {
  return encodeURIComponent(value).replaceAll('%40', '@');
}
