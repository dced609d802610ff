/**
 * Authentication of inbound mail with mailauth: SPF (RFC 7208) for the client address and
 * MAIL FROM, DKIM (RFC 6376) signatures, ARC (RFC 8617) chains, and DMARC (RFC 7489)
 * alignment of the From domain. The outcome is the Authentication-Results field (RFC 8601)
 * with our host name as authserv-id, plus Received-SPF, and the DMARC verdict the policy hook
 * acts on. Every DNS lookup goes through the given Resolver.
 */

import { authenticate } from 'mailauth';
import type { Resolver } from './resolver.ts';
import { mailauthResolver } from './resolver.ts';

export type DmarcPolicy = 'none' | 'quarantine' | 'reject';

export interface InboundAuthInput {
  readonly message: Uint8Array;
  readonly clientIp: string;
  /** HELO/EHLO name. */
  readonly helo: string;
  /** MAIL FROM ('' for the null sender). */
  readonly sender: string;
  /** Our host name: the authserv-id. */
  readonly hostname: string;
  readonly resolver: Resolver;
}

export interface InboundAuthResult {
  /** Header fields to prepend, each ending in CRLF. */
  readonly headers: readonly string[];
  readonly spf: string;
  /** One result per DKIM signature (or "none"). */
  readonly dkim: readonly string[];
  readonly dmarc: {
    readonly result: string;
    readonly domain: string;
    /** The policy that applies to this message (after sp= and pct= sampling). */
    readonly policy: DmarcPolicy;
  };
  readonly arc: string;
}

function policyOf(value: unknown): DmarcPolicy {
  return value === 'reject' || value === 'quarantine' ? value : 'none';
}

/** Split mailauth's CRLF-joined header text into complete fields. */
function splitFields(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\r\n')) {
    if (line === '') continue;
    if (/^[ \t]/.test(line) && out.length > 0) out[out.length - 1] += `\r\n${line}`;
    else out.push(line);
  }
  return out.map((f) => `${f}\r\n`);
}

/** Header fields whose presence makes the body matter (a body hash to check). */
const SIGNATURE_FIELD = /^(?:dkim-signature|arc-seal|arc-message-signature)[ \t]*:/im;

/**
 * What mailauth must read of `message`: all of it when the header carries a DKIM or ARC
 * signature (their body hashes cover the body), else the header alone — SPF works on the
 * envelope and DMARC on From plus the SPF and DKIM results, so the outcome is the same and
 * a large unsigned message is not canonicalised and hashed for nothing.
 */
export function authenticatedPart(message: Uint8Array): Buffer {
  const bytes = Buffer.from(message.buffer, message.byteOffset, message.byteLength);
  const crlf = bytes.indexOf('\r\n\r\n');
  const lf = bytes.indexOf('\n\n');
  const end = crlf >= 0 && (lf < 0 || crlf < lf) ? crlf + 4 : lf >= 0 ? lf + 2 : -1;
  if (end < 0) return bytes;
  const header = bytes.subarray(0, end);
  return SIGNATURE_FIELD.test(header.toString('latin1')) ? bytes : header;
}

export async function verifyInbound(
  input: InboundAuthInput,
  options: { random?: () => number } = {},
): Promise<InboundAuthResult> {
  const result = await authenticate(authenticatedPart(input.message), {
    ip: input.clientIp.startsWith('::ffff:') ? input.clientIp.slice(7) : input.clientIp,
    helo: input.helo,
    sender: input.sender,
    mta: input.hostname,
    resolver: mailauthResolver(input.resolver),
    disableBimi: true,
  });
  const dmarc = result.dmarc;
  let policy: DmarcPolicy = 'none';
  if (dmarc && dmarc.status.result === 'fail') {
    policy = policyOf(dmarc.policy);
    // step: pct= sampling (RFC 7489 §6.6.4): outside the sample, one step milder
    const pct = typeof dmarc.pct === 'number' ? dmarc.pct : 100;
    if (pct < 100 && (options.random ?? Math.random)() * 100 >= pct) {
      policy = policy === 'reject' ? 'quarantine' : 'none';
    }
  }
  return {
    headers: splitFields(result.headers),
    spf: result.spf ? result.spf.status.result : 'none',
    dkim:
      result.dkim.results.length > 0 ? result.dkim.results.map((r) => r.status.result) : ['none'],
    dmarc: {
      result: dmarc ? dmarc.status.result : 'none',
      domain: dmarc ? dmarc.domain : '',
      policy,
    },
    arc: result.arc ? result.arc.status.result : 'none',
  };
}
