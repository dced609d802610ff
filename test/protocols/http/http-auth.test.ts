import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { isCommuneError } from '../../../src/core/errors.ts';
import type { HttpRequestContext } from '../../../src/core/lifecycle.ts';
import { HttpAuthenticator } from '../../../src/protocols/http/http-auth.ts';
import { makeDirectory } from '../../storage/directory/directory-fixture.ts';

function request(authorization?: string): IncomingMessage {
  return { headers: authorization === undefined ? {} : { authorization } } as IncomingMessage;
}

function ctx(remoteAddress: string, secure = false): HttpRequestContext {
  return { remoteAddress, secure, url: new URL('http://localhost/dav/') };
}

const basic = (login: string, password: string) =>
  `Basic ${Buffer.from(`${login}:${password}`).toString('base64')}`;

describe('HttpAuthenticator', () => {
  it('accepts Basic with the password or an app password, over TLS or from loopback', async () => {
    const { directory } = makeDirectory();
    const p = await directory.createPrincipal({
      address: 'ann@example.test',
      password: 'ann-password-1',
      createDomain: true,
    });
    const app = await directory.addAppPassword(p.id, 'laptop');
    const auth = new HttpAuthenticator({ directory, allowPlaintext: false });
    assert.equal(
      (
        await auth.authenticate(
          request(basic('ann@example.test', 'ann-password-1')),
          ctx('127.0.0.1'),
        )
      ).principalId,
      p.id,
    );
    assert.equal(
      (await auth.authenticate(request(basic('ann', app.secret)), ctx('192.0.2.7', true))).method,
      'app-password',
    );
    assert.equal(auth.challenge(), 'Basic realm="Commune", charset="UTF-8"');
  });

  it('refuses passwords over plain HTTP from remote clients unless allowed', async () => {
    const { directory } = makeDirectory();
    await directory.createPrincipal({
      address: 'ann@example.test',
      password: 'ann-password-1',
      createDomain: true,
    });
    const strict = new HttpAuthenticator({ directory, allowPlaintext: false });
    await assert.rejects(
      strict.authenticate(request(basic('ann', 'ann-password-1')), ctx('192.0.2.7')),
      (e: unknown) => isCommuneError(e, 'forbidden'),
    );
    const lax = new HttpAuthenticator({ directory, allowPlaintext: true });
    assert.ok(await lax.authenticate(request(basic('ann', 'ann-password-1')), ctx('192.0.2.7')));
  });

  it('answers auth-failed for missing, malformed, wrong and bearer credentials', async () => {
    const { directory } = makeDirectory();
    await directory.createPrincipal({
      address: 'ann@example.test',
      password: 'ann-password-1',
      createDomain: true,
    });
    const auth = new HttpAuthenticator({ directory, allowPlaintext: false });
    for (const header of [
      undefined,
      'Basic',
      'Basic !!!',
      basic('ann', 'wrong-password'),
      'Bearer abc',
      basic('', 'x'),
    ]) {
      await assert.rejects(
        auth.authenticate(request(header), ctx('127.0.0.1')),
        (e: unknown) => isCommuneError(e, 'auth-failed'),
        String(header),
      );
    }
  });

  it('caches verifications but rebuilds the access context each time', async () => {
    const { directory, hasher } = makeDirectory();
    const p = await directory.createPrincipal({
      address: 'ann@example.test',
      password: 'ann-password-1',
      createDomain: true,
    });
    const clock = { ms: 0 };
    const auth = new HttpAuthenticator({
      directory,
      allowPlaintext: false,
      cacheTtlMs: 1000,
      now: () => clock.ms,
    });
    const header = basic('ann', 'ann-password-1');
    await auth.authenticate(request(header), ctx('127.0.0.1'));
    const verified = hasher.verifications;
    const group = await directory.createPrincipal({ address: 'g@example.test', kind: 'group' });
    await directory.addMember(group.id, p.id);
    const again = await auth.authenticate(request(header), ctx('127.0.0.1'));
    assert.equal(hasher.verifications, verified);
    assert.deepEqual(again.memberOf, [group.id]);
    await directory.setDisabled(p.id, true);
    await assert.rejects(auth.authenticate(request(header), ctx('127.0.0.1')), (e: unknown) =>
      isCommuneError(e, 'auth-failed'),
    );
    await directory.setDisabled(p.id, false);
    clock.ms = 5000;
    await auth.authenticate(request(header), ctx('127.0.0.1'));
    assert.ok(hasher.verifications > verified);
  });
});
