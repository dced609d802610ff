/**
 * The one login rate limiter every protocol shares (IMAP, SMTP AUTH, HTTP, LDAP bind, SIP).
 * Failed logins are counted in a sliding window per login name and per client address; once
 * a key reaches its limit it is blocked until enough of its failures age out of the window.
 * In-memory and node-local: each node limits on its own. Memory is bounded: idle keys are
 * swept as new failures arrive and the number of tracked keys is capped (oldest evicted).
 */

export interface AuthRateLimiterOptions {
  /** Failures per login name within the window before that login is blocked. */
  readonly maxFailuresPerUser?: number;
  /** Failures per client address within the window before that address is blocked. */
  readonly maxFailuresPerAddress?: number;
  /** Sliding window length in milliseconds. */
  readonly windowMs?: number;
  /** Most keys tracked per kind (login, address); the least recently failed are evicted. */
  readonly maxKeys?: number;
  /** Clock in milliseconds (tests inject a fake one). */
  readonly now?: () => number;
}

export interface RateLimitVerdict {
  readonly allowed: boolean;
  /** Seconds until an attempt may be allowed again; 0 when allowed. */
  readonly retryAfter: number;
}

/** Keys swept per recorded failure, so idle entries drain without a timer. */
const SWEEP_PER_FAILURE = 8;
/** Longest login name kept as a key (longer ones are truncated). */
const MAX_LOGIN_KEY = 320;

/** Failure timestamps per key; Map order = least recently failed first. */
class FailureWindow {
  readonly #failures = new Map<string, number[]>();
  readonly #limit: number;
  readonly #windowMs: number;
  readonly #maxKeys: number;

  constructor(limit: number, windowMs: number, maxKeys: number) {
    this.#limit = limit;
    this.#windowMs = windowMs;
    this.#maxKeys = maxKeys;
  }

  get size(): number {
    return this.#failures.size;
  }

  /** When blocked, the time (ms) at which one more attempt becomes allowed; else undefined. */
  blockedUntil(key: string, now: number): number | undefined {
    const list = this.#live(key, now);
    if (list === undefined || list.length < this.#limit) return undefined;
    return (list[list.length - this.#limit] as number) + this.#windowMs;
  }

  add(key: string, now: number): void {
    const list = this.#live(key, now) ?? [];
    list.push(now);
    // Only the newest `limit` timestamps ever matter.
    if (list.length > this.#limit) list.splice(0, list.length - this.#limit);
    this.#failures.delete(key);
    this.#failures.set(key, list);
    this.#sweep(now);
    while (this.#failures.size > this.#maxKeys) {
      const oldest = this.#failures.keys().next();
      if (oldest.done === true) break;
      this.#failures.delete(oldest.value);
    }
  }

  reset(key: string): void {
    this.#failures.delete(key);
  }

  /** The key's failures still inside the window (pruned in place). */
  #live(key: string, now: number): number[] | undefined {
    const list = this.#failures.get(key);
    if (list === undefined) return undefined;
    const cutoff = now - this.#windowMs;
    let drop = 0;
    while (drop < list.length && (list[drop] as number) <= cutoff) drop++;
    if (drop === list.length) {
      this.#failures.delete(key);
      return undefined;
    }
    if (drop > 0) list.splice(0, drop);
    return list;
  }

  /** Drop a few of the least recently failed keys whose failures have all aged out. */
  #sweep(now: number): void {
    const cutoff = now - this.#windowMs;
    let n = 0;
    for (const [key, list] of this.#failures) {
      if (n++ >= SWEEP_PER_FAILURE) break;
      const last = list[list.length - 1];
      if (last !== undefined && last > cutoff) break;
      this.#failures.delete(key);
    }
  }
}

export class AuthRateLimiter {
  readonly #logins: FailureWindow;
  readonly #addresses: FailureWindow;
  readonly #now: () => number;

  constructor(options: AuthRateLimiterOptions = {}) {
    const windowMs = options.windowMs ?? 5 * 60_000;
    const maxKeys = options.maxKeys ?? 100_000;
    this.#logins = new FailureWindow(options.maxFailuresPerUser ?? 10, windowMs, maxKeys);
    this.#addresses = new FailureWindow(options.maxFailuresPerAddress ?? 30, windowMs, maxKeys);
    this.#now = options.now ?? Date.now;
  }

  /** Whether an attempt for `login` from `address` may proceed now. */
  check(login: string, address = ''): RateLimitVerdict {
    const now = this.#now();
    const client = clientKey(address);
    let until = this.#logins.blockedUntil(loginKey(login), now) ?? 0;
    if (client !== '') until = Math.max(until, this.#addresses.blockedUntil(client, now) ?? 0);
    if (until <= now) return { allowed: true, retryAfter: 0 };
    return { allowed: false, retryAfter: Math.max(1, Math.ceil((until - now) / 1000)) };
  }

  recordFailure(login: string, address = ''): void {
    const now = this.#now();
    this.#logins.add(loginKey(login), now);
    const client = clientKey(address);
    if (client !== '') this.#addresses.add(client, now);
  }

  /** A successful login clears that login's failures (not the client address's). */
  recordSuccess(login: string): void {
    this.#logins.reset(loginKey(login));
  }

  /** Number of keys currently tracked, per kind (for metrics and tests). */
  get trackedKeys(): { logins: number; addresses: number } {
    return { logins: this.#logins.size, addresses: this.#addresses.size };
  }
}

function loginKey(login: string): string {
  return login.trim().toLowerCase().slice(0, MAX_LOGIN_KEY);
}

/**
 * The key a client address is counted under: IPv4 as is (also when IPv4-mapped), IPv6 by its
 * /64 prefix, since one host usually holds a whole /64.
 */
export function clientKey(address: string): string {
  let a = address.trim().toLowerCase();
  if (a.startsWith('[') && a.endsWith(']')) a = a.slice(1, -1);
  const zone = a.indexOf('%');
  if (zone >= 0) a = a.slice(0, zone);
  if (a.startsWith('::ffff:') && a.includes('.')) return a.slice('::ffff:'.length);
  if (!a.includes(':')) return a;
  const groups = expandIpv6(a);
  return groups === undefined ? a : `${groups.slice(0, 4).join(':')}::/64`;
}

/** The eight 16-bit groups of an IPv6 address (lower-case hex, no leading zeros). */
function expandIpv6(address: string): string[] | undefined {
  const halves = address.split('::');
  if (halves.length > 2) return undefined;
  const split = (s: string | undefined): string[] => (s ? s.split(':') : []);
  const head = split(halves[0]);
  const tail = split(halves[1]);
  // An embedded IPv4 tail stands for two groups.
  const width = (gs: string[]): number => gs.reduce((n, g) => n + (g.includes('.') ? 2 : 1), 0);
  const missing = 8 - width(head) - width(tail);
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  const out: string[] = [];
  for (const g of groups) {
    if (g.includes('.')) {
      out.push('v4', 'v4');
      continue;
    }
    if (!/^[0-9a-f]{1,4}$/.test(g)) return undefined;
    out.push(parseInt(g, 16).toString(16));
  }
  return out;
}
