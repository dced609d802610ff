/**
 * Password hashing for the directory: argon2id (RFC 9106) in PHC string form. The contract is
 * an interface so tests and future policies (pepper, rehash on login) can swap it.
 */

import { hash as argon2Hash, verify as argon2Verify } from '@node-rs/argon2';
import type { Algorithm } from '@node-rs/argon2';

export interface PasswordHasher {
  /** Hash a password into a self-describing PHC string (salt and parameters included). */
  hash(password: string): Promise<string>;
  /** True when `password` matches `hash`; false (never a throw) for a malformed hash. */
  verify(hash: string, password: string): Promise<boolean>;
}

export interface Argon2idOptions {
  /** Memory per hash in KiB (OWASP minimum for argon2id: 19456 = 19 MiB). */
  readonly memoryCost?: number;
  /** Passes over memory. */
  readonly timeCost?: number;
  /** Lanes. */
  readonly parallelism?: number;
}

/** argon2id, RFC 9106 §4 variant "id"; the type parameter value 2. */
const ARGON2ID = 2 as Algorithm;

/**
 * argon2id on @node-rs/argon2 (native, runs off the main thread). Defaults follow the OWASP
 * password storage recommendation (m=19456 KiB, t=2, p=1); tests pass lower costs.
 */
export class Argon2idHasher implements PasswordHasher {
  readonly #options: { memoryCost: number; timeCost: number; parallelism: number };

  constructor(options: Argon2idOptions = {}) {
    this.#options = {
      memoryCost: options.memoryCost ?? 19456,
      timeCost: options.timeCost ?? 2,
      parallelism: options.parallelism ?? 1,
    };
  }

  hash(password: string): Promise<string> {
    return argon2Hash(password, { ...this.#options, algorithm: ARGON2ID });
  }

  async verify(hash: string, password: string): Promise<boolean> {
    // Parameters come from the stored PHC string; a malformed one is a plain mismatch.
    if (!hash.startsWith('$argon2')) return false;
    try {
      return await argon2Verify(hash, password);
    } catch {
      return false;
    }
  }
}
