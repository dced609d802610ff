/**
 * DNS for mail: every lookup SMTP makes (MX and address records for outbound delivery, TXT
 * for SPF/DKIM/DMARC/ARC, PTR for the client's name) goes through one `Resolver`. Production
 * uses node:dns/promises; tests use `StaticResolver`, a fixed table, so nothing reaches the
 * network. A missing name fails with code ENOTFOUND and a name without records of the type
 * with ENODATA, as node:dns does; mailauth reads those codes as "none", anything else as a
 * temporary error.
 */

import { Resolver as DnsResolver } from 'node:dns/promises';

/** An MX record (RFC 5321 §5.1). */
export interface MxRecord {
  readonly exchange: string;
  readonly priority: number;
}

export interface Resolver {
  /** TXT records, each as its character-strings (RFC 1035 §3.3.14). */
  txt(name: string): Promise<string[][]>;
  mx(name: string): Promise<MxRecord[]>;
  a(name: string): Promise<string[]>;
  aaaa(name: string): Promise<string[]>;
  /** Names of an IP address (reverse lookup); also takes an in-addr.arpa / ip6.arpa name. */
  ptr(ip: string): Promise<string[]>;
}

/** An error shaped like node:dns's. */
export class DnsError extends Error {
  readonly code: string;
  readonly hostname: string;

  constructor(code: 'ENOTFOUND' | 'ENODATA' | 'ETIMEOUT' | 'ESERVFAIL', hostname: string) {
    super(`${code} ${hostname}`);
    this.name = 'DnsError';
    this.code = code;
    this.hostname = hostname;
  }
}

/** True when a lookup failed because the name or record does not exist (not a DNS outage). */
export function isNoRecord(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'ENOTFOUND' || code === 'ENODATA';
}

/** The production resolver: the system's DNS servers via node:dns/promises. */
export function systemResolver(options: { timeoutMs?: number; tries?: number } = {}): Resolver {
  const dns = new DnsResolver({ timeout: options.timeoutMs ?? 5000, tries: options.tries ?? 2 });
  return {
    txt: (name) => dns.resolveTxt(name),
    mx: (name) => dns.resolveMx(name),
    a: (name) => dns.resolve4(name),
    aaaa: (name) => dns.resolve6(name),
    ptr: (ip) => (ip.endsWith('.arpa') ? dns.resolvePtr(ip) : dns.reverse(ip)),
  };
}

/** Records of one name in a StaticResolver table. TXT values are whole strings. */
export interface StaticRecords {
  readonly A?: readonly string[];
  readonly AAAA?: readonly string[];
  readonly MX?: readonly MxRecord[];
  readonly TXT?: readonly string[];
  readonly PTR?: readonly string[];
}

function canonical(name: string): string {
  return name.trim().toLowerCase().replace(/\.$/, '');
}

/** Reverse-lookup name of an IPv4 address, as the table keys PTR records (1.0.0.127.in-addr.arpa). */
function reverseName(ip: string): string {
  const v4 = ip.startsWith('::ffff:') ? ip.slice(7) : ip;
  return /^\d+\.\d+\.\d+\.\d+$/.test(v4)
    ? `${v4.split('.').reverse().join('.')}.in-addr.arpa`
    : canonical(ip);
}

/**
 * A fixed table of records (tests, benchmarks, air-gapped set-ups). Names are
 * case-insensitive; PTR records are keyed by the IP address itself or its in-addr.arpa name.
 * `set` replaces the records of a name, so a test can publish a key after start.
 */
export class StaticResolver implements Resolver {
  readonly #table = new Map<string, StaticRecords>();

  constructor(table: Readonly<Record<string, StaticRecords>> = {}) {
    for (const [name, records] of Object.entries(table)) this.set(name, records);
  }

  set(name: string, records: StaticRecords): void {
    this.#table.set(canonical(name), records);
  }

  #lookup<K extends keyof StaticRecords>(name: string, type: K): NonNullable<StaticRecords[K]> {
    const records = this.#table.get(canonical(name));
    if (records === undefined) throw new DnsError('ENOTFOUND', name);
    const found = records[type];
    if (found === undefined || found.length === 0) throw new DnsError('ENODATA', name);
    return found as NonNullable<StaticRecords[K]>;
  }

  async txt(name: string): Promise<string[][]> {
    // step: split long strings into 255-byte character-strings, as a zone file would
    return this.#lookup(name, 'TXT').map((t) => t.match(/[\s\S]{1,255}/g) ?? ['']);
  }

  async mx(name: string): Promise<MxRecord[]> {
    return [...this.#lookup(name, 'MX')];
  }

  async a(name: string): Promise<string[]> {
    return [...this.#lookup(name, 'A')];
  }

  async aaaa(name: string): Promise<string[]> {
    return [...this.#lookup(name, 'AAAA')];
  }

  async ptr(ip: string): Promise<string[]> {
    const byIp = this.#table.get(canonical(ip));
    return [...this.#lookup(byIp?.PTR ? ip : reverseName(ip), 'PTR')];
  }
}

/** The resolver function mailauth takes: (name, rrtype) => records as node:dns returns them. */
export type MailauthResolver = (name: string, rrtype: string) => Promise<never[]>;

export function mailauthResolver(resolver: Resolver): MailauthResolver {
  return async (name, rrtype) => {
    let out: unknown;
    switch (rrtype.toUpperCase()) {
      case 'TXT':
        out = await resolver.txt(name);
        break;
      case 'MX':
        out = await resolver.mx(name);
        break;
      case 'A':
        out = await resolver.a(name);
        break;
      case 'AAAA':
        out = await resolver.aaaa(name);
        break;
      case 'PTR':
        out = await resolver.ptr(name);
        break;
      default:
        throw new DnsError('ENODATA', name);
    }
    return out as never[];
  };
}
