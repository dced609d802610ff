/**
 * The Received trace field (RFC 5321 §4.4, RFC 5322 §3.6.7):
 *
 *   Received: from <helo> (<reverse name> [<ip>])
 *           by <host> (Commune) with <protocol> id <id>
 *           (<tls version and cipher>)
 *           for <recipient>; <date-time>
 *
 * The protocol is the RFC 3848 keyword (SMTP, ESMTP, ESMTPS, ESMTPA, ESMTPSA). `for` is only
 * written for a single recipient, so a message to several does not reveal its Bcc.
 */

import { rfc5322Date } from '../../storage/queue/dsn-report.ts';

export interface ReceivedInfo {
  /** HELO/EHLO argument. */
  readonly helo: string;
  /** Reverse DNS name of the client, when known. */
  readonly clientHostname?: string;
  readonly clientIp: string;
  /** Our host name. */
  readonly hostname: string;
  readonly protocol: string;
  readonly id: string;
  readonly tls?: { readonly version: string; readonly cipher: string };
  /** The one recipient, when there is exactly one. */
  readonly recipient?: string;
  readonly date: Date;
}

/** Characters safe in a trace-field token: the values come from the client. */
function token(value: string): string {
  return value.replace(/[^\x21-\x7e]/g, '?').replace(/[()<>;\\"]/g, '?') || 'unknown';
}

function ipLiteral(ip: string): string {
  const v4 = ip.startsWith('::ffff:') ? ip.slice(7) : ip;
  return v4.includes(':') ? `IPv6:${v4}` : v4;
}

/** The field, folded, ending in CRLF. */
export function receivedHeader(info: ReceivedInfo): string {
  const name =
    info.clientHostname && !info.clientHostname.startsWith('[')
      ? `${token(info.clientHostname)} `
      : '';
  const lines = [
    `Received: from ${token(info.helo)} (${name}[${ipLiteral(info.clientIp)}])`,
    `\tby ${token(info.hostname)} (Commune) with ${token(info.protocol)} id ${token(info.id)}`,
  ];
  if (info.tls) {
    lines.push(`\t(version=${token(info.tls.version)} cipher=${token(info.tls.cipher)})`);
  }
  const date = rfc5322Date(info.date);
  if (info.recipient !== undefined) {
    lines.push(`\tfor <${info.recipient.replace(/[\p{Cc} <>]/gu, '')}>; ${date}`);
  } else {
    lines[lines.length - 1] += `; ${date}`;
  }
  return `${lines.join('\r\n')}\r\n`;
}
