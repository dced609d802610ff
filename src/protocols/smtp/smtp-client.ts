/**
 * One outbound SMTP conversation (RFC 5321 client side) over nodemailer's SMTPConnection:
 * connect (implicit TLS or STARTTLS, opportunistic unless TLS is required), optional AUTH,
 * one envelope and message, QUIT. Every step becomes a promise that also fails when the
 * connection errors or ends; the result reports each recipient's reply.
 */

import type { ConnectionOptions } from 'node:tls';
import SMTPConnection from 'nodemailer/lib/smtp-connection';

export interface SmtpTarget {
  /** Address or name to connect to. */
  readonly host: string;
  readonly port: number;
  /** Name for SNI and certificate checks (the MX host name). */
  readonly servername?: string;
  /** Implicit TLS (port 465 style). */
  readonly secure: boolean;
  /** Refuse to go on without STARTTLS. */
  readonly requireTls: boolean;
  readonly auth?: { readonly user: string; readonly pass: string };
  readonly tls?: ConnectionOptions;
}

export interface SmtpSendInput {
  /** Our name for EHLO. */
  readonly helo: string;
  readonly from: string;
  readonly to: readonly string[];
  readonly message: Uint8Array;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

/** The outcome of one conversation that reached the message stage or failed on the way. */
export type SmtpSendResult =
  | {
      readonly kind: 'sent';
      /** Reply to the end of data for the accepted recipients. */
      readonly response: string;
      readonly accepted: readonly string[];
      /** Refused recipients with the server's reply. */
      readonly rejected: readonly { readonly address: string; readonly response: string }[];
    }
  | {
      /** The server answered with a failure for the whole transaction. */
      readonly kind: 'refused';
      readonly response: string;
      readonly responseCode: number;
      /** Per-recipient replies, when every recipient was refused. */
      readonly rejected: readonly { readonly address: string; readonly response: string }[];
    }
  | {
      /** No usable conversation: connection, TLS or protocol failure before a verdict. */
      readonly kind: 'unreachable';
      readonly error: string;
      /** The server's reply code, when it sent one (e.g. a 554 greeting). */
      readonly responseCode?: number;
    };

interface NodemailerError extends Error {
  code?: string;
  response?: string;
  responseCode?: number;
  command?: string;
  recipient?: string;
  rejectedErrors?: NodemailerError[];
}

/** Run one callback-style step; also settle on the connection's error or end. */
function step<T>(
  conn: SMTPConnection,
  start: (done: (err: Error | null, value?: T) => void) => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const finish = (err: Error | null, value?: T): void => {
      if (settled) return;
      settled = true;
      conn.off('error', onError);
      conn.off('end', onEnd);
      if (err) reject(err);
      else resolve(value as T);
    };
    const onError = (err: Error): void => finish(err);
    const onEnd = (): void =>
      finish(Object.assign(new Error('connection closed'), { code: 'ECONNECTION' }));
    conn.once('error', onError);
    conn.once('end', onEnd);
    try {
      start(finish);
    } catch (err) {
      finish(err as Error);
    }
  });
}

function rejectedOf(
  errors: readonly NodemailerError[] | undefined,
): { address: string; response: string }[] {
  return (errors ?? []).map((e) => ({
    address: e.recipient ?? '',
    response: e.response ?? e.message,
  }));
}

/** Talk to one server. Never throws: every failure is a result. */
export async function smtpSend(target: SmtpTarget, input: SmtpSendInput): Promise<SmtpSendResult> {
  const conn = new SMTPConnection({
    host: target.host,
    port: target.port,
    secure: target.secure,
    ...(target.servername === undefined ? {} : { servername: target.servername }),
    name: input.helo,
    requireTLS: target.requireTls,
    opportunisticTLS: !target.requireTls,
    connectionTimeout: input.timeoutMs,
    greetingTimeout: input.timeoutMs,
    socketTimeout: input.timeoutMs,
    allowInternalNetworkInterfaces: true,
    logger: false,
    tls: { rejectUnauthorized: false, minVersion: 'TLSv1.2', ...target.tls },
  });
  conn.on('error', () => undefined);
  const abort = (): void => conn.close();
  input.signal?.addEventListener('abort', abort, { once: true });
  let stage: 'connect' | 'send' = 'connect';
  try {
    await step<void>(conn, (done) => conn.connect(() => done(null)));
    if (target.auth !== undefined) {
      await step<boolean>(conn, (done) =>
        conn.login({ user: target.auth?.user ?? '', pass: target.auth?.pass ?? '' }, done),
      );
    }
    stage = 'send';
    const message = Buffer.from(
      input.message.buffer,
      input.message.byteOffset,
      input.message.byteLength,
    );
    const eightBit = message.some((b) => b > 0x7f);
    const info = await step<SMTPConnection.SentMessageInfo>(conn, (done) =>
      conn.send(
        { from: input.from, to: [...input.to], size: message.length, use8BitMime: eightBit },
        message,
        done,
      ),
    );
    conn.quit();
    return {
      kind: 'sent',
      response: info.response,
      accepted: info.accepted,
      rejected: rejectedOf(info.rejectedErrors as NodemailerError[] | undefined),
    };
  } catch (raw) {
    conn.close();
    const err = raw as NodemailerError;
    const code = err.responseCode;
    if (
      stage === 'send' &&
      code !== undefined &&
      (err.code === 'EENVELOPE' || err.code === 'EMESSAGE')
    ) {
      return {
        kind: 'refused',
        response: err.response ?? err.message,
        responseCode: code,
        rejected: rejectedOf(err.rejectedErrors),
      };
    }
    return {
      kind: 'unreachable',
      error: err.response ?? `${err.code ?? 'error'}: ${err.message}`,
      ...(code === undefined ? {} : { responseCode: code }),
    };
  } finally {
    input.signal?.removeEventListener('abort', abort);
  }
}
