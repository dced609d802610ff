/**
 * Lifecycle contracts. Every wire protocol is a ProtocolServer built by a factory from Core;
 * protocols hosted on the one HTTP listener are HttpServices mounted under a path prefix.
 */

import type { IncomingMessage, ServerResponse } from 'node:http';

/** A listening endpoint, for logs and tests. */
export interface Endpoint {
  readonly protocol: string;
  readonly host: string;
  readonly port: number;
  readonly tls: 'implicit' | 'starttls' | 'none';
}

export interface ProtocolServer {
  readonly name: string;
  /** Start accepting; resolves with the bound endpoints once they accept. */
  start(): Promise<readonly Endpoint[]>;
  /**
   * Stop accepting, say goodbye in the protocol (IMAP BYE, SMTP 421, WebSocket 1001), wait for
   * sessions to end until `deadline` (epoch ms), then close what remains.
   */
  stop(deadline: number): Promise<void>;
}

/** What the HTTP listener knows about a request before handing it to a service. */
export interface HttpRequestContext {
  /** Client IP address. */
  readonly remoteAddress: string;
  /** Request arrived over TLS. */
  readonly secure: boolean;
  /** Parsed URL (path is not yet decoded). */
  readonly url: URL;
  /** Set by the service for the access log line. */
  user?: string;
}

export interface HttpService {
  readonly name: string;
  /** Path prefixes this service owns, e.g. "/admin/api/". Longest prefix wins. */
  readonly prefixes: readonly string[];
  handle(req: IncomingMessage, res: ServerResponse, ctx: HttpRequestContext): Promise<void>;
  /** Optional graceful stop hook (close WebSockets with 1001, ...). */
  stop?(deadline: number): Promise<void>;
}
