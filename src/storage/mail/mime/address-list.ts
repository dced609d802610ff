/**
 * Address lists (RFC 5322 §3.4) as ENVELOPE addresses (RFC 9051 §7.5.2): mailboxes, groups
 * (a group is its name and members), routes (obs-route, the address's adl). Names stay as
 * written (quoted strings unescaped, encoded words not decoded: clients decode them, as with
 * Dovecot). Broken addresses degrade the way Dovecot shows them: a missing local part is
 * MISSING_MAILBOX, a missing domain MISSING_DOMAIN, `<local@>` SYNTAX_ERROR.
 */

import type {
  EnvelopeAddress,
  EnvelopeAddressEntry,
} from '../../../protocols/imap/compose/envelope.ts';
import { ADDRESS_SPECIALS, tokenize } from './structured-value.ts';
import type { Token } from './structured-value.ts';

/** An address with a route (`adl`), which the compose type does not carry by name. */
export interface RoutedAddress extends EnvelopeAddress {
  readonly adl?: string;
}

export const MISSING_MAILBOX = 'MISSING_MAILBOX';
export const MISSING_DOMAIN = 'MISSING_DOMAIN';
export const SYNTAX_ERROR = 'SYNTAX_ERROR';

const MAX_ADDRESSES = 1000;

function isSpecial(t: Token | undefined, chars: string): boolean {
  return t !== undefined && t.kind === 'special' && chars.includes(t.text);
}

/** Phrase text: words joined with single spaces where the source had whitespace. */
function phraseText(words: readonly Token[]): string {
  let out = '';
  for (const [i, w] of words.entries()) {
    if (i > 0 && w.space) out += ' ';
    out += w.text;
  }
  return out;
}

/** Local part or domain text: tokens joined without spaces; quoted parts keep quotes. */
function addrText(words: readonly Token[]): string {
  return words
    .map((w) => (w.kind === 'quoted' ? `"${w.text.replace(/(["\\])/g, '\\$1')}"` : w.text))
    .join('');
}

class AddressParser {
  readonly #t: Token[];
  #i = 0;

  constructor(value: string) {
    this.#t = tokenize(value, ADDRESS_SPECIALS);
  }

  #peek(): Token | undefined {
    return this.#t[this.#i];
  }

  /** The whole list. */
  list(): EnvelopeAddressEntry[] {
    const out: EnvelopeAddressEntry[] = [];
    while (this.#i < this.#t.length && out.length < MAX_ADDRESSES) {
      if (isSpecial(this.#peek(), ',;>')) {
        this.#i++;
        continue;
      }
      const before = this.#i;
      const entry = this.#mailboxOrGroup(true);
      if (entry !== null) out.push(entry);
      if (this.#i === before) this.#i++;
    }
    return out;
  }

  /** Words (atoms, quoted strings, dots) up to one of `stops`; comments skipped. */
  #words(stops: string): Token[] {
    const words: Token[] = [];
    for (let t = this.#peek(); t !== undefined; t = this.#peek()) {
      if (t.kind === 'comment') {
        this.#i++;
        continue;
      }
      if (t.kind === 'special' && stops.includes(t.text)) break;
      words.push(t);
      this.#i++;
    }
    return words;
  }

  /** The first comment before the next ',' ';' or end, consuming everything up to there. */
  #trailingComment(): string | null {
    let comment: string | null = null;
    for (let t = this.#peek(); t !== undefined && !isSpecial(t, ',;'); t = this.#peek()) {
      if (t.kind === 'comment' && comment === null) comment = t.text.trim();
      this.#i++;
    }
    return comment === '' ? null : comment;
  }

  #mailboxOrGroup(allowGroup: boolean): EnvelopeAddressEntry | null {
    const words = this.#words(allowGroup ? '<:@,;' : '<@,;');
    const next = this.#peek();
    if (allowGroup && isSpecial(next, ':')) {
      this.#i++;
      const members: EnvelopeAddress[] = [];
      while (this.#i < this.#t.length && !isSpecial(this.#peek(), ';')) {
        if (isSpecial(this.#peek(), ',')) {
          this.#i++;
          continue;
        }
        const before = this.#i;
        const member = this.#mailboxOrGroup(false);
        if (member !== null && !('group' in member) && members.length < MAX_ADDRESSES) {
          members.push(member);
        }
        if (this.#i === before) this.#i++;
      }
      if (isSpecial(this.#peek(), ';')) this.#i++;
      return { group: phraseText(words), members };
    }
    if (isSpecial(next, '<')) {
      this.#i++;
      return this.#angleAddr(words.length > 0 ? phraseText(words) : null);
    }
    if (isSpecial(next, '@')) {
      this.#i++;
      const domain = this.#domain(',;');
      const name = this.#trailingComment();
      return {
        name,
        mailbox: words.length > 0 ? addrText(words) : MISSING_MAILBOX,
        host: domain === '' ? MISSING_DOMAIN : domain,
      };
    }
    // A phrase alone: one bare atom is a local part without domain, anything else a name.
    if (words.length === 0) return null;
    const only = words[0];
    if (words.length === 1 && only !== undefined && only.kind === 'atom') {
      return { name: null, mailbox: only.text, host: MISSING_DOMAIN };
    }
    return { name: phraseText(words), mailbox: MISSING_MAILBOX, host: MISSING_DOMAIN };
  }

  /** Domain: atoms, dots and literals, stopping at whitespace between two atoms. */
  #domain(stops: string): string {
    const parts: Token[] = [];
    for (let t = this.#peek(); t !== undefined; t = this.#peek()) {
      if (t.kind === 'comment' || (t.kind === 'special' && stops.includes(t.text))) break;
      const last = parts[parts.length - 1];
      if (last !== undefined && t.space && last.text !== '.' && t.text !== '.') break;
      if (t.kind === 'special' && t.text !== '.') break;
      parts.push(t);
      this.#i++;
    }
    return addrText(parts);
  }

  /** After '<': [route ':'] local ['@' domain] '>'. */
  #angleAddr(name: string | null): RoutedAddress {
    let adl: string | undefined;
    if (isSpecial(this.#peek(), '@')) {
      const route: Token[] = [];
      for (let t = this.#peek(); t !== undefined && !isSpecial(t, ':>'); t = this.#peek()) {
        if (t.kind !== 'comment') route.push(t);
        this.#i++;
      }
      if (isSpecial(this.#peek(), ':')) {
        this.#i++;
        adl = addrText(route);
      }
    }
    const local = this.#words('@>,;');
    let host = MISSING_DOMAIN;
    if (isSpecial(this.#peek(), '@')) {
      this.#i++;
      const domain = this.#domain('>,;');
      host = domain === '' ? SYNTAX_ERROR : domain;
    }
    // Skip to the closing '>' (garbage inside is ignored), then trailing comments.
    while (this.#i < this.#t.length && !isSpecial(this.#peek(), '>,;')) this.#i++;
    if (isSpecial(this.#peek(), '>')) this.#i++;
    this.#trailingComment();
    const address: RoutedAddress = {
      name,
      mailbox: local.length > 0 ? addrText(local) : MISSING_MAILBOX,
      host,
    };
    return adl === undefined ? address : { ...address, adl };
  }
}

/** Parse an address list header value; [] when it holds no address. */
export function parseAddressList(value: string): EnvelopeAddressEntry[] {
  return new AddressParser(value).list();
}
