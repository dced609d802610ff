/**
 * AUTHENTICATE (RFC 9051 §6.2.2) with SASL-IR (RFC 4959):
 *   authenticate = "AUTHENTICATE" SP auth-type [SP initial-resp]
 *   initial-resp = (base64 / "=")    ; "=" is an empty initial response
 */

import { syntaxError } from '../args.ts';
import type { ArgReader } from '../args.ts';

export interface AuthenticateCommand {
  readonly name: 'AUTHENTICATE';
  /** SASL mechanism, upper-cased. */
  readonly mechanism: string;
  /** Decoded initial response; empty for "="; null when absent. */
  readonly initialResponse: Uint8Array | null;
}

/** Strict base64 (RFC 4648 §4) as IMAP requires; undefined when malformed. */
export function decodeBase64(text: string): Uint8Array | undefined {
  if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return undefined;
  return new Uint8Array(Buffer.from(text, 'base64'));
}

export function parseAuthenticate(r: ArgReader): AuthenticateCommand {
  r.sp();
  const mechanism = r.keyword();
  let initialResponse: Uint8Array | null = null;
  if (r.trySp()) {
    const text = r.atom();
    if (text === '=') {
      initialResponse = new Uint8Array(0);
    } else {
      const decoded = decodeBase64(text);
      if (decoded === undefined) syntaxError('Invalid base64 initial response');
      initialResponse = decoded;
    }
  }
  r.end();
  return { name: 'AUTHENTICATE', mechanism, initialResponse };
}
