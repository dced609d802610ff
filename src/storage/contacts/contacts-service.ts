/**
 * The contacts domain service (RFC 6352 semantics, written once for CardDAV and later JMAP):
 * address books per account (a default one made on first access), vCards validated on write
 * (one UID per resource and per address book, size limit) and stored as sent, queries with
 * CardDAV filters and per-address-book change lists for sync.
 */

import { CommuneError } from '../../core/errors.ts';
import { mapLimited } from '../../core/map-limited.ts';
import { Subspace } from '../keys.ts';
import type { Storage } from '../storage.ts';
import { matchProp, type PropFilter } from '../calendar/calendar-filter.ts';
import {
  CollectionStore,
  type CollectionRecord,
  type ResourceChange,
  type ResourceRecord,
  type Versioned,
} from '../calendar/collection-store.ts';
import { CardDataError, parseVCard, validateVCard } from './vcard-object.ts';

export const DEFAULT_ADDRESSBOOK = 'default';

/** An addressbook-query filter (RFC 6352 §10.5). */
export interface CardFilter {
  readonly test: 'anyof' | 'allof';
  readonly props: readonly PropFilter[];
}

export interface CardMatch {
  readonly resource: Versioned<ResourceRecord>;
  readonly text: string;
}

export class ContactsService {
  readonly store: CollectionStore;
  readonly maxResourceSize: number;

  constructor(options: { storage: Storage; maxResourceSize?: number; now?: () => number }) {
    this.store = new CollectionStore({
      storage: options.storage,
      subspace: Subspace.contacts,
      family: 'addressbook',
      ...(options.now ? { now: options.now } : {}),
    });
    this.maxResourceSize = options.maxResourceSize ?? 1024 * 1024;
  }

  ensureHome(account: number): Promise<void> {
    return this.store.ensureHome(account, new Map([[DEFAULT_ADDRESSBOOK, { props: {} }]]));
  }

  addressBooks(account: number): Promise<Versioned<CollectionRecord>[]> {
    return this.store.listCollections(account);
  }

  addressBook(account: number, name: string): Promise<Versioned<CollectionRecord> | undefined> {
    return this.store.getCollection(account, name);
  }

  createAddressBook(
    account: number,
    name: string,
    props: ReadonlyMap<string, string>,
  ): Promise<Versioned<CollectionRecord>> {
    if (name === '' || name.includes('/')) {
      throw new CommuneError('invalid-argument', 'invalid address book name');
    }
    return this.store.createCollection(account, name, { props: Object.fromEntries(props) });
  }

  /** Store a vCard after validating it (RFC 6352 §6.3.2.1). */
  async put(
    account: number,
    book: string,
    name: string,
    text: Uint8Array,
    options: {
      contentType: string;
      check?: (existing: Versioned<ResourceRecord> | undefined) => void;
    },
  ): Promise<{ resource: Versioned<ResourceRecord>; created: boolean }> {
    const mime = options.contentType.split(';')[0]?.trim().toLowerCase();
    if (mime !== 'text/vcard' && mime !== 'text/x-vcard') {
      throw new CardDataError('supported-address-data', 'only text/vcard is stored here');
    }
    if (text.length > this.maxResourceSize) {
      throw new CardDataError('max-resource-size', 'the vCard is too large');
    }
    let source: string;
    try {
      source = new TextDecoder('utf-8', { fatal: true }).decode(text);
    } catch {
      throw new CardDataError('supported-address-data', 'vCard data must be UTF-8');
    }
    const parsed = validateVCard(source);
    return this.store.putResource(account, book, name, {
      text,
      uid: parsed.uid,
      component: 'VCARD',
      contentType: 'text/vcard; charset=utf-8',
      ...(options.check ? { check: options.check } : {}),
    });
  }

  /** addressbook-query (RFC 6352 §8.6): matching cards, at most `limit` (then truncated). */
  async query(
    account: number,
    book: string,
    filter: CardFilter,
    limit?: number,
  ): Promise<{ matches: CardMatch[]; truncated: boolean }> {
    const matches: CardMatch[] = [];
    const resources = await this.store.listResources(account, book);
    // The contents, read side by side (most are in the store's text cache)
    const texts = await mapLimited(resources, 16, (r) => this.store.text(r));
    for (const [i, resource] of resources.entries()) {
      const text = texts[i] as string;
      if (filter.props.length > 0) {
        const card = parseVCard(text);
        const results = filter.props.map((pf) => matchProp(card, pf));
        const ok = filter.test === 'allof' ? results.every(Boolean) : results.some(Boolean);
        if (!ok) continue;
      }
      if (limit !== undefined && matches.length >= limit) return { matches, truncated: true };
      matches.push({ resource, text });
    }
    return { matches, truncated: false };
  }

  remove(
    account: number,
    book: string,
    name: string,
    check?: (existing: Versioned<ResourceRecord> | undefined) => void,
  ): Promise<void> {
    return this.store.removeResource(account, book, name, check);
  }

  changesSince(account: number, book: string, since: bigint): Promise<ResourceChange[]> {
    return this.store.changesSince(account, book, since);
  }
}
