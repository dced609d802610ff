/**
 * The shared TCP/TLS listener under every line protocol (SMTP, IMAP, LDAP, SIP over TCP):
 * plain or implicit TLS, connection limits (total and per client address), idle timeouts,
 * graceful stop with a protocol goodbye, and the STARTTLS upgrade helper.
 */

import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, TLSSocket, type SecureContext } from 'node:tls';
import type { Endpoint } from '../../core/lifecycle.ts';
import type { Logger } from '../../core/log.ts';

/** PEM certificate chain and private key. */
export interface TlsKeyPair {
  readonly cert: string;
  readonly key: string;
}

export interface ConnectionInfo {
  /** Connection number, unique within this listener. */
  readonly id: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly secure: boolean;
}

export interface TcpListenerOptions {
  /** Protocol name for logs: "imap", "imaps", "smtp", ... */
  readonly name: string;
  readonly host: string;
  readonly port: number;
  /** Implicit TLS: every connection starts with a TLS handshake with this key pair. */
  readonly tls?: TlsKeyPair;
  /** What a plain listener offers (for Endpoint.tls): "starttls" or "none". */
  readonly plainTls?: 'starttls' | 'none';
  readonly maxConnections: number;
  readonly maxConnectionsPerAddress: number;
  /** Close a connection silent for this long; 0 = never. */
  readonly idleTimeoutMs: number;
  readonly log: Logger;
  /** Hand the connection to a protocol session. */
  readonly onConnection: (socket: Socket, info: ConnectionInfo) => void;
  /** Say why a connection is refused (over a limit), before it is closed. */
  readonly onRefuse?: (socket: Socket, reason: string) => void;
  /** Say goodbye on an idle connection before it is closed (IMAP BYE, SMTP 421). */
  readonly onIdle?: (socket: Socket) => void;
}

export class TcpListener {
  readonly #options: TcpListenerOptions;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  readonly #perAddress = new Map<string, number>();
  #nextId = 1;
  #stopping = false;

  constructor(options: TcpListenerOptions) {
    this.#options = options;
    const accept = (socket: Socket): void => this.#accept(socket);
    this.#server = options.tls
      ? createTlsServer(
          {
            cert: options.tls.cert,
            key: options.tls.key,
            minVersion: 'TLSv1.2',
            handshakeTimeout: 30_000,
          },
          accept,
        )
      : createServer(accept);
    if (options.tls) {
      this.#server.on('tlsClientError', (err: Error, socket: TLSSocket) => {
        options.log.debug(
          { protocol: options.name, remote: socket.remoteAddress, err: err.message },
          'tls handshake failed',
        );
      });
    }
  }

  /** Open connections (for tests and graceful stop). */
  get connections(): number {
    return this.#sockets.size;
  }

  #accept(socket: Socket): void {
    const { log, name } = this.#options;
    const remoteAddress = socket.remoteAddress ?? 'unknown';
    socket.on('error', (err) =>
      log.debug({ protocol: name, remote: remoteAddress, err: err.message }, 'socket error'),
    );

    // Limits: total and per client address
    const fromAddress = this.#perAddress.get(remoteAddress) ?? 0;
    let refusal: string | undefined;
    if (this.#stopping) refusal = 'server shutting down';
    else if (this.#sockets.size >= this.#options.maxConnections) refusal = 'too many connections';
    else if (fromAddress >= this.#options.maxConnectionsPerAddress)
      refusal = 'too many connections from your address';
    if (refusal !== undefined) {
      log.warn(
        { protocol: name, remote: remoteAddress, outcome: 'refused', reason: refusal },
        'connection refused',
      );
      try {
        this.#options.onRefuse?.(socket, refusal);
      } finally {
        socket.end();
        setTimeout(() => socket.destroy(), 1000).unref();
      }
      return;
    }

    this.#sockets.add(socket);
    this.#perAddress.set(remoteAddress, fromAddress + 1);
    socket.once('close', () => {
      this.#sockets.delete(socket);
      const n = (this.#perAddress.get(remoteAddress) ?? 1) - 1;
      if (n <= 0) this.#perAddress.delete(remoteAddress);
      else this.#perAddress.set(remoteAddress, n);
    });

    if (this.#options.idleTimeoutMs > 0) {
      socket.setTimeout(this.#options.idleTimeoutMs, () => {
        log.info(
          { protocol: name, remote: remoteAddress, outcome: 'idle-timeout' },
          'connection idle',
        );
        try {
          this.#options.onIdle?.(socket);
        } finally {
          socket.end();
          setTimeout(() => socket.destroy(), 1000).unref();
        }
      });
    }
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 60_000);
    const info: ConnectionInfo = {
      id: this.#nextId++,
      remoteAddress,
      remotePort: socket.remotePort ?? 0,
      secure: this.#options.tls !== undefined,
    };
    try {
      this.#options.onConnection(socket, info);
    } catch (err) {
      log.error({ protocol: name, remote: remoteAddress, err }, 'session failed to start');
      socket.destroy();
    }
  }

  start(): Promise<Endpoint> {
    const { host, port, name } = this.#options;
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.#server.once('error', onError);
      this.#server.listen({ host, port }, () => {
        this.#server.off('error', onError);
        this.#server.on('error', (err) =>
          this.#options.log.error({ protocol: name, err }, 'listener error'),
        );
        const address = this.#server.address();
        const bound = typeof address === 'object' && address !== null ? address.port : port;
        resolve({
          protocol: name,
          host,
          port: bound,
          tls: this.#options.tls ? 'implicit' : (this.#options.plainTls ?? 'none'),
        });
      });
    });
  }

  /**
   * Stop accepting; give each open connection `goodbye` (or onIdle) once, then wait for them to
   * close until `deadline` (epoch ms), then destroy what remains.
   */
  async stop(deadline: number, goodbye?: (socket: Socket) => void): Promise<void> {
    this.#stopping = true;
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const socket of this.#sockets) {
      try {
        goodbye?.(socket);
      } catch {
        socket.destroy();
      }
    }
    while (this.#sockets.size > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    for (const socket of this.#sockets) socket.destroy();
    await closed;
  }
}

/**
 * Upgrade an accepted plain socket to TLS after the protocol's STARTTLS exchange. The caller
 * must discard anything it had buffered from before the upgrade (plaintext injection), and
 * stop reading from the plain socket: all further I/O goes through the returned TLSSocket.
 */
export function upgradeToTls(
  socket: Socket,
  context: SecureContext,
  options: { handshakeTimeoutMs?: number } = {},
): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    socket.removeAllListeners('data');
    const secure = new TLSSocket(socket, { isServer: true, secureContext: context });
    const timer = setTimeout(() => {
      secure.destroy();
      reject(new Error('TLS handshake timed out'));
    }, options.handshakeTimeoutMs ?? 30_000);
    secure.once('secure', () => {
      clearTimeout(timer);
      resolve(secure);
    });
    secure.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}
