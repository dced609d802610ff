/**
 * The outbound queue's lifecycle as a ProtocolServer (it listens on nothing): a QueueWorker
 * over the OutboundTransport (local mailboxes, the smarthost, or remote MX hosts). Start it on
 * every node; leases keep nodes from delivering the same message twice.
 */

import type { ConnectionOptions } from 'node:tls';
import type { Endpoint, ProtocolServer } from '../../core/lifecycle.ts';
import type { Core } from '../../main.ts';
import type { MailService } from '../../storage/mail/mail-service.ts';
import type { OutboundQueue } from '../../storage/queue/outbound-queue.ts';
import { readQueueSettings } from '../../storage/queue/queue-settings.ts';
import type { QueueSettings } from '../../storage/queue/queue-settings.ts';
import { QueueWorker } from '../../storage/queue/queue-worker.ts';
import type { LocalDelivery } from './local-delivery.ts';
import { mailServiceDelivery } from './local-delivery.ts';
import { OutboundTransport } from './outbound-transport.ts';
import { RecipientRouter } from './recipient-router.ts';
import type { Resolver } from './resolver.ts';
import type { smtpSend } from './smtp-client.ts';
import { readSmtpSettings } from './smtp-settings.ts';

export interface QueueRunnerDeps {
  readonly queue: OutboundQueue;
  readonly resolver: Resolver;
  readonly mail?: MailService;
  readonly delivery?: LocalDelivery;
  /** Settings over the configuration (tests). */
  readonly settings?: Partial<QueueSettings>;
  /** TLS options for remote connections (tests trust their sink's certificate here). */
  readonly tls?: ConnectionOptions;
  readonly send?: typeof smtpSend;
  readonly owner?: string;
}

export interface QueueRunner extends ProtocolServer {
  readonly worker: QueueWorker;
}

export function createQueueRunner(core: Core, deps: QueueRunnerDeps): QueueRunner {
  const delivery = deps.delivery ?? (deps.mail ? mailServiceDelivery(deps.mail) : undefined);
  if (delivery === undefined) throw new Error('createQueueRunner needs `mail` or `delivery`');
  const settings = readQueueSettings(core.config, deps.settings);
  const smtp = readSmtpSettings(core.config);
  const transport = new OutboundTransport({
    router: new RecipientRouter({ directory: core.directory, catchAll: smtp.catchAll }),
    delivery,
    resolver: deps.resolver,
    settings,
    hostname: core.config.server.hostname,
    log: core.log,
    ...(deps.tls === undefined ? {} : { tls: deps.tls }),
    ...(deps.send === undefined ? {} : { send: deps.send }),
  });
  const worker = new QueueWorker({
    queue: deps.queue,
    transport,
    settings,
    hostname: core.config.server.hostname,
    log: core.log,
    ...(deps.owner === undefined ? {} : { owner: deps.owner }),
  });
  return {
    name: 'queue',
    worker,
    async start(): Promise<readonly Endpoint[]> {
      worker.start();
      return [];
    },
    async stop(deadline: number): Promise<void> {
      await worker.stop(deadline);
    },
  };
}
