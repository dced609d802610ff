/**
 * BerError: the one error type the BER codec, the framer and the LDAP message layer throw for
 * bad input. It is a CommuneError (code `invalid-argument`, or `too-large` for size limits), so
 * the LDAP server renders every decoding failure the same way: RFC 4511 §4.1.1 says a message
 * whose structure cannot be parsed gets a Notice of Disconnection with protocolError and the
 * session ends. `reason` says what was wrong, for logs and tests; nothing else leaks out of the
 * decoders (no RangeError/TypeError), which the fuzz test checks.
 */

import { CommuneError } from '../../../core/errors.ts';

export type BerErrorReason =
  /** The data ends before the element does. */
  | 'truncated'
  /** Indefinite length (0x80): forbidden by RFC 4511 §5.1. */
  | 'indefinite-length'
  /** More than 4 length octets, or the reserved 0xff. */
  | 'length-too-long'
  /** Element or message longer than the configured maximum. */
  | 'too-large'
  /** Constructed elements nested deeper than the configured maximum. */
  | 'too-deep'
  /** A different tag than the one the grammar expects here. */
  | 'unexpected-tag'
  /** Multi-octet (high-tag-number) identifiers: LDAP never uses them. */
  | 'unsupported-tag'
  /** Content that does not fit its type (boolean length, value out of range, ...). */
  | 'invalid-value'
  /** An INTEGER/ENUMERATED wider than a safe JavaScript integer. */
  | 'integer-too-wide'
  /** Bytes left over after the last element of a structure. */
  | 'trailing-data'
  /** An LDAPString that is not valid UTF-8 (RFC 4511 §4.1.2). */
  | 'invalid-utf8'
  /** The writer was used wrongly (unbalanced sequences, unsafe integer). */
  | 'writer-misuse';

export class BerError extends CommuneError {
  readonly reason: BerErrorReason;
  /** Byte offset in the decoded buffer where the problem was found, when known. */
  readonly offset: number | undefined;

  constructor(reason: BerErrorReason, message: string, offset?: number) {
    super(reason === 'too-large' ? 'too-large' : 'invalid-argument', message);
    this.name = 'BerError';
    this.reason = reason;
    this.offset = offset;
  }
}

export function isBerError(err: unknown): err is BerError {
  return err instanceof BerError;
}
