/**
 * The read-only global address book (RFC 6352 §5.2 address book collection) mounted in every
 * address book home as `directory/`: the cards of the owner's domain, generated from the
 * Directory. It answers PROPFIND, GET, addressbook-query (§8.6), addressbook-multiget (§8.7)
 * and sync-collection (RFC 6578) with the directory change id; every write is refused with
 * 403 DAV:need-privileges (RFC 3744 §7.1.1), since the caller holds only DAV:read.
 */

import { Readable } from 'node:stream';
import { davPrincipalPath } from '../../../core/principal-names.ts';
import type { Principal } from '../../../core/principal.ts';
import type { DirectoryCard, DirectoryCards } from '../../../storage/contacts/directory-cards.ts';
import type { Directory } from '../../../storage/directory/directory.ts';
import type { HomeMount } from '../caldav/collection-home-tree.ts';
import { forEachHref } from '../caldav/calendar-multiget-report.ts';
import { parseAddressbookQuery } from './addressbook-query-report.ts';
import { DavError } from '../dav-error.ts';
import type {
  ContentTree,
  DavContext,
  DavNode,
  MutableTree,
  SyncChanges,
  SyncTree,
} from '../dav-node.ts';
import { liveProperty, type DavReport, type LiveProperty } from '../dav-plugin.ts';
import { MultistatusWriter } from '../multistatus.ts';
import { PrivilegeSet } from '../privileges.ts';
import { SYNC_TOKEN_PREFIX } from '../trees/files-tree.ts';
import { CARDDAV_NS, DAV_NS, clark } from '../xml.ts';
import {
  ADDRESS_DATA,
  parseAddressDataRequest,
  writeCardResponse,
} from './address-data-request.ts';

export const DIRECTORY_BOOK = 'directory';
const DISPLAY_NAME = 'Directory';

export interface DirectoryDavNode extends DavNode {
  readonly book: { readonly owner: Principal; readonly card?: DirectoryCard };
}

export function isDirectoryDavNode(node: DavNode): node is DirectoryDavNode {
  return (node as Partial<DirectoryDavNode>).book !== undefined;
}

function readOnly(message: string): DavError {
  return new DavError(403, message, { condition: { ns: DAV_NS, name: 'need-privileges' } });
}

/** The directory address book of every home under `root` (the address book home tree's). */
export class DirectoryAddressBook implements ContentTree, MutableTree, SyncTree, HomeMount {
  readonly name = DIRECTORY_BOOK;
  readonly prefix: string;
  readonly #cards: DirectoryCards;
  readonly #directory: Directory;

  constructor(options: { root: string; cards: DirectoryCards; directory: Directory }) {
    this.prefix = options.root;
    this.#cards = options.cards;
    this.#directory = options.directory;
  }

  bookPath(owner: Pick<Principal, 'address'>): string {
    return `${this.prefix}${owner.address}/${DIRECTORY_BOOK}/`;
  }

  bookNode(owner: Principal): DirectoryDavNode {
    return {
      path: this.bookPath(owner),
      collection: true,
      resourceTypes: [clark(CARDDAV_NS, 'addressbook')],
      etag: undefined,
      contentType: undefined,
      contentLength: undefined,
      lastModified: undefined,
      created: undefined,
      owner: davPrincipalPath(owner),
      tree: this,
      book: { owner },
    };
  }

  cardNode(owner: Principal, card: DirectoryCard): DirectoryDavNode {
    return {
      path: `${this.bookPath(owner)}${card.name}`,
      collection: false,
      resourceTypes: [],
      etag: card.etag,
      contentType: 'text/vcard; charset=utf-8',
      contentLength: Buffer.byteLength(card.text),
      lastModified: card.modified,
      created: card.modified,
      owner: davPrincipalPath(owner),
      tree: this,
      book: { owner, card },
    };
  }

  /** The book of `ctx`'s caller: only the home's owner gets here (the home tree checks). */
  #bookOf(node: DavNode): { owner: Principal; card: DirectoryCard | undefined } {
    if (!isDirectoryDavNode(node)) throw DavError.notFound();
    return { owner: node.book.owner, card: node.book.card };
  }

  // ---- HomeMount ----

  async node(
    _ctx: DavContext,
    owner: Principal,
    resource: string | undefined,
  ): Promise<DavNode | undefined> {
    if (resource === undefined) return this.bookNode(owner);
    const card = await this.#cards.get(owner.domain, resource);
    return card && this.cardNode(owner, card);
  }

  // ---- DavTree ----

  /** By path, for the caller's own book (nodes are normally found through the home tree). */
  async lookup(ctx: DavContext, path: string): Promise<DavNode | undefined> {
    const owner = await this.#directory.getPrincipal(ctx.access.principalId);
    if (!owner) return undefined;
    const book = this.bookPath(owner);
    if (`${path}/` === book) return this.bookNode(owner);
    if (!path.startsWith(book)) return undefined;
    const rest = path.slice(book.length);
    return this.node(ctx, owner, rest === '' ? undefined : rest);
  }

  async children(_ctx: DavContext, node: DavNode): Promise<DavNode[]> {
    const { owner, card } = this.#bookOf(node);
    if (card) return [];
    return (await this.#cards.list(owner.domain)).map((c) => this.cardNode(owner, c));
  }

  async privileges(ctx: DavContext, node: DavNode): Promise<PrivilegeSet> {
    const { owner } = this.#bookOf(node);
    if (owner.id !== ctx.access.principalId) return PrivilegeSet.none();
    return new PrivilegeSet(['read', 'read-current-user-privilege-set']);
  }

  // ---- ContentTree ----

  async readContent(_ctx: DavContext, node: DavNode): Promise<Readable> {
    const { card } = this.#bookOf(node);
    if (!card) throw DavError.notFound();
    return Readable.from([Buffer.from(card.text)]);
  }

  async writeContent(): Promise<{ node: DavNode; created: boolean }> {
    throw readOnly('the directory address book is read-only');
  }

  // ---- MutableTree (every change refused) ----

  async makeCollection(): Promise<DavNode> {
    throw readOnly('the directory address book is read-only');
  }

  async remove(): Promise<void> {
    throw readOnly('the directory address book is read-only');
  }

  async copy(): Promise<{ created: boolean }> {
    throw readOnly('the directory address book is read-only');
  }

  async move(): Promise<{ created: boolean }> {
    throw readOnly('the directory address book is read-only');
  }

  // ---- SyncTree ----

  async syncToken(_ctx: DavContext, node: DavNode): Promise<string | undefined> {
    if (!isDirectoryDavNode(node) || node.book.card) return undefined;
    return `${SYNC_TOKEN_PREFIX}${await this.#cards.currentVersion()}`;
  }

  async changes(
    _ctx: DavContext,
    node: DavNode,
    token: string | undefined,
    _level: 1 | 'infinity',
    limit: number | undefined,
  ): Promise<SyncChanges> {
    const { owner } = this.#bookOf(node);
    const current = await this.#cards.currentVersion();
    const invalid = (): DavError =>
      DavError.forbidden('unknown sync token', { ns: DAV_NS, name: 'valid-sync-token' });
    let changed: DirectoryCard[];
    let removed: string[] = [];
    // 1. Initial: every card now; else the directory changes since the token
    if (token === undefined) {
      changed = await this.#cards.list(owner.domain);
    } else {
      if (!token.startsWith(SYNC_TOKEN_PREFIX)) throw invalid();
      const digits = token.slice(SYNC_TOKEN_PREFIX.length);
      if (!/^\d{1,20}$/.test(digits)) throw invalid();
      const since = BigInt(digits);
      if (since > current) throw invalid();
      ({ changed, removed } = await this.#cards.changesSince(owner.domain, since));
    }
    // 2. Generated content has no partial cursor: over the limit is a 507 (RFC 6578 §3.6)
    if (limit !== undefined && changed.length + removed.length > limit) {
      throw new DavError(507, 'more changes than the limit', {
        condition: { ns: DAV_NS, name: 'number-of-matches-within-limits' },
      });
    }
    return {
      token: `${SYNC_TOKEN_PREFIX}${current}`,
      changed: changed.map((c) => this.cardNode(owner, c)),
      removed: removed.map((name) => `${this.bookPath(owner)}${name}`),
      truncated: false,
    };
  }
}

const isBook = (node: DavNode): boolean => isDirectoryDavNode(node) && !node.book.card;
const isCard = (node: DavNode): boolean => isDirectoryDavNode(node) && !!node.book.card;

/** Live properties of the directory book and its cards. */
export function directoryProperties(maxResourceSize: number): LiveProperty[] {
  return [
    liveProperty(clark(DAV_NS, 'displayname'), async () => ({ text: DISPLAY_NAME }), {
      inAllprop: true,
      applies: isBook,
    }),
    liveProperty(
      clark(CARDDAV_NS, 'addressbook-description'),
      async () => ({ text: 'Users and groups of the organisation' }),
      { applies: isBook },
    ),
    liveProperty(
      clark(CARDDAV_NS, 'supported-address-data'),
      async () => ({
        write: (w) => {
          for (const version of ['3.0', '4.0']) {
            w.leaf(CARDDAV_NS, 'address-data-type', undefined, [
              { ns: '', name: 'content-type', value: 'text/vcard' },
              { ns: '', name: 'version', value: version },
            ]);
          }
        },
      }),
      { applies: isBook },
    ),
    liveProperty(
      clark(CARDDAV_NS, 'max-resource-size'),
      async () => ({ text: String(maxResourceSize) }),
      { applies: isBook },
    ),
    liveProperty(
      ADDRESS_DATA,
      async (_dr, node) =>
        isDirectoryDavNode(node) && node.book.card ? { text: node.book.card.text } : undefined,
      { applies: isCard },
    ),
  ];
}

/** addressbook-query (RFC 6352 §8.6) on the directory book. */
export function directoryQueryReport(book: DirectoryAddressBook, cards: DirectoryCards): DavReport {
  return {
    name: clark(CARDDAV_NS, 'addressbook-query'),
    applies: (node) => node.tree === book && isBook(node),
    async run(dr, node, body) {
      const { test, props, limit } = parseAddressbookQuery(body);
      const request = parseAddressDataRequest(body);
      if (!isDirectoryDavNode(node)) throw DavError.notFound();
      const { owner } = node.book;
      const { matches, truncated } = await cards.query(owner.domain, { test, props }, limit);
      const out = new MultistatusWriter();
      for (const card of matches) {
        await writeCardResponse(
          dr,
          out,
          book.cardNode(owner, card),
          request,
          async () => card.text,
        );
      }
      if (truncated)
        out.status(node.path, 507, { ns: DAV_NS, name: 'number-of-matches-within-limits' });
      dr.sendXml(207, out.finish());
    },
  };
}

/** addressbook-multiget (RFC 6352 §8.7) on the directory book; unknown hrefs answer 404. */
export function directoryMultigetReport(book: DirectoryAddressBook): DavReport {
  return {
    name: clark(CARDDAV_NS, 'addressbook-multiget'),
    applies: (node) => node.tree === book,
    async run(dr, _node, body) {
      const request = parseAddressDataRequest(body);
      const out = new MultistatusWriter();
      await forEachHref(dr, body, out, async (path, member) => {
        if (!member || member.tree !== book || !isDirectoryDavNode(member) || !member.book.card) {
          out.status(path, 404);
          return;
        }
        const { text } = member.book.card;
        await writeCardResponse(dr, out, member, request, async () => text);
      });
      dr.sendXml(207, out.finish());
    },
  };
}

/** One report name served by two reports (the registry keys reports by name). */
export function eitherReport(first: DavReport, second: DavReport): DavReport {
  return {
    name: first.name,
    applies: (node) => first.applies(node) || second.applies(node),
    run: (dr, node, body) => (first.applies(node) ? first : second).run(dr, node, body),
  };
}
