/**
 * Distinguished names (RFC 4514 string form, RFC 4512 §2.3 structure).
 *
 * A Dn is the list of its RDNs from the leftmost (the entry's own RDN) to the rightmost (the
 * naming context's top); the empty list is the root DSE. Each RDN is one or more
 * attribute-type-and-value pairs (`cn=A+uid=b`).
 *
 * `parseDn` accepts RFC 4514 strings (escapes `\,` and `\2C`, `#` hex BER values) and, to
 * be forgiving with clients, spaces around separators and `;` as an RDN separator (RFC 2253
 * §4). It is bounded: input length, RDN count and AVAs per RDN are capped. `formatDn` writes
 * the RFC 4514 form with escaping. `normalizeDn` gives the canonical string used to compare
 * DNs and as a map key: attribute types lower-cased with known OIDs and long names mapped to
 * their short names, values prepared with caseIgnoreMatch (every attribute we name entries
 * by, uid/cn/ou/dc/o, is case-insensitive), multi-valued RDNs sorted.
 * Bad input throws CommuneError('invalid-argument'); the LDAP server maps it to
 * invalidDNSyntax (RFC 4511 §4.1.9).
 */

import { CommuneError } from '../../core/errors.ts';
import { prepareCaseIgnore } from './string-prep.ts';

export interface Ava {
  /** Attribute type as written (descr or numeric OID). */
  readonly type: string;
  readonly value: string;
}

export type Rdn = readonly Ava[];

/** RDNs from the leftmost (most specific) to the rightmost; [] is the root DSE. */
export type Dn = readonly Rdn[];

export interface DnLimits {
  /** Longest accepted DN string, in UTF-16 code units. */
  readonly maxLength?: number;
  readonly maxRdns?: number;
  readonly maxAvasPerRdn?: number;
}

const DEFAULT_MAX_LENGTH = 8192;
const DEFAULT_MAX_RDNS = 64;
const DEFAULT_MAX_AVAS = 16;

/** Long names and OIDs of the naming attributes, mapped to the short name we normalise to. */
const TYPE_ALIASES: ReadonlyMap<string, string> = new Map([
  ['2.5.4.3', 'cn'],
  ['commonname', 'cn'],
  ['2.5.4.4', 'sn'],
  ['surname', 'sn'],
  ['2.5.4.6', 'c'],
  ['countryname', 'c'],
  ['2.5.4.7', 'l'],
  ['localityname', 'l'],
  ['2.5.4.8', 'st'],
  ['stateorprovincename', 'st'],
  ['2.5.4.9', 'street'],
  ['streetaddress', 'street'],
  ['2.5.4.10', 'o'],
  ['organizationname', 'o'],
  ['2.5.4.11', 'ou'],
  ['organizationalunitname', 'ou'],
  ['2.5.4.12', 'title'],
  ['2.5.4.42', 'givenname'],
  ['0.9.2342.19200300.100.1.1', 'uid'],
  ['userid', 'uid'],
  ['0.9.2342.19200300.100.1.25', 'dc'],
  ['domaincomponent', 'dc'],
  ['0.9.2342.19200300.100.1.3', 'mail'],
  ['rfc822mailbox', 'mail'],
]);

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function invalid(text: string, why: string): CommuneError {
  const shown = text.length > 80 ? `${text.slice(0, 80)}...` : text;
  return new CommuneError('invalid-argument', `invalid DN "${shown}": ${why}`);
}

const isSpace = (c: string | undefined): boolean => c === ' ';
const isAlpha = (c: string | undefined): boolean =>
  c !== undefined && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'));
const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';
const isHex = (c: string | undefined): boolean => c !== undefined && /^[0-9a-fA-F]$/.test(c);

/** Characters that may follow a backslash as themselves (RFC 4514 §3 `special` and `\`). */
const ESCAPABLE = new Set(['\\', ' ', '#', '=', '"', '+', ',', ';', '<', '>']);

/** Parse an RFC 4514 DN string. */
export function parseDn(text: string, limits: DnLimits = {}): Dn {
  const maxLength = limits.maxLength ?? DEFAULT_MAX_LENGTH;
  const maxRdns = limits.maxRdns ?? DEFAULT_MAX_RDNS;
  const maxAvas = limits.maxAvasPerRdn ?? DEFAULT_MAX_AVAS;
  if (text.length > maxLength) throw invalid(text, `longer than ${maxLength} characters`);

  let pos = 0;
  const skipSpaces = (): void => {
    while (isSpace(text[pos])) pos++;
  };
  const readNumericOid = (): string => {
    const start = pos;
    if (!isDigit(text[pos])) throw invalid(text, `expected an attribute type at ${pos}`);
    while (isDigit(text[pos])) pos++;
    while (text[pos] === '.' && isDigit(text[pos + 1])) {
      pos++;
      while (isDigit(text[pos])) pos++;
    }
    return text.slice(start, pos);
  };

  // step: the empty DN (only spaces) names the root DSE
  skipSpaces();
  if (pos === text.length) return [];

  const rdns: Rdn[] = [];
  let rdn: Ava[] = [];
  while (true) {
    // step: attribute type, descr or numericoid (with the legacy "OID." prefix)
    skipSpaces();
    const typeStart = pos;
    let type: string;
    if (isAlpha(text[pos])) {
      pos++;
      while (isAlpha(text[pos]) || isDigit(text[pos]) || text[pos] === '-') pos++;
      type = text.slice(typeStart, pos);
      if (type.toLowerCase() === 'oid' && text[pos] === '.') {
        pos++;
        type = readNumericOid();
      }
    } else {
      type = readNumericOid();
    }
    skipSpaces();
    if (text[pos] !== '=') throw invalid(text, `expected "=" at ${pos}`);
    pos++;
    skipSpaces();

    // step: attribute value, a #hexstring or an escaped string
    let value: string;
    if (text[pos] === '#') {
      pos++;
      const hexStart = pos;
      while (isHex(text[pos]) && isHex(text[pos + 1])) pos += 2;
      if (pos === hexStart) throw invalid(text, `expected hex pairs at ${pos}`);
      value = berStringValue(text, text.slice(hexStart, pos));
      skipSpaces();
    } else {
      const bytes: number[] = [];
      let keep = 0; // bytes up to the last significant (non-space or escaped) octet
      while (pos < text.length) {
        const c = text[pos] ?? '';
        if (c === ',' || c === ';' || c === '+') break;
        if (c === '\\') {
          const next = text[pos + 1];
          if (isHex(next) && isHex(text[pos + 2])) {
            bytes.push(parseInt(text.slice(pos + 1, pos + 3), 16));
            pos += 3;
          } else if (next !== undefined && ESCAPABLE.has(next)) {
            bytes.push(next.charCodeAt(0));
            pos += 2;
          } else {
            throw invalid(text, `bad escape at ${pos}`);
          }
          keep = bytes.length;
          continue;
        }
        if (c === '"' || c === '\0')
          throw invalid(text, `unescaped ${JSON.stringify(c)} at ${pos}`);
        // step: one code point as UTF-8 (surrogate pairs together)
        const cp = text.codePointAt(pos) ?? 0;
        const ch = String.fromCodePoint(cp);
        for (const b of utf8.encode(ch)) bytes.push(b);
        if (c !== ' ') keep = bytes.length;
        pos += ch.length;
      }
      try {
        value = strictUtf8.decode(Uint8Array.from(bytes.slice(0, keep)));
      } catch {
        throw invalid(text, 'value is not valid UTF-8');
      }
    }
    rdn.push({ type, value });
    if (rdn.length > maxAvas) throw invalid(text, `more than ${maxAvas} values in one RDN`);

    // step: separator
    if (pos === text.length) break;
    const sep = text[pos];
    pos++;
    if (sep === '+') continue;
    if (sep !== ',' && sep !== ';')
      throw invalid(text, `unexpected ${JSON.stringify(sep)} at ${pos - 1}`);
    rdns.push(rdn);
    rdn = [];
    if (rdns.length >= maxRdns) throw invalid(text, `more than ${maxRdns} RDNs`);
  }
  rdns.push(rdn);
  return rdns;
}

/** Decode a `#` hexstring value: the BER encoding of a string type (RFC 4514 §2.4). */
function berStringValue(text: string, hex: string): string {
  const bytes = Uint8Array.from(hex.match(/../g) ?? [], (h) => parseInt(h, 16));
  const tag = bytes[0];
  const len = bytes[1];
  // step: short-form primitive OCTET STRING, UTF8String, PrintableString, IA5String
  if (
    (tag === 0x04 || tag === 0x0c || tag === 0x13 || tag === 0x16) &&
    len !== undefined &&
    len < 0x80 &&
    bytes.length === len + 2
  ) {
    try {
      return strictUtf8.decode(bytes.subarray(2));
    } catch {
      throw invalid(text, 'hex value is not valid UTF-8');
    }
  }
  throw invalid(text, 'unsupported #hex value');
}

/** Escape a value for the RFC 4514 string form (§2.4). */
export function escapeDnValue(value: string): string {
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i] ?? '';
    if (c === '\0') out += '\\00';
    else if ('"+,;<>\\'.includes(c)) out += `\\${c}`;
    else if ((i === 0 && (c === ' ' || c === '#')) || (i === value.length - 1 && c === ' ')) {
      out += `\\${c}`;
    } else out += c;
  }
  return out;
}

/** The RFC 4514 string form of a DN. */
export function formatDn(dn: Dn): string {
  return dn.map((rdn) => rdn.map((a) => `${a.type}=${escapeDnValue(a.value)}`).join('+')).join(',');
}

/** Canonical attribute type: lower-cased, OIDs and long names mapped to the short name. */
export function normalizeAttributeType(type: string): string {
  const lower = type.toLowerCase();
  return TYPE_ALIASES.get(lower) ?? lower;
}

function normalizeRdn(rdn: Rdn): string {
  const parts = rdn.map(
    (a) => `${normalizeAttributeType(a.type)}=${escapeDnValue(prepareCaseIgnore(a.value))}`,
  );
  return parts.length === 1 ? (parts[0] ?? '') : parts.sort().join('+');
}

function toDn(dn: Dn | string): Dn {
  return typeof dn === 'string' ? parseDn(dn) : dn;
}

/** The canonical string of a DN, for comparisons and map keys. */
export function normalizeDn(dn: Dn | string): string {
  return toDn(dn).map(normalizeRdn).join(',');
}

/** distinguishedNameMatch (RFC 4517 §4.2.15) under our normalisation. */
export function dnEquals(a: Dn | string, b: Dn | string): boolean {
  const x = toDn(a);
  const y = toDn(b);
  return x.length === y.length && normalizeDn(x) === normalizeDn(y);
}

/**
 * True when `dn` lies below `ancestor` in the tree (strictly, unless `orSelf`). Every DN is
 * below the root DSE ([]).
 */
export function isDescendant(dn: Dn | string, ancestor: Dn | string, orSelf = false): boolean {
  const d = toDn(dn);
  const a = toDn(ancestor);
  if (d.length < a.length || (d.length === a.length && !orSelf)) return false;
  const offset = d.length - a.length;
  for (let i = 0; i < a.length; i++) {
    const ar = a[i];
    const dr = d[offset + i];
    if (ar === undefined || dr === undefined || normalizeRdn(ar) !== normalizeRdn(dr)) return false;
  }
  return true;
}

/** The parent DN, or undefined for the root DSE. */
export function parentDn(dn: Dn | string): Dn | undefined {
  const d = toDn(dn);
  return d.length === 0 ? undefined : d.slice(1);
}

/** A child DN: `rdn` under `parent`. */
export function childDn(rdn: Rdn, parent: Dn | string): Dn {
  if (rdn.length === 0)
    throw new CommuneError('invalid-argument', 'an RDN needs at least one value');
  return [rdn, ...toDn(parent)];
}
