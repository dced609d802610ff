/**
 * Administration of calendar and address-book sharing (`commune share add|remove|list`):
 * the same grants an owner sets with the DAV ACL method. A collection is named
 * `calendars/<name>`, `addressbooks/<name>`, or just `<name>` for a calendar.
 */

import { z } from 'zod';
import { CommuneError } from '../../core/errors.ts';
import type { Principal } from '../../core/principal.ts';
import { adminCommand, type AdminServices } from '../admin/admin-command.ts';
import { ContactsService } from '../contacts/contacts-service.ts';
import { levelOfRights, rightsOfLevel } from '../grants.ts';
import { CalendarService } from './calendar-service.ts';
import type { CollectionStore } from './collection-store.ts';

export interface ShareView {
  readonly owner: string;
  /** `calendars/<name>` or `addressbooks/<name>`. */
  readonly collection: string;
  readonly sharee: string;
  readonly access: 'read' | 'read-write';
}

interface Target {
  readonly family: 'calendars' | 'addressbooks';
  readonly name: string;
  readonly store: CollectionStore;
  ensureHome(account: number): Promise<void>;
}

type Family = Target['family'];

function target(storage: AdminServices['storage'], collection: string): Target {
  const m = /^(?:(calendars|addressbooks)\/)?([^/]+)\/?$/.exec(collection);
  if (!m) {
    throw new CommuneError(
      'invalid-argument',
      'collection: calendars/NAME, addressbooks/NAME or a calendar NAME',
    );
  }
  return targetOf(storage, m[1] === 'addressbooks' ? 'addressbooks' : 'calendars', m[2] ?? '');
}

function targetOf(storage: AdminServices['storage'], family: Family, name: string): Target {
  if (family === 'addressbooks') {
    const contacts = new ContactsService({ storage });
    return {
      family: 'addressbooks',
      name,
      store: contacts.store,
      ensureHome: (a) => contacts.ensureHome(a),
    };
  }
  const calendars = new CalendarService({ storage });
  return {
    family: 'calendars',
    name,
    store: calendars.store,
    ensureHome: (a) => calendars.ensureHome(a),
  };
}

async function principal(services: AdminServices, address: string): Promise<Principal> {
  const p = await services.directory.findByAddress(address);
  if (!p) throw new CommuneError('not-found', `no such principal: ${address}`);
  return p;
}

const address = z.string().min(1).max(320);
const collection = z.string().min(1).max(300);

export const shareAdminCommands = {
  'share.add': adminCommand({
    summary: 'share a calendar or address book with a user or group (read, or read-write)',
    args: z.strictObject({ owner: address, collection, sharee: address, write: z.boolean() }),
    async run(services, args) {
      const owner = await principal(services, args.owner);
      const sharee = await principal(services, args.sharee);
      if (sharee.id === owner.id) throw new CommuneError('invalid-argument', 'that is the owner');
      const t = target(services.storage, args.collection);
      await t.ensureHome(owner.id);
      const access = args.write ? 'read-write' : 'read';
      await t.store.grants.setGrant(owner.id, t.name, sharee.id, rightsOfLevel(access));
      const share: ShareView = {
        owner: owner.address,
        collection: `${t.family}/${t.name}`,
        sharee: sharee.address,
        access,
      };
      return { share };
    },
  }),
  'share.remove': adminCommand({
    summary: 'stop sharing a calendar or address book with a user or group',
    args: z.strictObject({ owner: address, collection, sharee: address }),
    async run(services, args) {
      const owner = await principal(services, args.owner);
      const sharee = await principal(services, args.sharee);
      const t = target(services.storage, args.collection);
      await t.store.grants.setGrant(owner.id, t.name, sharee.id, undefined);
      return { unshared: `${t.family}/${t.name}`, sharee: sharee.address };
    },
  }),
  'share.list': adminCommand({
    summary: "list the shares of a user's calendars and address books (or of one)",
    args: z.strictObject({ owner: address, collection: collection.optional() }),
    async run(services, args) {
      const owner = await principal(services, args.owner);
      const targets = args.collection
        ? [target(services.storage, args.collection)]
        : (['calendars', 'addressbooks'] as const).map((f) => targetOf(services.storage, f, ''));
      const shares: ShareView[] = [];
      for (const t of targets) {
        const names = args.collection
          ? [t.name]
          : (await t.store.listCollections(owner.id)).map((c) => c.name);
        for (const name of names) {
          for (const g of await t.store.grants.grantsOf(owner.id, name)) {
            const who = await services.directory.getPrincipal(g.principal);
            const access = levelOfRights(g.rights);
            if (!who || !access) continue;
            shares.push({
              owner: owner.address,
              collection: `${t.family}/${name}`,
              sharee: who.address,
              access,
            });
          }
        }
      }
      return { shares };
    },
  }),
};
