/** Shared set-up for directory tests: a memory Storage, a cheap hasher, a fake clock. */

import type { BlobStore } from '../../../src/storage/blob-store.ts';
import { LocalChangeBus } from '../../../src/storage/local-change-bus.ts';
import { MemoryStore } from '../../../src/storage/backends/memory-store.ts';
import { Storage } from '../../../src/storage/storage.ts';
import { AuthRateLimiter } from '../../../src/storage/directory/auth-rate-limiter.ts';
import type { AuthRateLimiterOptions } from '../../../src/storage/directory/auth-rate-limiter.ts';
import { Directory } from '../../../src/storage/directory/directory.ts';
import { Argon2idHasher } from '../../../src/storage/directory/password-hasher.ts';
import type { PasswordHasher } from '../../../src/storage/directory/password-hasher.ts';

/** argon2id at minimal cost: real hashing, fast tests. */
export function cheapHasher(): Argon2idHasher {
  return new Argon2idHasher({ memoryCost: 64, timeCost: 1, parallelism: 1 });
}

/** The directory never touches blobs; any call is a test failure. */
function unusedBlobs(): BlobStore {
  const fail = (): never => {
    throw new Error('blob store not expected in directory tests');
  };
  return {
    put: fail,
    get: fail,
    getBytes: fail,
    size: fail,
    has: fail,
    delete: fail,
    list: fail,
    close: async () => {},
  };
}

/** A hasher that counts verifications (wraps the cheap one). */
export class CountingHasher implements PasswordHasher {
  readonly inner = cheapHasher();
  verifications = 0;

  hash(password: string): Promise<string> {
    return this.inner.hash(password);
  }

  verify(hash: string, password: string): Promise<boolean> {
    this.verifications++;
    return this.inner.verify(hash, password);
  }
}

export interface Fixture {
  readonly storage: Storage;
  readonly directory: Directory;
  readonly limiter: AuthRateLimiter;
  readonly hasher: CountingHasher;
  /** Fake clock shared by the directory and the limiter; tests move `ms` forward. */
  readonly clock: { ms: number };
}

export function makeDirectory(limits: AuthRateLimiterOptions = {}): Fixture {
  const storage = new Storage({
    store: new MemoryStore(),
    blobs: unusedBlobs(),
    bus: new LocalChangeBus(),
  });
  const clock = { ms: Date.UTC(2026, 0, 1) };
  const hasher = new CountingHasher();
  const limiter = new AuthRateLimiter({ ...limits, now: () => clock.ms });
  const directory = new Directory({
    storage,
    primaryDomain: 'example.test',
    hasher,
    limiter,
    now: () => new Date(clock.ms),
  });
  return { storage, directory, limiter, hasher, clock };
}
