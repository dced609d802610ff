/**
 * The LDAP directory server (RFC 4511): a plain listener offering StartTLS (config.ldap) and
 * an implicit-TLS one (config.ldaps), each only when enabled, both serving the read-only tree
 * built from the Directory. Graceful stop sends every session a Notice of Disconnection
 * (unavailable, RFC 4511 §4.4.1) before closing.
 */

import type { Socket } from 'node:net';
import type { Endpoint, ProtocolServer } from '../../core/lifecycle.ts';
import type { Core } from '../../main.ts';
import { TcpListener } from '../shared/tcp-listener.ts';
import type { ConnectionInfo } from '../shared/tcp-listener.ts';
import { ControlOid } from './controls.ts';
import { DirectoryTree } from './directory-tree.ts';
import { DEFAULT_MAX_FILTER_DEPTH } from './filter.ts';
import { encodeNoticeOfDisconnection } from './messages.ts';
import { SASL_MECHANISMS } from './operations/bind.ts';
import { SUPPORTED_EXTENSIONS } from './operations/extended.ts';
import type { LdapSettings, ServerServices } from './operations/operation.ts';
import { ResultCode } from './result-code.ts';
import { LdapSession } from './session.ts';

/** Settings not (yet) in the configuration file; each defaults as documented. */
export interface LdapServerOptions {
  /**
   * Anonymous sessions may read the whole directory. Default: `ldap.allowAnonymous` from
   * the configuration when present, else false (anonymous sees the root DSE and subschema).
   */
  readonly allowAnonymous?: boolean;
  /** Largest request, bytes. Default 256 KiB. */
  readonly maxMessageSize?: number;
  /** Deepest search filter. Default 20. */
  readonly maxFilterDepth?: number;
  /** Operations in progress at once per connection. Default 16. */
  readonly maxOperations?: number;
  /** Most entries per unpaged search (0 = none). Default 1000. */
  readonly sizeLimit?: number;
  /** Longest search, seconds (0 = none). Default 60. */
  readonly timeLimit?: number;
  /** Open paged searches per connection. Default 8. */
  readonly maxPagedSearches?: number;
}

/** Read an optional boolean from a configuration section that may not declare it yet. */
export function createLdapServer(core: Core, options: LdapServerOptions = {}): ProtocolServer {
  const { config, log } = core;
  const settings: LdapSettings = {
    allowAnonymous: options.allowAnonymous ?? config.ldap.allowAnonymous,
    allowPlaintext: config.auth.allowPlaintext,
    maxMessageSize: options.maxMessageSize ?? 256 * 1024,
    maxFilterDepth: options.maxFilterDepth ?? DEFAULT_MAX_FILTER_DEPTH,
    maxOperations: options.maxOperations ?? 16,
    sizeLimit: options.sizeLimit ?? 1000,
    timeLimit: options.timeLimit ?? 60,
    maxPagedSearches: options.maxPagedSearches ?? 8,
  };
  const tree = new DirectoryTree({
    directory: core.directory,
    storage: core.storage,
    log,
    features: {
      saslMechanisms: SASL_MECHANISMS,
      extensions: SUPPORTED_EXTENSIONS,
      controls: [ControlOid.pagedResults, ControlOid.sortRequest],
    },
  });
  const services: ServerServices = { tree, directory: core.directory, log, settings };
  const sessions = new Map<Socket, LdapSession>();
  const listeners: TcpListener[] = [];

  const listener = (name: 'ldap' | 'ldaps', port: number): TcpListener => {
    const implicit = name === 'ldaps';
    return new TcpListener({
      name,
      host: config.server.bind,
      port,
      ...(implicit ? { tls: { cert: core.tls.cert, key: core.tls.key } } : {}),
      plainTls: 'starttls',
      maxConnections: config.limits.maxConnections,
      maxConnectionsPerAddress: config.limits.maxConnectionsPerAddress,
      idleTimeoutMs: config.limits.idleTimeout * 1000,
      log,
      onConnection: (socket: Socket, info: ConnectionInfo) => {
        const session = new LdapSession({
          socket,
          info,
          server: services,
          startTls: implicit ? undefined : core.tls.context,
          protocol: name,
        });
        sessions.set(socket, session);
        socket.once('close', () => sessions.delete(socket));
        session.start();
      },
      onRefuse: (socket, reason) => {
        socket.write(encodeNoticeOfDisconnection(ResultCode.busy, reason));
      },
      onIdle: (socket) => sessions.get(socket)?.disconnect(ResultCode.unavailable, 'idle timeout'),
    });
  };

  return {
    name: 'ldap',
    async start(): Promise<readonly Endpoint[]> {
      tree.start();
      // step: build the tree once before accepting, so the first search is not the slow one
      await tree.snapshot();
      if (config.ldap.enabled) listeners.push(listener('ldap', config.ldap.port));
      if (config.ldaps.enabled) listeners.push(listener('ldaps', config.ldaps.port));
      const endpoints: Endpoint[] = [];
      try {
        for (const l of listeners) endpoints.push(await l.start());
      } catch (err) {
        await Promise.allSettled(listeners.map((l) => l.stop(Date.now())));
        tree.close();
        throw err;
      }
      return endpoints;
    },
    async stop(deadline: number): Promise<void> {
      const goodbye = (socket: Socket): void => {
        const session = sessions.get(socket);
        if (session === undefined) socket.end();
        else session.disconnect(ResultCode.unavailable, 'server is shutting down');
      };
      await Promise.allSettled(listeners.map((l) => l.stop(deadline, goodbye)));
      tree.close();
    },
  };
}
