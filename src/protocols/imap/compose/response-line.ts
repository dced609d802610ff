/**
 * Status responses and continuation requests (RFC 9051 §7.1, §7.5):
 *   response-tagged = tag SP resp-cond-state CRLF
 *   resp-cond-state = ("OK" / "NO" / "BAD") SP resp-text
 *   resp-text       = ["[" resp-text-code "]" SP] text
 *   continue-req    = "+" SP (resp-text / base64) CRLF
 */

import { formatResponseCode } from './response-code.ts';
import type { ResponseCode } from './response-code.ts';

export type TaggedStatus = 'OK' | 'NO' | 'BAD';
export type UntaggedStatus = 'OK' | 'NO' | 'BAD' | 'BYE' | 'PREAUTH';

const encoder = new TextEncoder();

/** Human-readable text made safe for one line: no CR, LF or other controls; never empty. */
export function responseText(text: string): string {
  let clean = '';
  for (const ch of text) {
    const c = ch.charCodeAt(0);
    clean += c < 0x20 || c === 0x7f ? ' ' : ch;
  }
  clean = clean.trim();
  return clean.length > 0 ? clean : 'Completed';
}

function respText(text: string, code: ResponseCode | undefined): string {
  const body = responseText(text);
  return code === undefined ? body : `[${formatResponseCode(code)}] ${body}`;
}

/** `tag OK [code] text` CRLF. */
export function taggedResponse(
  tag: string,
  status: TaggedStatus,
  text: string,
  code?: ResponseCode,
): Uint8Array {
  return encoder.encode(`${tag} ${status} ${respText(text, code)}\r\n`);
}

/** `* OK [code] text` CRLF (also NO, BAD, BYE, PREAUTH). */
export function untaggedResponse(
  status: UntaggedStatus,
  text: string,
  code?: ResponseCode,
): Uint8Array {
  return encoder.encode(`* ${status} ${respText(text, code)}\r\n`);
}

/** `+ text` CRLF: the continuation request for a literal or an IDLE. */
export function continuationResponse(text = 'Ready'): Uint8Array {
  return encoder.encode(`+ ${responseText(text)}\r\n`);
}

/** `+ base64` CRLF: a SASL challenge (RFC 9051 §6.2.2); empty data gives "+ ". */
export function continuationChallenge(data: Uint8Array): Uint8Array {
  return encoder.encode(`+ ${Buffer.from(data).toString('base64')}\r\n`);
}
