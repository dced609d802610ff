/**
 * How the queue's mail leaves (QueueTransport): recipients in local domains go to their
 * mailboxes; others go to a configured smarthost (queue.smarthost, with AUTH and TLS), or to
 * the MX hosts of their domain (RFC 5321 §5.1: MX records by preference, else the domain's own
 * address records; a null MX (RFC 7505) fails at once). Each remote host is tried in turn until
 * one answers; the answer decides each recipient: 2xx delivered, 4xx deferred, 5xx failed.
 */

import type { ConnectionOptions } from 'node:tls';
import { isCommuneError } from '../../core/errors.ts';
import type { Logger } from '../../core/log.ts';
import type { QueueSettings } from '../../storage/queue/queue-settings.ts';
import type {
  DeliveryRequest,
  QueueTransport,
  RecipientResult,
} from '../../storage/queue/queue-worker.ts';
import type { LocalDelivery } from './local-delivery.ts';
import type { RecipientRouter } from './recipient-router.ts';
import type { Resolver } from './resolver.ts';
import { isNoRecord } from './resolver.ts';
import { smtpSend } from './smtp-client.ts';
import type { SmtpSendResult, SmtpTarget } from './smtp-client.ts';

export interface OutboundTransportOptions {
  readonly router: RecipientRouter;
  readonly delivery: LocalDelivery;
  readonly resolver: Resolver;
  readonly settings: QueueSettings;
  /** Our name for EHLO. */
  readonly hostname: string;
  readonly log: Logger;
  /** TLS options for remote connections (tests trust their own certificate here). */
  readonly tls?: ConnectionOptions;
  /** The SMTP conversation (tests may replace it). */
  readonly send?: typeof smtpSend;
}

/** A parsed queue.smarthost URL: smtp://user:pass@host:587 or smtps://host:465. */
export interface Smarthost {
  readonly host: string;
  readonly port: number;
  readonly secure: boolean;
  readonly auth?: { readonly user: string; readonly pass: string };
}

export function parseSmarthost(value: string): Smarthost | undefined {
  if (value.trim() === '') return undefined;
  const url = new URL(value.includes('://') ? value : `smtp://${value}`);
  const secure = url.protocol === 'smtps:';
  if (!secure && url.protocol !== 'smtp:') throw new Error('smarthost must be smtp:// or smtps://');
  const user = decodeURIComponent(url.username);
  return {
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port === '' ? (secure ? 465 : 587) : Number(url.port),
    secure,
    ...(user === '' ? {} : { auth: { user, pass: decodeURIComponent(url.password) } }),
  };
}

/** The enhanced code in a reply ("550 5.1.1 ..."), or the class default. */
export function enhancedOf(reply: string, fallback: string): string {
  const m = /^\d{3}[ -]([245]\.\d{1,3}\.\d{1,3})\b/.exec(reply);
  return m?.[1] ?? fallback;
}

function outcomeOf(reply: string, address: string, remoteMta: string | undefined): RecipientResult {
  const first = reply.trim()[0];
  const outcome = first === '2' ? 'delivered' : first === '5' ? 'failed' : 'deferred';
  const fallback = first === '2' ? '2.0.0' : first === '5' ? '5.0.0' : '4.0.0';
  return {
    address,
    outcome,
    result: reply.trim().replace(/\s+/g, ' '),
    status: enhancedOf(reply.trim(), fallback),
    ...(remoteMta === undefined ? {} : { remoteMta }),
    ...(outcome === 'delivered' ? { action: 'relayed' as const } : {}),
  };
}

function all(
  request: DeliveryRequest,
  outcome: RecipientResult['outcome'],
  status: string,
  result: string,
  remoteMta?: string,
): RecipientResult[] {
  return request.recipients.map((r) => ({
    address: r.address,
    outcome,
    status,
    result,
    ...(remoteMta === undefined ? {} : { remoteMta }),
  }));
}

interface Candidate extends SmtpTarget {
  /** Name for reports (the MX host name). */
  readonly name: string;
}

export class OutboundTransport implements QueueTransport {
  readonly #options: OutboundTransportOptions;
  readonly #smarthost: Smarthost | undefined;
  readonly #send: typeof smtpSend;

  constructor(options: OutboundTransportOptions) {
    this.#options = options;
    this.#smarthost = parseSmarthost(options.settings.smarthost);
    this.#send = options.send ?? smtpSend;
  }

  async route(address: string): Promise<string> {
    const route = await this.#options.router.route(address);
    if (route.kind !== 'remote') return 'local';
    return this.#smarthost === undefined ? `mx:${route.domain}` : 'smarthost';
  }

  async deliver(route: string, request: DeliveryRequest): Promise<RecipientResult[]> {
    if (route === 'local') return this.#deliverLocal(request);
    if (route === 'smarthost' && this.#smarthost !== undefined) {
      const s = this.#smarthost;
      return this.#deliverRemote(request, [
        {
          name: s.host,
          host: s.host,
          port: s.port,
          secure: s.secure,
          requireTls: !s.secure,
          ...(s.auth === undefined ? {} : { auth: s.auth }),
          tls: { rejectUnauthorized: true, ...this.#options.tls },
        },
      ]);
    }
    const domain = route.startsWith('mx:') ? route.slice(3) : '';
    const found = await this.#mxCandidates(domain);
    if ('failure' in found)
      return all(request, found.failure.outcome, found.failure.status, found.failure.text);
    return this.#deliverRemote(request, found.candidates);
  }

  async #deliverLocal(request: DeliveryRequest): Promise<RecipientResult[]> {
    const out: RecipientResult[] = [];
    for (const r of request.recipients) {
      const route = await this.#options.router.route(r.address);
      if (route.kind !== 'local') {
        out.push({
          address: r.address,
          outcome: 'failed',
          status: '5.1.1',
          result: '550 5.1.1 No such user here',
        });
        continue;
      }
      let result: RecipientResult = {
        address: r.address,
        outcome: 'delivered',
        status: '2.0.0',
        result: '250 2.0.0 delivered to mailbox',
        action: 'delivered',
      };
      for (const target of route.targets) {
        try {
          await this.#options.delivery.deliver(target.account, request.message, { junk: false });
        } catch (err) {
          if (isCommuneError(err, 'over-quota')) {
            result = {
              address: r.address,
              outcome: 'deferred',
              status: '4.2.2',
              result: '452 4.2.2 Mailbox full',
            };
          } else if (isCommuneError(err, 'not-found')) {
            result = {
              address: r.address,
              outcome: 'failed',
              status: '5.1.1',
              result: '550 5.1.1 No such user here',
            };
          } else {
            this.#options.log.error(
              { protocol: 'queue', id: request.queueId, err },
              'local delivery failed',
            );
            result = {
              address: r.address,
              outcome: 'deferred',
              status: '4.3.0',
              result: '451 4.3.0 Local error in processing',
            };
          }
        }
      }
      out.push(result);
    }
    return out;
  }

  /** MX hosts of `domain` with their addresses, best first; or why there are none. */
  async #mxCandidates(
    domain: string,
  ): Promise<
    | { candidates: Candidate[] }
    | { failure: { outcome: 'failed' | 'deferred'; status: string; text: string } }
  > {
    const { resolver, settings } = this.#options;
    let hosts: string[];
    try {
      const records = await resolver.mx(domain);
      // step: RFC 7505 null MX: the domain accepts no mail
      if (records.length === 1 && (records[0]?.exchange ?? '').replace(/\.$/, '') === '') {
        return {
          failure: {
            outcome: 'failed',
            status: '5.1.10',
            text: `556 5.1.10 ${domain} does not accept mail (null MX)`,
          },
        };
      }
      hosts = [...records].sort((a, b) => a.priority - b.priority).map((r) => r.exchange);
    } catch (err) {
      if (!isNoRecord(err)) {
        return {
          failure: {
            outcome: 'deferred',
            status: '4.4.3',
            text: `DNS lookup of ${domain} MX failed`,
          },
        };
      }
      if ((err as { code?: string }).code === 'ENOTFOUND') {
        return {
          failure: {
            outcome: 'failed',
            status: '5.1.2',
            text: `550 5.1.2 Domain ${domain} does not exist`,
          },
        };
      }
      // step: no MX records: the domain itself is the implicit MX (RFC 5321 §5.1)
      hosts = [domain];
    }
    const candidates: Candidate[] = [];
    for (const host of hosts) {
      const addresses: string[] = [];
      for (const lookup of [resolver.a.bind(resolver), resolver.aaaa.bind(resolver)]) {
        try {
          addresses.push(...(await lookup(host)));
        } catch {
          // step: a host without addresses of one family is fine
        }
      }
      for (const ip of addresses) {
        candidates.push({
          name: host,
          host: ip,
          port: settings.mxPort,
          servername: host,
          secure: false,
          requireTls: settings.requireTls,
          ...(this.#options.tls === undefined ? {} : { tls: this.#options.tls }),
        });
      }
    }
    if (candidates.length === 0) {
      return {
        failure: {
          outcome: 'deferred',
          status: '4.4.4',
          text: `No address for the mail hosts of ${domain}`,
        },
      };
    }
    return { candidates };
  }

  /** Try each candidate until one gives a verdict. */
  async #deliverRemote(
    request: DeliveryRequest,
    candidates: readonly Candidate[],
  ): Promise<RecipientResult[]> {
    const { settings, hostname } = this.#options;
    let last: Extract<SmtpSendResult, { kind: 'unreachable' }> | undefined;
    let lastHost = '';
    for (const candidate of candidates) {
      if (request.signal.aborted) break;
      const result = await this.#send(candidate, {
        helo: hostname,
        from: request.from,
        to: request.recipients.map((r) => r.address),
        message: request.message,
        timeoutMs: settings.remoteTimeout * 1000,
        signal: request.signal,
      });
      if (result.kind === 'sent') {
        const rejected = new Map(result.rejected.map((r) => [r.address, r.response]));
        return request.recipients.map((r) =>
          outcomeOf(rejected.get(r.address) ?? result.response, r.address, candidate.name),
        );
      }
      if (result.kind === 'refused') {
        const rejected = new Map(result.rejected.map((r) => [r.address, r.response]));
        return request.recipients.map((r) =>
          outcomeOf(rejected.get(r.address) ?? result.response, r.address, candidate.name),
        );
      }
      last = result;
      lastHost = candidate.name;
      this.#options.log.info(
        {
          protocol: 'queue',
          id: request.queueId,
          host: candidate.name,
          ip: candidate.host,
          err: result.error,
        },
        'remote host unreachable',
      );
    }
    // step: nobody gave a verdict; a 5xx greeting from the last host is final, anything else temporary
    const permanent = last?.responseCode !== undefined && last.responseCode >= 500;
    const text = last === undefined ? 'delivery aborted' : `${lastHost}: ${last.error}`;
    return all(
      request,
      permanent ? 'failed' : 'deferred',
      permanent ? '5.4.0' : '4.4.1',
      text,
      lastHost || undefined,
    );
  }
}
