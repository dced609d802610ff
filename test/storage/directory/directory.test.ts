import assert from 'node:assert/strict';
import { isCommuneError } from '../../../src/core/errors.ts';
import type { ErrorCode } from '../../../src/core/errors.ts';
import type { ChangeLogRecord } from '../../../src/storage/commit-plan.ts';
import type { ChangeNudge } from '../../../src/storage/change-bus.ts';
import {
  Subspace,
  decodeCounter,
  decodeJson,
  pack,
  prefixRange,
  unpack,
} from '../../../src/storage/keys.ts';
import { parseAddress } from '../../../src/storage/directory/directory.ts';
import { makeDirectory } from './directory-fixture.ts';
import type { Fixture } from './directory-fixture.ts';

/** Assert that `promise` rejects with a CommuneError of `code`. */
async function rejectsWith(promise: Promise<unknown>, code: ErrorCode): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(isCommuneError(err, code), `expected ${code}, got ${String(err)}`);
    return true;
  });
}

/** Every change-log record of the directory account (0), in order. */
async function directoryChanges(f: Fixture): Promise<[bigint | number, ChangeLogRecord['e']][]> {
  const out: [bigint | number, ChangeLogRecord['e']][] = [];
  for await (const [k, v] of f.storage.store.scan(prefixRange(pack(Subspace.changeLog, 0)))) {
    out.push([unpack(k).elements[1] as number, decodeJson<ChangeLogRecord>(v).e]);
  }
  return out;
}

describe('Directory', () => {
  let f: Fixture;

  beforeEach(async () => {
    f = makeDirectory();
    await f.directory.addDomain('example.test');
  });

  afterEach(async () => {
    await f.storage.close();
  });

  describe('domains', () => {
    it('adds, lists, gets and removes domains, normalised', async () => {
      const d = await f.directory.addDomain('Other.Example.');
      assert.deepEqual(d, { name: 'other.example', createdAt: '2026-01-01T00:00:00.000Z' });
      await f.directory.addDomain('bücher.example');
      assert.deepEqual(
        (await f.directory.listDomains()).map((x) => x.name),
        ['example.test', 'other.example', 'xn--bcher-kva.example'],
      );
      assert.equal((await f.directory.getDomain('OTHER.example'))?.name, 'other.example');
      await f.directory.removeDomain('other.example');
      assert.equal(await f.directory.getDomain('other.example'), undefined);
      await rejectsWith(f.directory.removeDomain('other.example'), 'not-found');
    });

    it('refuses duplicates and invalid names', async () => {
      await rejectsWith(f.directory.addDomain('EXAMPLE.test'), 'already-exists');
      for (const bad of ['', 'a..b', '-x.test', 'x_y.test', 'a b.test', `${'a'.repeat(64)}.test`]) {
        await rejectsWith(f.directory.addDomain(bad), 'invalid-argument');
      }
    });

    it('refuses to remove a domain that still has principals or aliases', async () => {
      await f.directory.addDomain('other.example');
      const p = await f.directory.createPrincipal({ address: 'x@other.example' });
      await rejectsWith(f.directory.removeDomain('other.example'), 'conflict');
      await f.directory.removePrincipal(p.id);

      const q = await f.directory.createPrincipal({ address: 'y@example.test' });
      await f.directory.addAlias(q.id, 'y@other.example');
      await rejectsWith(f.directory.removeDomain('other.example'), 'conflict');
      await f.directory.removeAlias('y@other.example');
      await f.directory.removeDomain('other.example');
      assert.equal(await f.directory.getDomain('other.example'), undefined);
    });
  });

  describe('principals', () => {
    it('creates principals with ids from 1, lower-cased, with defaults', async () => {
      const alice = await f.directory.createPrincipal({ address: 'Alice@Example.TEST' });
      const bob = await f.directory.createPrincipal({
        address: 'bob@example.test',
        displayName: ' Bob B. ',
        password: 'pw-bob',
        quota: 1024,
        admin: true,
      });
      assert.equal(alice.id, 1);
      assert.equal(bob.id, 2);
      assert.deepEqual(alice, {
        id: 1,
        kind: 'individual',
        address: 'alice@example.test',
        domain: 'example.test',
        displayName: 'alice',
        addresses: ['alice@example.test'],
        appPasswords: [],
        quota: 0,
        admin: false,
        disabled: false,
        createdAt: '2026-01-01T00:00:00.000Z',
      });
      assert.equal(bob.displayName, 'Bob B.');
      assert.match(bob.passwordHash ?? '', /^\$argon2id\$/);
      assert.deepEqual(await f.directory.getPrincipal(2), bob);
      assert.equal(await f.directory.getPrincipal(0), undefined);
      assert.equal(await f.directory.getPrincipal(99), undefined);
    });

    it('validates input', async () => {
      for (const address of [
        'nobody',
        '@example.test',
        'a..b@example.test',
        '.a@example.test',
        'a b@example.test',
        'a+b@example.test',
        `${'x'.repeat(65)}@example.test`,
      ]) {
        await rejectsWith(f.directory.createPrincipal({ address }), 'invalid-argument');
      }
      await rejectsWith(
        f.directory.createPrincipal({ address: 'g@example.test', kind: 'group', password: 'x' }),
        'invalid-argument',
      );
      await rejectsWith(
        f.directory.createPrincipal({ address: 'q@example.test', quota: -1 }),
        'invalid-argument',
      );
      await rejectsWith(
        f.directory.createPrincipal({ address: 'q@example.test', password: '' }),
        'invalid-argument',
      );
      assert.deepEqual(await f.directory.listPrincipals(), []);
    });

    it('needs the domain to exist unless createDomain', async () => {
      await rejectsWith(f.directory.createPrincipal({ address: 'a@new.example' }), 'not-found');
      const p = await f.directory.createPrincipal({ address: 'a@new.example', createDomain: true });
      assert.equal(p.domain, 'new.example');
      assert.equal((await f.directory.getDomain('new.example'))?.name, 'new.example');
      // createDomain on an existing domain is fine too.
      await f.directory.createPrincipal({ address: 'b@new.example', createDomain: true });
    });

    it('lists principals by domain and kind', async () => {
      await f.directory.addDomain('other.example');
      const a = await f.directory.createPrincipal({ address: 'a@example.test' });
      const g = await f.directory.createPrincipal({ address: 'team@example.test', kind: 'group' });
      const o = await f.directory.createPrincipal({ address: 'o@other.example' });
      await f.directory.addAlias(o.id, 'o-alias@example.test');
      const ids = async (filter: Parameters<typeof f.directory.listPrincipals>[0]) =>
        (await f.directory.listPrincipals(filter)).map((p) => p.id);
      assert.deepEqual(await ids({}), [a.id, g.id, o.id]);
      assert.deepEqual(await ids({ domain: 'EXAMPLE.test' }), [a.id, g.id]);
      assert.deepEqual(await ids({ domain: 'other.example' }), [o.id]);
      assert.deepEqual(await ids({ kind: 'group' }), [g.id]);
      assert.deepEqual(await ids({ domain: 'example.test', kind: 'individual' }), [a.id]);
      assert.deepEqual(await ids({ domain: 'nope..' }), []);
    });

    it('updates display name, quota, disabled and admin', async () => {
      const p = await f.directory.createPrincipal({ address: 'a@example.test' });
      await f.directory.setDisplayName(p.id, 'Alice A');
      await f.directory.setQuota(p.id, 5000);
      await f.directory.setAdmin(p.id, true);
      await f.directory.setDisabled(p.id, true);
      const got = await f.directory.getPrincipal(p.id);
      assert.equal(got?.displayName, 'Alice A');
      assert.equal(got?.quota, 5000);
      assert.equal(got?.admin, true);
      assert.equal(got?.disabled, true);
      await rejectsWith(f.directory.setQuota(p.id, 1.5), 'invalid-argument');
      await rejectsWith(f.directory.setDisplayName(p.id, 'a\nb'), 'invalid-argument');
      await rejectsWith(f.directory.setDisplayName(99, 'x'), 'not-found');
    });
  });

  describe('address resolution', () => {
    it('finds by exact address or alias, any case, bare local part, plus-address', async () => {
      await f.directory.addDomain('other.example');
      const alice = await f.directory.createPrincipal({ address: 'alice@example.test' });
      const bob = await f.directory.createPrincipal({ address: 'bob@other.example' });
      await f.directory.addAlias(alice.id, 'ali@other.example');
      const find = async (a: string) => (await f.directory.findByAddress(a))?.id;
      assert.equal(await find('alice@example.test'), alice.id);
      assert.equal(await find(' ALICE@Example.Test '), alice.id);
      assert.equal(await find('ali@other.example'), alice.id);
      assert.equal(await find('alice'), alice.id);
      assert.equal(await find('Alice+news@example.test'), alice.id);
      assert.equal(await find('ali+x+y@other.example'), alice.id);
      assert.equal(await find('alice+'), alice.id);
      assert.equal(await find('bob@other.example'), bob.id);
      // A bare local part only resolves in the primary domain.
      assert.equal(await find('bob'), undefined);
      assert.equal(await find('+tag@example.test'), undefined);
      assert.equal(await find('carol@example.test'), undefined);
      assert.equal(await find('not an address'), undefined);
      assert.equal(await find(''), undefined);
    });

    it('resolveRecipient returns the subaddress detail', async () => {
      const alice = await f.directory.createPrincipal({ address: 'alice@example.test' });
      const r = await f.directory.resolveRecipient('alice+Lists@example.test');
      assert.equal(r?.principal.id, alice.id);
      assert.equal(r?.detail, 'lists');
      const exact = await f.directory.resolveRecipient('alice@example.test');
      assert.equal(exact?.detail, undefined);
      assert.equal(await f.directory.resolveRecipient('zed+x@example.test'), undefined);
    });

    it('parseAddress normalises and checks', () => {
      assert.deepEqual(parseAddress('A.B@Bücher.Example'), {
        local: 'a.b',
        domain: 'xn--bcher-kva.example',
        address: 'a.b@xn--bcher-kva.example',
      });
      assert.throws(
        () => parseAddress('a+b@x.test'),
        (e) => isCommuneError(e, 'invalid-argument'),
      );
      assert.equal(parseAddress('a+b@x.test', { allowDetail: true }).local, 'a+b');
    });
  });

  describe('uniqueness', () => {
    it('refuses a taken address as primary or alias', async () => {
      const a = await f.directory.createPrincipal({ address: 'a@example.test' });
      const b = await f.directory.createPrincipal({ address: 'b@example.test' });
      await f.directory.addAlias(b.id, 'bee@example.test');
      await rejectsWith(
        f.directory.createPrincipal({ address: 'A@example.test' }),
        'already-exists',
      );
      await rejectsWith(
        f.directory.createPrincipal({ address: 'bee@example.test' }),
        'already-exists',
      );
      await rejectsWith(f.directory.addAlias(a.id, 'b@example.test'), 'already-exists');
      await rejectsWith(f.directory.addAlias(a.id, 'BEE@example.test'), 'already-exists');
      await rejectsWith(f.directory.addAlias(a.id, 'x@missing.example'), 'not-found');
    });

    it('lets exactly one of many concurrent creations of one address win', async () => {
      const results = await Promise.allSettled(
        Array.from({ length: 8 }, (_, i) =>
          f.directory.createPrincipal({
            address: 'race@example.test',
            displayName: `n${i}`,
            password: 'pw',
          }),
        ),
      );
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r) => r.status === 'rejected');
      assert.equal(won.length, 1);
      assert.equal(lost.length, 7);
      for (const r of lost) assert.ok(isCommuneError(r.reason, 'already-exists'), String(r.reason));
      const winner = (won[0] as PromiseFulfilledResult<{ id: number }>).value;
      assert.equal((await f.directory.findByAddress('race@example.test'))?.id, winner.id);
      assert.equal((await f.directory.listPrincipals()).length, 1);
      // All eight got past the pre-check and allocated an id: the commit guard decided.
      assert.equal(
        decodeCounter(await f.storage.store.get(pack(Subspace.counter, 'principal'))),
        8n,
      );
    });

    it('lets exactly one of concurrent alias claims win', async () => {
      const a = await f.directory.createPrincipal({ address: 'a@example.test' });
      const b = await f.directory.createPrincipal({ address: 'b@example.test' });
      const results = await Promise.allSettled([
        f.directory.addAlias(a.id, 'shared@example.test'),
        f.directory.addAlias(b.id, 'shared@example.test'),
        f.directory.createPrincipal({ address: 'shared@example.test' }),
      ]);
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
      const owner = await f.directory.findByAddress('shared@example.test');
      assert.ok(owner);
      const holders = (await f.directory.listPrincipals()).filter((p) =>
        p.addresses.includes('shared@example.test'),
      );
      assert.deepEqual(
        holders.map((p) => p.id),
        [owner.id],
      );
    });

    it('keeps concurrent updates of one principal (optimistic retry)', async () => {
      const a = await f.directory.createPrincipal({ address: 'a@example.test' });
      await Promise.all([
        f.directory.addAlias(a.id, 'a1@example.test'),
        f.directory.addAlias(a.id, 'a2@example.test'),
        f.directory.setQuota(a.id, 7),
        f.directory.setDisplayName(a.id, 'A'),
      ]);
      const got = await f.directory.getPrincipal(a.id);
      assert.deepEqual([...(got?.addresses ?? [])].sort(), [
        'a1@example.test',
        'a2@example.test',
        'a@example.test',
      ]);
      assert.equal(got?.quota, 7);
      assert.equal(got?.displayName, 'A');
    });
  });

  describe('aliases and removal', () => {
    it('removes aliases but never the primary address', async () => {
      const a = await f.directory.createPrincipal({ address: 'a@example.test' });
      await f.directory.addAlias(a.id, 'Alias@example.test');
      assert.deepEqual((await f.directory.getPrincipal(a.id))?.addresses, [
        'a@example.test',
        'alias@example.test',
      ]);
      await rejectsWith(f.directory.removeAlias('a@example.test'), 'invalid-argument');
      await f.directory.removeAlias('ALIAS@example.test');
      assert.equal(await f.directory.findByAddress('alias@example.test'), undefined);
      assert.deepEqual((await f.directory.getPrincipal(a.id))?.addresses, ['a@example.test']);
      await rejectsWith(f.directory.removeAlias('alias@example.test'), 'not-found');
    });

    it('removing a principal frees its addresses and memberships', async () => {
      const a = await f.directory.createPrincipal({ address: 'a@example.test', password: 'pw' });
      await f.directory.addAlias(a.id, 'a2@example.test');
      const g = await f.directory.createPrincipal({ address: 'g@example.test', kind: 'group' });
      const u = await f.directory.createPrincipal({ address: 'u@example.test' });
      await f.directory.addMember(g.id, a.id);
      await f.directory.addMember(g.id, u.id);

      await f.directory.removePrincipal(a.id);
      assert.equal(await f.directory.getPrincipal(a.id), undefined);
      assert.equal(await f.directory.findByAddress('a@example.test'), undefined);
      assert.equal(await f.directory.findByAddress('a2@example.test'), undefined);
      assert.deepEqual(
        (await f.directory.members(g.id)).map((p) => p.id),
        [u.id],
      );
      await rejectsWith(
        f.directory.authenticate({ login: 'a@example.test', password: 'pw' }),
        'auth-failed',
      );

      // The addresses can be reused, by a new principal with a new id.
      const again = await f.directory.createPrincipal({ address: 'a2@example.test' });
      assert.notEqual(again.id, a.id);
      assert.deepEqual(await f.directory.groupsOf(again.id), []);

      // Removing a group drops its members' memberships.
      await f.directory.removePrincipal(g.id);
      assert.deepEqual(await f.directory.groupsOf(u.id), []);
      await rejectsWith(f.directory.removePrincipal(g.id), 'not-found');
      await rejectsWith(f.directory.removePrincipal(0), 'not-found');
    });
  });

  describe('groups', () => {
    it('tracks direct members and transitive groups', async () => {
      const u = await f.directory.createPrincipal({ address: 'u@example.test' });
      const team = await f.directory.createPrincipal({
        address: 'team@example.test',
        kind: 'group',
      });
      const dept = await f.directory.createPrincipal({
        address: 'dept@example.test',
        kind: 'group',
      });
      const all = await f.directory.createPrincipal({ address: 'all@example.test', kind: 'group' });
      await f.directory.addMember(team.id, u.id);
      await f.directory.addMember(team.id, u.id); // idempotent
      await f.directory.addMember(dept.id, team.id);
      await f.directory.addMember(all.id, dept.id);
      assert.deepEqual(await f.directory.groupsOf(u.id), [team.id, dept.id, all.id]);
      assert.deepEqual(await f.directory.groupsOf(team.id), [dept.id, all.id]);
      assert.deepEqual(
        (await f.directory.members(team.id)).map((p) => p.address),
        ['u@example.test'],
      );
      assert.equal(await f.directory.removeMember(dept.id, team.id), true);
      assert.equal(await f.directory.removeMember(dept.id, team.id), false);
      assert.deepEqual(await f.directory.groupsOf(u.id), [team.id]);
    });

    it('survives membership cycles', async () => {
      const u = await f.directory.createPrincipal({ address: 'u@example.test' });
      const g1 = await f.directory.createPrincipal({ address: 'g1@example.test', kind: 'group' });
      const g2 = await f.directory.createPrincipal({ address: 'g2@example.test', kind: 'group' });
      const g3 = await f.directory.createPrincipal({ address: 'g3@example.test', kind: 'group' });
      await f.directory.addMember(g1.id, u.id);
      await f.directory.addMember(g2.id, g1.id);
      await f.directory.addMember(g3.id, g2.id);
      await f.directory.addMember(g1.id, g3.id);
      assert.deepEqual(await f.directory.groupsOf(u.id), [g1.id, g2.id, g3.id]);
      assert.deepEqual(await f.directory.groupsOf(g1.id), [g2.id, g3.id]);
    });

    it('only groups take members; both sides must exist', async () => {
      const u = await f.directory.createPrincipal({ address: 'u@example.test' });
      const v = await f.directory.createPrincipal({ address: 'v@example.test' });
      const g = await f.directory.createPrincipal({ address: 'g@example.test', kind: 'group' });
      await rejectsWith(f.directory.addMember(u.id, v.id), 'invalid-argument');
      await rejectsWith(f.directory.addMember(g.id, g.id), 'invalid-argument');
      await rejectsWith(f.directory.addMember(g.id, 99), 'not-found');
      await rejectsWith(f.directory.addMember(99, u.id), 'not-found');
    });

    it('puts transitive groups into the AccessContext', async () => {
      const u = await f.directory.createPrincipal({ address: 'u@example.test', password: 'pw' });
      const g = await f.directory.createPrincipal({ address: 'g@example.test', kind: 'group' });
      const h = await f.directory.createPrincipal({ address: 'h@example.test', kind: 'group' });
      await f.directory.addMember(g.id, u.id);
      await f.directory.addMember(h.id, g.id);
      const ctx = await f.directory.authenticate({ login: 'u@example.test', password: 'pw' });
      assert.deepEqual(ctx.memberOf, [g.id, h.id]);
    });
  });

  describe('authenticate', () => {
    let alice: Awaited<ReturnType<typeof f.directory.createPrincipal>>;

    beforeEach(async () => {
      await f.directory.addDomain('other.example');
      alice = await f.directory.createPrincipal({
        address: 'alice@example.test',
        displayName: 'Alice',
        password: 'Wonder land 1',
        admin: true,
      });
      await f.directory.addAlias(alice.id, 'al@example.test');
      await f.directory.createPrincipal({ address: 'bob@other.example', password: 'bob-pw' });
    });

    it('accepts the full address or a bare local part, any case', async () => {
      const ctx = await f.directory.authenticate({
        login: 'Alice@Example.Test',
        password: 'Wonder land 1',
        remoteAddress: '127.0.0.1',
        protocol: 'imap',
      });
      assert.deepEqual(ctx, {
        principalId: alice.id,
        address: 'alice@example.test',
        displayName: 'Alice',
        kind: 'individual',
        memberOf: [],
        admin: true,
        method: 'password',
      });
      assert.equal(
        (await f.directory.authenticate({ login: 'ALICE', password: 'Wonder land 1' })).principalId,
        alice.id,
      );
      const bob = await f.directory.authenticate({
        login: 'bob@other.example',
        password: 'bob-pw',
      });
      assert.equal(bob.address, 'bob@other.example');
    });

    it('fails the same way for a wrong password, unknown user, alias, or foreign bare name', async () => {
      const cases = [
        { login: 'alice@example.test', password: 'wonder land 1' },
        { login: 'alice@example.test', password: '' },
        { login: 'nobody@example.test', password: 'Wonder land 1' },
        { login: 'al@example.test', password: 'Wonder land 1' },
        { login: 'alice+tag@example.test', password: 'Wonder land 1' },
        { login: 'bob', password: 'bob-pw' },
        { login: '', password: 'x' },
      ];
      for (const attempt of cases) {
        await assert.rejects(f.directory.authenticate(attempt), (err: unknown) => {
          assert.ok(isCommuneError(err, 'auth-failed'), `${attempt.login}: ${String(err)}`);
          assert.equal(err.message, 'invalid credentials');
          return true;
        });
      }
    });

    it('still verifies a hash for unknown users (timing)', async () => {
      const before = f.hasher.verifications;
      await rejectsWith(
        f.directory.authenticate({ login: 'ghost@example.test', password: 'x' }),
        'auth-failed',
      );
      assert.equal(f.hasher.verifications - before, 1);
      await rejectsWith(
        f.directory.authenticate({ login: 'alice@example.test', password: 'x' }),
        'auth-failed',
      );
      assert.equal(f.hasher.verifications - before, 2);
    });

    it('refuses disabled principals and groups or resources', async () => {
      await f.directory.setDisabled(alice.id, true);
      await rejectsWith(
        f.directory.authenticate({ login: 'alice', password: 'Wonder land 1' }),
        'auth-failed',
      );
      await f.directory.setDisabled(alice.id, false);
      await f.directory.authenticate({ login: 'alice', password: 'Wonder land 1' });

      await f.directory.createPrincipal({ address: 'team@example.test', kind: 'group' });
      await f.directory.createPrincipal({ address: 'room1@example.test', kind: 'room' });
      await rejectsWith(f.directory.authenticate({ login: 'team', password: '' }), 'auth-failed');
      await rejectsWith(
        f.directory.authenticate({ login: 'room1', password: 'anything' }),
        'auth-failed',
      );
      const team = await f.directory.findByAddress('team');
      assert.ok(team);
      await rejectsWith(f.directory.setPassword(team.id, 'pw'), 'invalid-argument');
    });

    it('uses a new password after setPassword', async () => {
      await f.directory.setPassword(alice.id, 'new secret');
      await rejectsWith(
        f.directory.authenticate({ login: 'alice', password: 'Wonder land 1' }),
        'auth-failed',
      );
      assert.equal(
        (await f.directory.authenticate({ login: 'alice', password: 'new secret' })).method,
        'password',
      );
    });

    it('accepts app passwords, stores only their hash, and revokes them', async () => {
      const app = await f.directory.addAppPassword(alice.id, ' Thunderbird ');
      assert.equal(app.label, 'Thunderbird');
      assert.match(app.secret, /^[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}$/);
      const stored = await f.directory.getPrincipal(alice.id);
      assert.equal(stored?.appPasswords.length, 1);
      assert.equal(stored?.appPasswords[0]?.id, app.id);
      assert.match(stored?.appPasswords[0]?.hash ?? '', /^\$argon2id\$/);
      assert.ok(!JSON.stringify(stored).includes(app.secret.replaceAll('-', '')));

      for (const password of [
        app.secret,
        app.secret.toUpperCase(),
        app.secret.replaceAll('-', ''),
      ]) {
        const ctx = await f.directory.authenticate({ login: 'alice@example.test', password });
        assert.equal(ctx.method, 'app-password');
      }
      assert.equal(
        (await f.directory.authenticate({ login: 'alice', password: 'Wonder land 1' })).method,
        'password',
      );

      await f.directory.removeAppPassword(alice.id, app.id);
      await rejectsWith(
        f.directory.authenticate({ login: 'alice', password: app.secret }),
        'auth-failed',
      );
      await rejectsWith(f.directory.removeAppPassword(alice.id, app.id), 'not-found');
      await rejectsWith(f.directory.addAppPassword(alice.id, ''), 'invalid-argument');
    });

    it('rate-limits per user, then lets the window drain', async () => {
      const g = makeDirectory({ maxFailuresPerUser: 3, windowMs: 60_000 });
      await g.directory.createPrincipal({
        address: 'u@example.test',
        password: 'pw',
        createDomain: true,
      });
      for (let i = 0; i < 3; i++) {
        await rejectsWith(
          g.directory.authenticate({ login: 'u', password: 'bad', remoteAddress: `10.0.0.${i}` }),
          'auth-failed',
        );
      }
      // Blocked even with the right password, from anywhere, under either login form.
      for (const login of ['u', 'U@example.test']) {
        await assert.rejects(
          g.directory.authenticate({ login, password: 'pw', remoteAddress: '10.9.9.9' }),
          (err: unknown) => isCommuneError(err, 'rate-limited') && err.retryAfter === 60,
        );
      }
      g.clock.ms += 60_000;
      assert.equal(
        (await g.directory.authenticate({ login: 'u', password: 'pw' })).method,
        'password',
      );
      await g.storage.close();
    });

    it('rate-limits per client address across logins; success resets the user count', async () => {
      const g = makeDirectory({
        maxFailuresPerUser: 3,
        maxFailuresPerAddress: 4,
        windowMs: 60_000,
      });
      await g.directory.createPrincipal({
        address: 'u@example.test',
        password: 'pw',
        createDomain: true,
      });
      const from = (remoteAddress: string, login: string, password: string) =>
        g.directory.authenticate({ login, password, remoteAddress });
      await rejectsWith(from('192.0.2.1', 'u', 'bad'), 'auth-failed');
      await rejectsWith(from('192.0.2.1', 'u', 'bad'), 'auth-failed');
      await from('192.0.2.2', 'u', 'pw'); // resets u's count
      await rejectsWith(from('192.0.2.1', 'u', 'bad'), 'auth-failed');
      await rejectsWith(from('192.0.2.1', 'x1', 'bad'), 'auth-failed');
      // 4 failures from 192.0.2.1: that address is blocked, for every login.
      await rejectsWith(from('192.0.2.1', 'u', 'pw'), 'rate-limited');
      await rejectsWith(from('192.0.2.1', 'x2', 'bad'), 'rate-limited');
      // Elsewhere u still logs in: its own count (1 since the reset) is below 3.
      assert.equal((await from('192.0.2.3', 'u', 'pw')).principalId > 0, true);
      await g.storage.close();
    });
  });

  describe('change log', () => {
    it('writes directory changes for account 0 and nudges the bus', async () => {
      const nudges: ChangeNudge[] = [];
      f.storage.bus.subscribe((n) => nudges.push(n));
      const a = await f.directory.createPrincipal({ address: 'a@example.test' });
      const g = await f.directory.createPrincipal({
        address: 'g@new.example',
        kind: 'group',
        createDomain: true,
      });
      await f.directory.addAlias(a.id, 'a2@example.test');
      await f.directory.addMember(g.id, a.id);
      await f.directory.setPassword(a.id, 'pw');
      await f.directory.removePrincipal(a.id);
      await f.directory.removePrincipal(g.id);
      await f.directory.removeDomain('new.example');

      const log = await directoryChanges(f);
      assert.deepEqual(
        log.map(([, e]) => e),
        [
          [['directory', 'domain:example.test', 'created']],
          [['directory', String(a.id), 'created']],
          [
            ['directory', 'domain:new.example', 'created'],
            ['directory', String(g.id), 'created'],
          ],
          [['directory', String(a.id), 'updated']],
          [
            ['directory', String(g.id), 'updated'],
            ['directory', String(a.id), 'updated'],
          ],
          [['directory', String(a.id), 'updated']],
          [
            ['directory', String(a.id), 'destroyed'],
            ['directory', String(g.id), 'updated'],
          ],
          [['directory', String(g.id), 'destroyed']],
          [['directory', 'domain:new.example', 'destroyed']],
        ],
      );
      assert.deepEqual(
        log.map(([id]) => id),
        [1, 2, 3, 4, 5, 6, 7, 8, 9],
      );
      assert.equal(nudges.length, 8);
      for (const n of nudges) {
        assert.equal(n.account, 0);
        assert.deepEqual(n.collections, ['directory']);
      }
      assert.equal(nudges.at(-1)?.changeId, 9n);
    });

    it('writes nothing when a mutation fails', async () => {
      await f.directory.createPrincipal({ address: 'a@example.test' });
      const before = (await directoryChanges(f)).length;
      await rejectsWith(
        f.directory.createPrincipal({ address: 'a@example.test' }),
        'already-exists',
      );
      await rejectsWith(f.directory.removeDomain('example.test'), 'conflict');
      assert.equal((await directoryChanges(f)).length, before);
    });
  });
});
