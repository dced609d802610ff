import assert from 'node:assert/strict';
import { AuthRateLimiter, clientKey } from '../../../src/storage/directory/auth-rate-limiter.ts';

describe('AuthRateLimiter', () => {
  let clock: number;
  const make = (options: ConstructorParameters<typeof AuthRateLimiter>[0] = {}) =>
    new AuthRateLimiter({ windowMs: 60_000, ...options, now: () => clock });

  beforeEach(() => {
    clock = 1_000_000;
  });

  it('blocks a login after its limit and tells how long to wait', () => {
    const limiter = make({ maxFailuresPerUser: 3 });
    for (let i = 0; i < 3; i++) {
      assert.deepEqual(limiter.check('alice@example.test', '10.0.0.1'), {
        allowed: true,
        retryAfter: 0,
      });
      limiter.recordFailure('alice@example.test', '10.0.0.1');
      clock += 1000;
    }
    // Failures at t0, t0+1s, t0+2s; now t0+3s: the first ages out at t0+60s.
    assert.deepEqual(limiter.check('alice@example.test', '10.0.0.9'), {
      allowed: false,
      retryAfter: 57,
    });
    assert.equal(limiter.check('bob@example.test', '10.0.0.1').allowed, true);
  });

  it('counts logins case-insensitively', () => {
    const limiter = make({ maxFailuresPerUser: 2 });
    limiter.recordFailure('Alice@Example.TEST');
    limiter.recordFailure('alice@example.test');
    assert.equal(limiter.check('ALICE@example.test').allowed, false);
  });

  it('slides: one more attempt is allowed as each failure ages out', () => {
    const limiter = make({ maxFailuresPerUser: 2 });
    limiter.recordFailure('u');
    clock += 10_000;
    limiter.recordFailure('u');
    assert.equal(limiter.check('u').allowed, false);
    clock += 50_000; // the first failure is now exactly one window old
    assert.equal(limiter.check('u').allowed, true);
    limiter.recordFailure('u');
    assert.deepEqual(limiter.check('u'), { allowed: false, retryAfter: 10 });
    clock += 60_000;
    assert.equal(limiter.check('u').allowed, true);
  });

  it('success resets the login count but not the address count', () => {
    const limiter = make({ maxFailuresPerUser: 2, maxFailuresPerAddress: 3 });
    limiter.recordFailure('u', '192.0.2.1');
    limiter.recordFailure('u', '192.0.2.1');
    assert.equal(limiter.check('u').allowed, false);
    limiter.recordSuccess('u');
    assert.equal(limiter.check('u').allowed, true);
    limiter.recordFailure('v', '192.0.2.1');
    assert.equal(limiter.check('w', '192.0.2.1').allowed, false);
  });

  it('blocks a client address across logins', () => {
    const limiter = make({ maxFailuresPerAddress: 3 });
    for (const login of ['a', 'b', 'c']) limiter.recordFailure(login, '198.51.100.7');
    const verdict = limiter.check('fresh-user', '198.51.100.7');
    assert.equal(verdict.allowed, false);
    assert.equal(verdict.retryAfter, 60);
    assert.equal(limiter.check('fresh-user', '198.51.100.8').allowed, true);
    assert.equal(limiter.check('fresh-user').allowed, true);
  });

  it('groups IPv6 clients by /64 and unwraps IPv4-mapped addresses', () => {
    assert.equal(clientKey('2001:db8:1:2::5'), '2001:db8:1:2::/64');
    assert.equal(clientKey('2001:0DB8:0001:0002:ffff:1:2:3'), '2001:db8:1:2::/64');
    assert.equal(clientKey('[2001:db8:1:2::9%eth0]'), '2001:db8:1:2::/64');
    assert.equal(clientKey('::1'), '0:0:0:0::/64');
    assert.equal(clientKey('::ffff:192.0.2.1'), '192.0.2.1');
    assert.equal(clientKey('192.0.2.1'), '192.0.2.1');
    const limiter = make({ maxFailuresPerAddress: 2 });
    limiter.recordFailure('a', '2001:db8:1:2::1');
    limiter.recordFailure('b', '2001:db8:1:2:aaaa::2');
    assert.equal(limiter.check('c', '2001:db8:1:2::3').allowed, false);
    assert.equal(limiter.check('c', '2001:db8:1:3::3').allowed, true);
  });

  it('keeps memory bounded: caps keys and sweeps idle ones', () => {
    const limiter = make({ maxKeys: 50 });
    for (let i = 0; i < 500; i++) limiter.recordFailure(`user${i}`, `10.0.${i >> 8}.${i & 255}`);
    assert.deepEqual(limiter.trackedKeys, { logins: 50, addresses: 50 });
    // The newest keys survive the cap, the oldest were evicted.
    assert.equal(limiter.check('user0').allowed, true);

    clock += 120_000;
    for (let i = 0; i < 10; i++) limiter.recordFailure(`late${i}`);
    // Each new failure sweeps a few idle keys: the 50 stale logins are gone.
    assert.equal(limiter.trackedKeys.logins, 10);
  });
});
