import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { isCommuneError } from '../../../src/core/errors.ts';
import type { AccessContext } from '../../../src/core/principal.ts';
import { MemoryStore } from '../../../src/storage/backends/memory-store.ts';
import { CalendarDelegation } from '../../../src/storage/calendar/calendar-delegation.ts';
import { CalendarService } from '../../../src/storage/calendar/calendar-service.ts';
import { ContactsService } from '../../../src/storage/contacts/contacts-service.ts';
import { rightsOfLevel } from '../../../src/storage/grants.ts';
import { LocalChangeBus } from '../../../src/storage/local-change-bus.ts';
import { MemoryBlobStore } from '../../../src/storage/memory-blob-store.ts';
import { openStorage } from '../../../src/storage/open-storage.ts';
import { Storage } from '../../../src/storage/storage.ts';
import { PG_URL, freshSchema, requirePostgres } from '../pg-test-db.ts';

const ALICE = 1;
const BOB = 2;
const CAROL = 3;
const TEAM = 10;

/** A fresh Storage of one backend, and how to dispose of it. */
type Open = () => Promise<{ storage: Storage; close: () => Promise<void> }>;

const memory: Open = async () => {
  const storage = new Storage({
    store: new MemoryStore(),
    blobs: new MemoryBlobStore(),
    bus: new LocalChangeBus(),
  });
  return { storage, close: () => storage.close() };
};

const postgres: Open = async () => {
  const { schema, drop } = freshSchema();
  const storage = await openStorage({
    backend: 'postgres',
    dataDir: tmpdir(),
    url: PG_URL,
    schema,
    channel: `commune_test_${schema}`,
  });
  return {
    storage,
    close: async () => {
      await storage.close();
      await drop();
    },
  };
};

const rejectsWith = (code: string) => (err: unknown) => isCommuneError(err) && err.code === code;
const READ = rightsOfLevel('read');
const RW = rightsOfLevel('read-write');

function grantsSuite(open: Open): void {
  let opened: { storage: Storage; close: () => Promise<void> } | undefined;
  const setup = async (): Promise<{ calendars: CalendarService; contacts: ContactsService }> => {
    opened = await open();
    const { storage } = opened;
    return {
      calendars: new CalendarService({ storage }),
      contacts: new ContactsService({ storage }),
    };
  };
  afterEach(async () => {
    await opened?.close();
    opened = undefined;
  });

  it('grants, merges user and group grants, and revokes', async () => {
    const { calendars } = await setup();
    const grants = calendars.store.grants;
    await calendars.ensureHome(ALICE);
    await calendars.createCalendar(ALICE, 'work', new Map());
    await grants.setGrant(ALICE, 'work', BOB, READ);
    await grants.setGrant(ALICE, 'work', TEAM, RW);
    assert.deepEqual(
      (await grants.grantsOf(ALICE, 'work')).map((g) => g.principal),
      [BOB, TEAM],
    );
    // Bob alone reads; Bob through the team writes; Carol in the team writes; nobody else sees it
    assert.deepEqual(await grants.sharedWith([BOB]), [
      { owner: ALICE, collection: 'work', rights: READ },
    ]);
    const viaTeam = await grants.sharedWith([BOB, TEAM]);
    assert.equal(viaTeam.length, 1);
    assert.deepEqual(new Set(viaTeam[0]?.rights), new Set(RW));
    assert.equal((await grants.sharedWith([CAROL, TEAM])).length, 1);
    assert.deepEqual(await grants.sharedWith([CAROL]), []);
    // The owner in a granted group does not see its own collection as shared
    assert.deepEqual(await grants.sharedWith([ALICE, TEAM]), []);
    // Revoking removes the grant and the reverse index
    await grants.setGrant(ALICE, 'work', BOB, undefined);
    assert.deepEqual(await grants.sharedWith([BOB]), []);
    await grants.setGrants(ALICE, 'work', []);
    assert.deepEqual(await grants.grantsOf(ALICE, 'work'), []);
    assert.deepEqual(await grants.sharedWith([CAROL, TEAM]), []);
  });

  it('decides rights: the owner all, others the delegation plus the collection grants', async () => {
    const { calendars } = await setup();
    const grants = calendars.store.grants;
    const as = (principalId: number, memberOf: number[] = []): AccessContext => ({
      principalId,
      address: `u${principalId}@example.test`,
      displayName: '',
      kind: 'individual',
      memberOf,
      admin: false,
      method: 'password',
    });
    await calendars.ensureHome(ALICE);
    await calendars.createCalendar(ALICE, 'work', new Map());
    await grants.setGrant(ALICE, 'work', TEAM, RW);
    await grants.setHomeGrants(ALICE, [{ principal: BOB, rights: [...READ] }]);
    assert.deepEqual(
      await grants.collectionRights(as(ALICE), ALICE, 'work'),
      new Set(['read', 'write', 'delete', 'share', 'admin']),
    );
    assert.deepEqual(await grants.homeRights(as(BOB), ALICE), new Set(READ));
    assert.deepEqual(await grants.collectionRights(as(BOB), ALICE, 'work'), new Set(READ));
    assert.deepEqual(
      await grants.collectionRights(as(BOB, [TEAM]), ALICE, 'work'),
      new Set([...READ, ...RW]),
    );
    assert.deepEqual(await grants.collectionRights(as(CAROL, [TEAM]), ALICE, 'work'), new Set(RW));
    assert.deepEqual(await grants.collectionRights(as(CAROL), ALICE, 'work'), new Set());
    assert.deepEqual(await grants.homeRights(as(CAROL), ALICE), new Set());
  });

  it('refuses grants on missing collections and to the owner', async () => {
    const { calendars } = await setup();
    await assert.rejects(
      calendars.store.grants.setGrant(ALICE, 'nope', BOB, READ),
      rejectsWith('not-found'),
    );
    await calendars.ensureHome(ALICE);
    await assert.rejects(
      calendars.store.grants.setGrant(ALICE, 'default', ALICE, READ),
      rejectsWith('invalid-argument'),
    );
  });

  it('drops the grants with the collection, so a new one of that name is not shared', async () => {
    const { calendars } = await setup();
    const grants = calendars.store.grants;
    await calendars.createCalendar(ALICE, 'work', new Map());
    await grants.setGrant(ALICE, 'work', BOB, RW);
    await calendars.store.removeCollection(ALICE, 'work');
    assert.deepEqual(await grants.sharedWith([BOB]), []);
    await calendars.createCalendar(ALICE, 'work', new Map());
    assert.deepEqual(await grants.grantsOf(ALICE, 'work'), []);
    assert.deepEqual(await grants.sharedWith([BOB]), []);
  });

  it('loses no grant to concurrent changes', async () => {
    const { calendars } = await setup();
    const grants = calendars.store.grants;
    await calendars.createCalendar(ALICE, 'work', new Map());
    await Promise.all(
      [BOB, CAROL, TEAM, 20, 21, 22].map((id) => grants.setGrant(ALICE, 'work', id, READ)),
    );
    assert.deepEqual(
      (await grants.grantsOf(ALICE, 'work')).map((g) => g.principal),
      [BOB, CAROL, TEAM, 20, 21, 22],
    );
    for (const id of [BOB, CAROL, 22]) assert.equal((await grants.sharedWith([id])).length, 1);
  });

  it('keeps calendars and address books apart', async () => {
    const { calendars, contacts } = await setup();
    await calendars.createCalendar(ALICE, 'same', new Map());
    await contacts.createAddressBook(ALICE, 'same', new Map());
    await contacts.store.grants.setGrant(ALICE, 'same', BOB, READ);
    assert.deepEqual(await calendars.store.grants.sharedWith([BOB]), []);
    assert.equal((await contacts.store.grants.sharedWith([BOB])).length, 1);
  });

  it('bumps the owner change id when a collection is shared (ctag of the owner moves)', async () => {
    const { calendars } = await setup();
    await calendars.createCalendar(ALICE, 'work', new Map());
    const before = await calendars.store.currentVersion(ALICE);
    await calendars.store.grants.setGrant(ALICE, 'work', BOB, READ);
    assert.ok((await calendars.store.currentVersion(ALICE)) > before);
  });

  it('models delegation as home grants seen as two proxy groups', async () => {
    const { calendars } = await setup();
    const delegation = new CalendarDelegation(calendars.store.grants);
    await delegation.setMembers(ALICE, 'read', [BOB, TEAM]);
    await delegation.setMembers(ALICE, 'write', [CAROL]);
    assert.deepEqual(await delegation.members(ALICE, 'read'), [BOB, TEAM]);
    assert.deepEqual(await delegation.members(ALICE, 'write'), [CAROL]);
    assert.deepEqual(await delegation.delegatorsOf([BOB], 'read'), [ALICE]);
    assert.deepEqual(await delegation.delegatorsOf([CAROL], 'write'), [ALICE]);
    assert.deepEqual(await delegation.delegatorsOf([CAROL], 'read'), []);
    // Moving Bob to the write group takes him out of the read group
    await delegation.setMembers(ALICE, 'write', [CAROL, BOB]);
    assert.deepEqual(await delegation.members(ALICE, 'read'), [TEAM]);
    assert.deepEqual(await delegation.members(ALICE, 'write'), [BOB, CAROL]);
    // Emptying a group ends those delegations, the other group stays
    await delegation.setMembers(ALICE, 'write', []);
    assert.deepEqual(await delegation.delegatorsOf([BOB], 'write'), []);
    assert.deepEqual(await delegation.delegatorsOf([BOB, TEAM], 'read'), [ALICE]);
    assert.deepEqual(await calendars.store.grants.homeGrants(ALICE), [
      { principal: TEAM, rights: READ },
    ]);
    // The owner cannot delegate to itself
    await delegation.setMembers(ALICE, 'read', [ALICE]);
    assert.deepEqual(await delegation.members(ALICE, 'read'), []);
  });
}

describe('CollectionGrants (sharing and delegation in the store)', () => {
  describe('memory', () => grantsSuite(memory));
  describe('postgres (PG_URL)', () => {
    requirePostgres();
    grantsSuite(postgres);
  });
});
