/**
 * CardDAV (RFC 6352) on the DAV core: the `/dav/addressbooks/` tree of address book homes
 * (extended MKCOL makes address books), the address book properties, address-data with
 * vCard 3.0/4.0 conversion, addressbook-query and addressbook-multiget. sync-token, getctag
 * and sync-collection come from the sync plugin.
 */

import type { ContactsService } from '../../../storage/contacts/contacts-service.ts';
import { DirectoryCards } from '../../../storage/contacts/directory-cards.ts';
import type { Directory } from '../../../storage/directory/directory.ts';
import type { Storage } from '../../../storage/storage.ts';
import { CollectionHomeTree, isHomeDavNode } from '../caldav/collection-home-tree.ts';
import { multigetReport } from '../caldav/calendar-multiget-report.ts';
import type { DavNode } from '../dav-node.ts';
import { liveProperty, type DavPlugin } from '../dav-plugin.ts';
import { CARDDAV_NS, clark } from '../xml.ts';
import {
  ADDRESS_DATA,
  parseAddressDataRequest,
  writeCardResponse,
} from './address-data-request.ts';
import { addressbookQueryReport } from './addressbook-query-report.ts';
import {
  DirectoryAddressBook,
  directoryMultigetReport,
  directoryProperties,
  directoryQueryReport,
  eitherReport,
} from './directory-addressbook.ts';

export const ADDRESSBOOKS_ROOT = '/dav/addressbooks/';
export const ADDRESSBOOK_TYPE = clark(CARDDAV_NS, 'addressbook');
export function carddavPlugin(options: {
  contacts: ContactsService;
  directory: Directory;
  /** For the directory address book's change log (account 0). */
  storage: Storage;
}): DavPlugin {
  const { contacts } = options;
  const cards = new DirectoryCards({ directory: options.directory, storage: options.storage });
  const directoryBook = new DirectoryAddressBook({
    root: ADDRESSBOOKS_ROOT,
    cards,
    directory: options.directory,
  });
  const tree = new CollectionHomeTree(
    {
      name: 'addressbooks',
      root: ADDRESSBOOKS_ROOT,
      store: contacts.store,
      ns: CARDDAV_NS,
      collectionType: ADDRESSBOOK_TYPE,
      maxResourceSize: contacts.maxResourceSize,
      ensureHome: (account) => contacts.ensureHome(account),
      async create(account, name, { properties }) {
        await contacts.createAddressBook(account, name, properties);
      },
      put: (account, collection, name, text, opts) =>
        contacts.put(account, collection, name, text, opts),
      mounts: [directoryBook],
    },
    options.directory,
  );
  const isBook = (node: DavNode): boolean =>
    isHomeDavNode(node) &&
    node.tree === tree &&
    node.collection &&
    node.home.collection !== undefined;
  const isCard = (node: DavNode): boolean =>
    isHomeDavNode(node) && node.tree === tree && node.home.resource !== undefined;
  return {
    name: 'carddav',
    compliance: ['addressbook'],
    trees: [tree],
    reports: [
      eitherReport(
        addressbookQueryReport(tree, contacts),
        directoryQueryReport(directoryBook, cards),
      ),
      eitherReport(
        multigetReport(CARDDAV_NS, 'addressbook-multiget', tree, (body) => {
          const request = parseAddressDataRequest(body);
          return (dr, out, node, read) => writeCardResponse(dr, out, node, request, read);
        }),
        directoryMultigetReport(directoryBook),
      ),
    ],
    properties: [
      ...directoryProperties(contacts.maxResourceSize),
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
        async () => ({ text: String(contacts.maxResourceSize) }),
        { applies: isBook },
      ),
      liveProperty(
        ADDRESS_DATA,
        async (_dr, node) => {
          if (!isHomeDavNode(node) || !node.home.resource) return undefined;
          return { text: await contacts.store.text(node.home.resource) };
        },
        { applies: isCard },
      ),
    ],
  };
}
