/**
 * The remote MX of the multi-node queue test: an smtp-server on 127.0.0.1 that records each
 * accepted message with the EHLO name of the node that sent it, and lets the test hold a
 * delivery before its final reply (the sender waits for "250") and then accept or refuse it.
 */

import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface SinkDelivery {
  /** The EHLO name the delivering node gave (its server.hostname). */
  readonly helo: string;
  readonly to: readonly string[];
  readonly subject: string;
}

export class MxSink {
  /** Messages answered with 250, in order. */
  readonly accepted: SinkDelivery[] = [];
  /** Messages whose data arrived (accepted, held or refused), in order. */
  readonly arrived: SinkDelivery[] = [];
  /** Decides each message's fate before the reply; throw to refuse it (451). */
  onMessage: (delivery: SinkDelivery) => Promise<void> | void = () => undefined;
  #server: SMTPServer | undefined;

  async start(): Promise<number> {
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['AUTH', 'STARTTLS'],
      logger: false,
      disableReverseLookup: true,
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const delivery: SinkDelivery = {
            helo: session.hostNameAppearsAs,
            to: session.envelope.rcptTo.map((r) => r.address),
            subject: /^Subject: (.*)$/m.exec(text)?.[1]?.trim() ?? '',
          };
          this.arrived.push(delivery);
          Promise.resolve()
            .then(() => this.onMessage(delivery))
            .then(
              () => {
                this.accepted.push(delivery);
                callback(null, 'queued');
              },
              (err: Error) =>
                callback(Object.assign(new Error(err.message), { responseCode: 451 })),
            );
        });
      },
    });
    server.on('error', () => undefined);
    this.#server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    if (server === undefined) return;
    this.#server = undefined;
    for (const c of server.connections) c.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
