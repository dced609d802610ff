/**
 * HTTP authentication for user-facing services (DAV now, others later): Basic (RFC 7617) with
 * the account password or an app password, checked by the Directory (shared rate limiter).
 * Passwords travel only over TLS, from loopback clients, or when auth.allowPlaintext says so;
 * otherwise the request is refused before the credentials are looked at.
 *
 * Bearer tokens (RFC 6750) issued through the admin API (`commune token add`) authenticate as
 * their user (method 'token'), under the same transport rule as passwords. The admin token
 * itself is not a user credential and is refused here.
 *
 * Successful password verifications are cached for a short time (keyed by a SHA-256 of a
 * per-process secret, the login and the password) so DAV clients, which send credentials with every
 * request, do not pay an argon2id verification each time. The AccessContext itself is rebuilt
 * from the directory on every request, so a disabled account or a changed group membership
 * takes effect at once; a changed password within `cacheTtlMs`.
 */

import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { CommuneError } from '../../core/errors.ts';
import type { HttpRequestContext } from '../../core/lifecycle.ts';
import type { AccessContext } from '../../core/principal.ts';
import type { Directory } from '../../storage/directory/directory.ts';
import { isLoopback } from './admin-api.ts';

export interface HttpAuthOptions {
  readonly directory: Directory;
  /** Accept Basic credentials over plain HTTP from non-loopback clients. */
  readonly allowPlaintext: boolean;
  readonly realm?: string;
  /** How long a verified credential is trusted without re-checking; 0 disables the cache. */
  readonly cacheTtlMs?: number;
  readonly maxCacheEntries?: number;
  readonly now?: () => number;
}

interface Cached {
  readonly principalId: number;
  readonly method: AccessContext['method'];
  readonly expires: number;
}

const MAX_HEADER = 4096;

export class HttpAuthenticator {
  readonly realm: string;
  readonly #directory: Directory;
  readonly #allowPlaintext: boolean;
  readonly #ttl: number;
  readonly #maxEntries: number;
  readonly #now: () => number;
  readonly #secret = randomBytes(32);
  readonly #cache = new Map<string, Cached>();

  constructor(options: HttpAuthOptions) {
    this.#directory = options.directory;
    this.#allowPlaintext = options.allowPlaintext;
    this.realm = options.realm ?? 'Commune';
    this.#ttl = options.cacheTtlMs ?? 60_000;
    this.#maxEntries = options.maxCacheEntries ?? 10_000;
    this.#now = options.now ?? Date.now;
  }

  /** The WWW-Authenticate challenge for 401 responses. */
  challenge(): string {
    return `Basic realm="${this.realm}", charset="UTF-8"`;
  }

  /**
   * The caller's AccessContext. Throws CommuneError 'auth-failed' (401: missing, malformed or
   * wrong credentials, or an unsupported scheme), 'forbidden' (403: password over plain HTTP
   * from a remote client) or 'rate-limited' (429).
   */
  async authenticate(req: IncomingMessage, ctx: HttpRequestContext): Promise<AccessContext> {
    const header = req.headers.authorization;
    if (header === undefined || header.length > MAX_HEADER) {
      throw new CommuneError('auth-failed', 'authentication required');
    }
    const m = /^([A-Za-z]+) +(\S+)\s*$/.exec(header);
    const scheme = m?.[1]?.toLowerCase();
    if (!m || (scheme !== 'basic' && scheme !== 'bearer')) {
      throw new CommuneError('auth-failed', 'use Basic or Bearer authentication');
    }
    if (!ctx.secure && !this.#allowPlaintext && !isLoopback(ctx.remoteAddress)) {
      throw new CommuneError('forbidden', 'credentials are accepted over HTTPS only');
    }
    if (scheme === 'bearer') {
      return this.#directory.authenticateToken(m[2] as string, ctx.remoteAddress);
    }
    const decoded = Buffer.from(m[2] as string, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon <= 0) throw new CommuneError('auth-failed', 'malformed Basic credentials');
    const login = decoded.slice(0, colon);
    const password = decoded.slice(colon + 1);

    // 1. A recently verified credential
    const key = createHash('sha256')
      .update(this.#secret)
      .update(login)
      .update('\0')
      .update(password)
      .digest('base64');
    const now = this.#now();
    const hit = this.#cache.get(key);
    if (hit && hit.expires > now) {
      const principal = await this.#directory.getPrincipal(hit.principalId);
      if (principal && !principal.disabled)
        return this.#directory.accessContext(principal, hit.method);
    }
    if (hit) this.#cache.delete(key);

    // 2. The directory (rate limited, constant-ish time)
    const access = await this.#directory.authenticate({
      login,
      password,
      remoteAddress: ctx.remoteAddress,
      protocol: 'http',
    });
    if (this.#ttl > 0) {
      if (this.#cache.size >= this.#maxEntries) {
        const oldest = this.#cache.keys().next().value;
        if (oldest !== undefined) this.#cache.delete(oldest);
      }
      this.#cache.set(key, {
        principalId: access.principalId,
        method: access.method,
        expires: now + this.#ttl,
      });
    }
    return access;
  }

  /** Forget every cached verification (after a password change, for instance). */
  clearCache(): void {
    this.#cache.clear();
  }
}
