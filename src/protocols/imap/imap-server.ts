/**
 * The IMAP server (RFC 9051, RFC 3501): a plain listener offering STARTTLS (config.imap) and
 * an implicit-TLS one (config.imaps), each only when enabled. One subscription to the change
 * bus routes every nudge to the sessions logged in to that account, which announce the
 * changes of their selected mailbox (IDLE at once, others at their next command). Graceful
 * stop says BYE to every session.
 */

import type { Socket } from 'node:net';
import type { Endpoint, ProtocolServer } from '../../core/lifecycle.ts';
import type { Core } from '../../main.ts';
import { RESYNC_ALL_ACCOUNTS, type ChangeNudge } from '../../storage/change-bus.ts';
import type { MailService } from '../../storage/mail/mail-service.ts';
import { TcpListener } from '../shared/tcp-listener.ts';
import type { ConnectionInfo } from '../shared/tcp-listener.ts';
import type { ImapServices, ImapSettings } from './commands/command.ts';
import { untaggedResponse } from './compose/response-line.ts';
import { MailboxIndexes } from './mailbox-index.ts';
import { ImapSession } from './session.ts';

/** Settings not (yet) in the configuration file; each defaults as documented. */
export interface ImapServerOptions {
  /** The mail service (tests inject their own). Default: core.mail, shared with SMTP. */
  readonly mail?: MailService;
  /** Failed authentications after which a connection is closed. Default 5. */
  readonly maxAuthFailures?: number;
}

export function createImapServer(core: Core, options: ImapServerOptions = {}): ProtocolServer {
  const { config, log } = core;
  const mail = options.mail ?? core.mail;
  const settings: ImapSettings = {
    allowPlaintext: config.auth.allowPlaintext,
    appendLimit: mail.maxMessageSize,
    maxAuthFailures: options.maxAuthFailures ?? 5,
    preAuthTimeoutMs: config.limits.idleTimeout * 1000,
    authTimeoutMs: config.imap.idleTimeout * 1000,
  };
  const indexes = new MailboxIndexes(core.storage.store);
  const services: ImapServices = { mail, indexes, directory: core.directory, log, settings };
  const sessions = new Map<Socket, ImapSession>();
  const byAccount = new Map<number, Set<ImapSession>>();
  const listeners: TcpListener[] = [];
  let unsubscribe: (() => void) | undefined;

  const route = (nudge: ChangeNudge): void => {
    indexes.nudge(nudge);
    const targets =
      nudge.account === RESYNC_ALL_ACCOUNTS
        ? [...byAccount.values()].flatMap((set) => [...set])
        : (byAccount.get(nudge.account) ?? []);
    for (const session of targets) {
      try {
        session.nudge(nudge);
      } catch (err) {
        log.error({ protocol: 'imap', err }, 'nudge failed');
      }
    }
  };

  const listener = (name: 'imap' | 'imaps', port: number): TcpListener => {
    const implicit = name === 'imaps';
    return new TcpListener({
      name,
      host: config.server.bind,
      port,
      ...(implicit ? { tls: { cert: core.tls.cert, key: core.tls.key } } : {}),
      plainTls: 'starttls',
      maxConnections: config.limits.maxConnections,
      maxConnectionsPerAddress: config.limits.maxConnectionsPerAddress,
      idleTimeoutMs: settings.preAuthTimeoutMs,
      log,
      onConnection: (socket: Socket, info: ConnectionInfo) => {
        const session = new ImapSession({
          socket,
          info,
          services,
          protocol: name,
          startTls: implicit ? undefined : core.tls.context,
          hostname: config.server.hostname,
          onLogin: (s, account) => {
            let set = byAccount.get(account);
            if (set === undefined) byAccount.set(account, (set = new Set()));
            set.add(s);
          },
        });
        sessions.set(socket, session);
        socket.once('close', () => {
          sessions.delete(socket);
          const account = session.account;
          const set = account === undefined ? undefined : byAccount.get(account);
          if (set !== undefined && account !== undefined) {
            set.delete(session);
            if (set.size === 0) byAccount.delete(account);
          }
        });
        session.start();
      },
      onRefuse: (socket, reason) => {
        socket.write(untaggedResponse('BYE', reason));
      },
      onIdle: (socket) => sessions.get(socket)?.goodbye('Autologout; idle for too long'),
    });
  };

  return {
    name: 'imap',
    async start(): Promise<readonly Endpoint[]> {
      unsubscribe = core.storage.bus.subscribe(route);
      if (config.imap.enabled) listeners.push(listener('imap', config.imap.port));
      if (config.imaps.enabled) listeners.push(listener('imaps', config.imaps.port));
      const endpoints: Endpoint[] = [];
      try {
        for (const l of listeners) endpoints.push(await l.start());
      } catch (err) {
        await Promise.allSettled(listeners.map((l) => l.stop(Date.now())));
        unsubscribe();
        throw err;
      }
      return endpoints;
    },
    async stop(deadline: number): Promise<void> {
      const goodbye = (socket: Socket): void => {
        const session = sessions.get(socket);
        if (session === undefined) socket.end();
        else session.goodbye('Server shutting down');
      };
      await Promise.allSettled(listeners.map((l) => l.stop(deadline, goodbye)));
      unsubscribe?.();
    },
  };
}
