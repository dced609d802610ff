/**
 * Where an envelope recipient goes: to local accounts (an address or alias, a subaddress
 * `local+detail@` (RFC 5233), a group expanded as a distribution list, or a domain's catch-all
 * address), nowhere (a local domain without that user), or out (a domain that is not ours).
 */

import type { Principal } from '../../core/principal.ts';
import type { Directory } from '../../storage/directory/directory.ts';
import { normalizeDomain } from '../../storage/directory/directory.ts';

/** One mailbox owner a message is delivered to. */
export interface LocalTarget {
  /** Principal id: the mail account. */
  readonly account: number;
  /** The principal's primary address (for logs and Delivered-To). */
  readonly address: string;
  /** The RFC 5233 detail of the recipient address, when it had one. */
  readonly detail: string | undefined;
}

export type RecipientRoute =
  | { readonly kind: 'local'; readonly address: string; readonly targets: readonly LocalTarget[] }
  | { readonly kind: 'unknown'; readonly address: string }
  | { readonly kind: 'remote'; readonly address: string; readonly domain: string };

export interface RecipientRouterOptions {
  readonly directory: Directory;
  /** Addresses that take mail for unknown local parts of their own domain. */
  readonly catchAll?: readonly string[];
  /** Most accounts one group address expands to. */
  readonly maxExpansion?: number;
}

/** The domain of an address as the directory stores it (IDNA, lower case), or undefined. */
export function addressDomain(address: string): string | undefined {
  const at = address.lastIndexOf('@');
  if (at <= 0 || at === address.length - 1) return undefined;
  const raw = address.slice(at + 1);
  if (raw.startsWith('[')) return undefined;
  try {
    return normalizeDomain(raw);
  } catch {
    return undefined;
  }
}

export class RecipientRouter {
  readonly #directory: Directory;
  readonly #catchAll: ReadonlyMap<string, string>;
  readonly #maxExpansion: number;

  constructor(options: RecipientRouterOptions) {
    this.#directory = options.directory;
    this.#maxExpansion = options.maxExpansion ?? 1000;
    const catchAll = new Map<string, string>();
    for (const address of options.catchAll ?? []) {
      const domain = addressDomain(address);
      if (domain !== undefined) catchAll.set(domain, address);
    }
    this.#catchAll = catchAll;
  }

  async isLocalDomain(domain: string): Promise<boolean> {
    return (await this.#directory.getDomain(domain)) !== undefined;
  }

  async route(address: string): Promise<RecipientRoute> {
    const domain = addressDomain(address);
    if (domain === undefined || !(await this.isLocalDomain(domain))) {
      return { kind: 'remote', address, domain: domain ?? '' };
    }
    let found = await this.#directory.resolveRecipient(address);
    // step: unknown local part -> the domain's catch-all, if any
    if (found === undefined) {
      const catchAll = this.#catchAll.get(domain);
      if (catchAll !== undefined) found = await this.#directory.resolveRecipient(catchAll);
    }
    if (found === undefined) return { kind: 'unknown', address };
    const targets = await this.#expand(found.principal, found.detail);
    return targets.length === 0
      ? { kind: 'unknown', address }
      : { kind: 'local', address, targets };
  }

  /** The accounts behind a principal: itself, or every member of a group (nested, once each). */
  async #expand(principal: Principal, detail: string | undefined): Promise<LocalTarget[]> {
    if (principal.kind !== 'group') {
      return [{ account: principal.id, address: principal.address, detail }];
    }
    const out = new Map<number, LocalTarget>();
    const seen = new Set<number>([principal.id]);
    const pending = [principal.id];
    for (let group = pending.shift(); group !== undefined; group = pending.shift()) {
      for (const member of await this.#directory.members(group)) {
        if (seen.has(member.id)) continue;
        seen.add(member.id);
        if (member.kind === 'group') pending.push(member.id);
        else out.set(member.id, { account: member.id, address: member.address, detail: undefined });
        if (out.size >= this.#maxExpansion) return [...out.values()];
      }
    }
    return [...out.values()];
  }
}
