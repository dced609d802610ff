import assert from 'node:assert/strict';
import { createPublicKey, createSign, createVerify } from 'node:crypto';
import { isCommuneError } from '../../../src/core/errors.ts';
import { Directory } from '../../../src/storage/directory/directory.ts';
import { Argon2idHasher } from '../../../src/storage/directory/password-hasher.ts';
import { dkimAdminCommands } from '../../../src/storage/dkim/dkim-admin-commands.ts';
import { DkimKeys, dnsRecordOf } from '../../../src/storage/dkim/dkim-keys.ts';
import { openStorage } from '../../../src/storage/open-storage.ts';
import type { Storage } from '../../../src/storage/storage.ts';

describe('DkimKeys', () => {
  let storage: Storage;
  let keys: DkimKeys;

  beforeEach(async () => {
    storage = await openStorage({ backend: 'memory', dataDir: '' });
    keys = new DkimKeys(storage, { now: () => new Date('2024-05-01T00:00:00Z') });
  });
  afterEach(() => storage.close());

  it('generates an RSA-2048 key per domain whose public half is the published p=', async () => {
    const key = await keys.generate('Example.TEST', { selector: 'sel1' });
    assert.equal(key.domain, 'example.test');
    assert.equal(key.selector, 'sel1');
    assert.equal(key.algorithm, 'rsa-sha256');
    assert.equal(key.createdAt, '2024-05-01T00:00:00.000Z');
    const pub = createPublicKey({
      key: Buffer.from(key.publicKey, 'base64'),
      format: 'der',
      type: 'spki',
    });
    assert.equal(pub.asymmetricKeyDetails?.modulusLength, 2048);
    // the stored private key signs what the published key verifies
    const signature = createSign('sha256').update('hello').sign(key.privateKey);
    assert.ok(createVerify('sha256').update('hello').verify(pub, signature));
    assert.deepEqual(dnsRecordOf(key), {
      name: 'sel1._domainkey.example.test',
      type: 'TXT',
      value: `v=DKIM1; k=rsa; p=${key.publicKey}`,
    });
    assert.deepEqual(await keys.get('EXAMPLE.test'), key);
    assert.deepEqual(
      (await keys.list()).map((k) => k.domain),
      ['example.test'],
    );
  });

  it('replaces a key on generate, removes it, and checks its input', async () => {
    const a = await keys.generate('example.test', { selector: 'a' });
    const b = await keys.generate('example.test', { selector: 'b', bits: 1024 });
    assert.notEqual(a.publicKey, b.publicKey);
    assert.equal((await keys.get('example.test'))?.selector, 'b');
    assert.equal(await keys.remove('example.test'), true);
    assert.equal(await keys.remove('example.test'), false);
    assert.equal(await keys.get('example.test'), undefined);
    assert.equal(await keys.get('not a domain!'), undefined);
    await assert.rejects(keys.generate('example.test', { selector: 'bad selector' }), (e) =>
      isCommuneError(e, 'invalid-argument'),
    );
    await assert.rejects(keys.generate('example.test', { selector: 'x', bits: 512 }), (e) =>
      isCommuneError(e, 'invalid-argument'),
    );
  });

  it('domain.dkim shows the key of a local domain, creating it once', async () => {
    const directory = new Directory({
      storage,
      primaryDomain: 'example.test',
      hasher: new Argon2idHasher({ memoryCost: 64, timeCost: 1, parallelism: 1 }),
    });
    await directory.addDomain('example.test');
    const cmd = dkimAdminCommands['domain.dkim'];
    const services = { directory, storage, dkimSelector: 'mail' };
    const first = (await cmd.run(services, { name: 'example.test' })) as {
      dkim: { created: boolean; selector: string; record: { name: string; value: string } };
    };
    assert.equal(first.dkim.created, true);
    assert.equal(first.dkim.record.name, 'mail._domainkey.example.test');
    const again = (await cmd.run(services, { name: 'example.test' })) as typeof first;
    assert.equal(again.dkim.created, false);
    assert.equal(again.dkim.record.value, first.dkim.record.value);
    const rotated = (await cmd.run(services, {
      name: 'example.test',
      rotate: true,
    })) as typeof first;
    assert.equal(rotated.dkim.created, true);
    assert.notEqual(rotated.dkim.record.value, first.dkim.record.value);
    await assert.rejects(cmd.run(services, { name: 'unknown.test' }), (e) =>
      isCommuneError(e, 'not-found'),
    );
  });
});
