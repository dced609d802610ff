import assert from 'node:assert/strict';
import { isCommuneError } from '../../../src/core/errors.ts';
import { makeDirectory, type Fixture } from './directory-fixture.ts';

describe('Directory bearer tokens', () => {
  let fx: Fixture;
  beforeEach(async () => {
    fx = makeDirectory({ maxFailuresPerAddress: 3 });
    await fx.directory.addDomain('example.test');
  });

  const failsWith = (code: string) => (err: unknown) => isCommuneError(err) && err.code === code;

  it('issues a token once, authenticates with it, and keeps only its digest', async () => {
    const p = await fx.directory.createPrincipal({ address: 'alice@example.test', password: 'pw' });
    const issued = await fx.directory.createToken(p.id, 'sync');
    assert.match(issued.token, /^cmn_[A-Za-z0-9_-]{43}$/);
    const ctx = await fx.directory.authenticateToken(issued.token, '192.0.2.1');
    assert.equal(ctx.principalId, p.id);
    assert.equal(ctx.method, 'token');
    const stored = await fx.directory.getPrincipal(p.id);
    assert.equal(stored?.tokens?.length, 1);
    assert.ok(!JSON.stringify(stored).includes(issued.token), 'the secret is not stored');
  });

  it('refuses revoked, expired, unknown tokens and those of disabled users', async () => {
    const p = await fx.directory.createPrincipal({ address: 'bob@example.test', password: 'pw' });
    const a = await fx.directory.createToken(p.id, 'a');
    const b = await fx.directory.createToken(p.id, 'b', 60);
    await fx.directory.revokeToken(p.id, a.id);
    await assert.rejects(
      fx.directory.authenticateToken(a.token, '10.0.0.1'),
      failsWith('auth-failed'),
    );
    assert.equal((await fx.directory.authenticateToken(b.token, '10.0.0.2')).principalId, p.id);
    fx.clock.ms += 61_000;
    await assert.rejects(
      fx.directory.authenticateToken(b.token, '10.0.0.2'),
      failsWith('auth-failed'),
    );
    const c = await fx.directory.createToken(p.id, 'c');
    await fx.directory.setDisabled(p.id, true);
    await assert.rejects(
      fx.directory.authenticateToken(c.token, '10.0.0.3'),
      failsWith('auth-failed'),
    );
    await assert.rejects(
      fx.directory.authenticateToken('cmn_nope', '10.0.0.4'),
      failsWith('auth-failed'),
    );
    await assert.rejects(
      fx.directory.authenticateToken('Bearer x', '10.0.0.4'),
      failsWith('auth-failed'),
    );
  });

  it('rate-limits token guessing per client address', async () => {
    for (let i = 0; i < 3; i++) {
      await assert.rejects(
        fx.directory.authenticateToken(`cmn_guess${i}`, '198.51.100.7'),
        failsWith('auth-failed'),
      );
    }
    await assert.rejects(
      fx.directory.authenticateToken('cmn_guess', '198.51.100.7'),
      failsWith('rate-limited'),
    );
  });

  it('forgets the tokens of a removed principal', async () => {
    const p = await fx.directory.createPrincipal({ address: 'carol@example.test', password: 'pw' });
    const t = await fx.directory.createToken(p.id, 'x');
    await fx.directory.removePrincipal(p.id);
    const again = await fx.directory.createPrincipal({
      address: 'carol@example.test',
      password: 'pw',
    });
    assert.notEqual(again.id, p.id);
    await assert.rejects(
      fx.directory.authenticateToken(t.token, '10.0.0.9'),
      failsWith('auth-failed'),
    );
  });
});
