import assert from 'node:assert/strict';
import { Argon2idHasher } from '../../../src/storage/directory/password-hasher.ts';

describe('Argon2idHasher', () => {
  const hasher = new Argon2idHasher({ memoryCost: 64, timeCost: 1, parallelism: 1 });

  it('produces argon2id PHC strings with the configured parameters and a fresh salt', async () => {
    const a = await hasher.hash('correct horse');
    const b = await hasher.hash('correct horse');
    assert.match(a, /^\$argon2id\$v=19\$m=64,t=1,p=1\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/);
    assert.notEqual(a, b);
  });

  it('uses the OWASP parameters by default', async () => {
    const phc = await new Argon2idHasher().hash('pw');
    assert.match(phc, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  });

  it('verifies the right password and rejects a wrong one', async () => {
    const phc = await hasher.hash('s3cret');
    assert.equal(await hasher.verify(phc, 's3cret'), true);
    assert.equal(await hasher.verify(phc, 's3cret '), false);
    assert.equal(await hasher.verify(phc, ''), false);
  });

  it('returns false instead of throwing on malformed stored hashes', async () => {
    for (const bad of [
      '',
      'plain-text',
      '$argon2id$',
      '$argon2id$v=19$m=64,t=1,p=1$!!$!!',
      '$2b$10$abc',
    ]) {
      assert.equal(await hasher.verify(bad, 'pw'), false, bad);
    }
  });
});
