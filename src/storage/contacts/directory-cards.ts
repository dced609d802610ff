/**
 * The global address book generated from the Directory: one vCard 4.0 (RFC 6350) per enabled
 * principal of a domain (FN, N, EMAIL for every address, TEL, TITLE, ORG; KIND:group with
 * MEMBER for groups), never stored, so read-only. Its version is the change id of the
 * directory change log (account 0, collection 'directory'), which also tells what changed.
 */

import { createHash } from 'node:crypto';
import type { Principal, PrincipalKind } from '../../core/principal.ts';
import { currentChangeId, readChanges } from '../change-log.ts';
import type { Storage } from '../storage.ts';
import { matchProp } from '../calendar/calendar-filter.ts';
import { DIRECTORY_ACCOUNT, DIRECTORY_COLLECTION, type Directory } from '../directory/directory.ts';
import type { CardFilter } from './contacts-service.ts';
import { parseVCard } from './vcard-object.ts';

export interface DirectoryCard {
  readonly principalId: number;
  /** Resource name: `<principal id>.vcf`. */
  readonly name: string;
  readonly text: string;
  /** Strong entity tag of the text, quoted. */
  readonly etag: string;
  readonly modified: Date;
}

const SUFFIX = '.vcf';

/** A stable `urn:uuid:` for a principal (name-based, so every server run agrees). */
export function principalUid(id: number): string {
  const h = createHash('sha1').update(`commune:principal:${id}`).digest('hex');
  const variant = ((parseInt(h[16] ?? '0', 16) & 0x3) | 0x8).toString(16);
  return `urn:uuid:${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** The principal id of a card name, or undefined when it is not one. */
export function cardPrincipalId(name: string): number | undefined {
  if (!name.endsWith(SUFFIX)) return undefined;
  const digits = name.slice(0, -SUFFIX.length);
  if (!/^[1-9]\d{0,15}$/.test(digits)) return undefined;
  return Number(digits);
}

const KIND: Readonly<Record<PrincipalKind, string>> = {
  individual: 'individual',
  group: 'group',
  resource: 'individual',
  room: 'location',
};

/** RFC 6350 §3.4 text escaping; `component` also escapes the structured-value separator. */
function esc(value: string, component = false): string {
  const s = value.replace(/\\/g, '\\\\').replace(/\r?\n/g, '\\n').replace(/,/g, '\\,');
  return component ? s.replace(/;/g, '\\;') : s;
}

function fold(line: string): string {
  const chars = [...line];
  if (chars.length <= 75) return line;
  const parts: string[] = [];
  for (let i = 0; i < chars.length; i += 74) parts.push(chars.slice(i, i + 74).join(''));
  return parts.join('\r\n ');
}

/** The vCard 4.0 of a principal; `members` for groups. */
export function principalCard(p: Principal, members: readonly Principal[] = []): string {
  const fn = p.displayName.trim() || p.address;
  const lines = ['BEGIN:VCARD', 'VERSION:4.0', `UID:${principalUid(p.id)}`, `KIND:${KIND[p.kind]}`];
  lines.push(`FN:${esc(fn)}`);
  if (p.kind === 'individual' && p.displayName.trim().includes(' ')) {
    const words = p.displayName.trim().split(/\s+/);
    const family = words.pop() ?? '';
    lines.push(`N:${esc(family, true)};${esc(words.join(' '), true)};;;`);
  } else {
    lines.push(`N:${esc(fn, true)};;;;`);
  }
  p.addresses.forEach((a, i) => {
    lines.push(`EMAIL;TYPE=work${i === 0 ? ';PREF=1' : ''}:${esc(a)}`);
  });
  const profile = p.profile ?? {};
  if (profile.phone) lines.push(`TEL;TYPE=work,voice:${esc(profile.phone)}`);
  if (profile.mobile) lines.push(`TEL;TYPE=cell:${esc(profile.mobile)}`);
  if (profile.title) lines.push(`TITLE:${esc(profile.title)}`);
  if (profile.organization || profile.department) {
    const org = [profile.organization ?? '', profile.department ?? ''];
    lines.push(`ORG:${org.map((o) => esc(o, true)).join(';')}`);
  }
  for (const m of members) lines.push(`MEMBER:${principalUid(m.id)}`);
  lines.push('END:VCARD');
  return `${lines.map(fold).join('\r\n')}\r\n`;
}

export class DirectoryCards {
  readonly #directory: Directory;
  readonly #storage: Storage;

  constructor(options: { directory: Directory; storage: Storage }) {
    this.#directory = options.directory;
    this.#storage = options.storage;
  }

  async #card(p: Principal): Promise<DirectoryCard> {
    const members = p.kind === 'group' ? await this.#directory.members(p.id) : [];
    const text = principalCard(
      p,
      members.filter((m) => !m.disabled && m.domain === p.domain),
    );
    const etag = createHash('sha256').update(text).digest('base64url').slice(0, 22);
    return {
      principalId: p.id,
      name: `${p.id}${SUFFIX}`,
      text,
      etag: `"${etag}"`,
      modified: new Date(p.createdAt),
    };
  }

  #visible(p: Principal | undefined, domain: string): p is Principal {
    return p !== undefined && p.domain === domain && !p.disabled;
  }

  /** Every card of a domain, by principal id. */
  async list(domain: string): Promise<DirectoryCard[]> {
    const principals = await this.#directory.listPrincipals({ domain });
    const out: DirectoryCard[] = [];
    for (const p of principals.sort((a, b) => a.id - b.id)) {
      if (this.#visible(p, domain)) out.push(await this.#card(p));
    }
    return out;
  }

  /** One card of a domain by resource name. */
  async get(domain: string, name: string): Promise<DirectoryCard | undefined> {
    const id = cardPrincipalId(name);
    if (id === undefined) return undefined;
    const p = await this.#directory.getPrincipal(id);
    return this.#visible(p, domain) ? this.#card(p) : undefined;
  }

  /** addressbook-query (RFC 6352 §8.6) over the domain's cards, at most `limit`. */
  async query(
    domain: string,
    filter: CardFilter,
    limit?: number,
  ): Promise<{ matches: DirectoryCard[]; truncated: boolean }> {
    const matches: DirectoryCard[] = [];
    for (const card of await this.list(domain)) {
      if (filter.props.length > 0) {
        const parsed = parseVCard(card.text);
        const results = filter.props.map((pf) => matchProp(parsed, pf));
        const ok = filter.test === 'allof' ? results.every(Boolean) : results.some(Boolean);
        if (!ok) continue;
      }
      if (limit !== undefined && matches.length >= limit) return { matches, truncated: true };
      matches.push(card);
    }
    return { matches, truncated: false };
  }

  /** The directory change id (sync token and getctag of the address book). */
  currentVersion(): Promise<bigint> {
    return currentChangeId(this.#storage.store, DIRECTORY_ACCOUNT);
  }

  /**
   * Cards of a domain touched after `since`, oldest first: those that exist now and those gone
   * (removed, disabled). Principals now in another domain are left out.
   */
  async changesSince(
    domain: string,
    since: bigint,
  ): Promise<{ changed: DirectoryCard[]; removed: string[] }> {
    const { changes } = await readChanges(this.#storage.store, DIRECTORY_ACCOUNT, since);
    const ids: number[] = [];
    for (const c of changes) {
      for (const e of c.entries) {
        if (e.collection !== DIRECTORY_COLLECTION || e.id.startsWith('domain:')) continue;
        const id = Number(e.id);
        if (Number.isSafeInteger(id) && !ids.includes(id)) ids.push(id);
      }
    }
    const changed: DirectoryCard[] = [];
    const removed: string[] = [];
    for (const id of ids) {
      const p: Principal | undefined = await this.#directory.getPrincipal(id);
      const elsewhere = p !== undefined && p.domain !== domain;
      if (this.#visible(p, domain)) changed.push(await this.#card(p));
      else if (!elsewhere) removed.push(`${id}${SUFFIX}`);
    }
    return { changed, removed };
  }
}
