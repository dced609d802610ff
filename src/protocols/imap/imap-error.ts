/**
 * Errors with their IMAP outcome (RFC 9051 §7.1, response codes of RFC 5530), and the one
 * place errors become tagged responses: ImapError as it is, CommuneError by its code, anything
 * else as an internal error (logged by the session, never echoed).
 */

import type { ErrorCode } from '../../core/errors.ts';
import { isCommuneError } from '../../core/errors.ts';
import type { BareResponseCode, ResponseCode } from './compose/response-code.ts';
import { safeText } from './parser/char-class.ts';

export class ImapError extends Error {
  readonly status: 'NO' | 'BAD';
  readonly code: ResponseCode | undefined;

  constructor(status: 'NO' | 'BAD', text: string, code?: ResponseCode) {
    super(text);
    this.name = 'ImapError';
    this.status = status;
    this.code = code;
  }
}

export function isImapError(err: unknown): err is ImapError {
  return err instanceof ImapError;
}

/** A tagged outcome rendered from an error. */
export interface RenderedError {
  readonly status: 'NO' | 'BAD';
  readonly code?: ResponseCode;
  readonly text: string;
  /** Not an expected outcome: the session logs it as an error. */
  readonly internal: boolean;
}

const CODE_OF: Readonly<Record<ErrorCode, BareResponseCode>> = {
  'not-found': 'NONEXISTENT',
  'already-exists': 'ALREADYEXISTS',
  'invalid-argument': 'CANNOT',
  'auth-failed': 'AUTHENTICATIONFAILED',
  'rate-limited': 'UNAVAILABLE',
  forbidden: 'NOPERM',
  'over-quota': 'OVERQUOTA',
  conflict: 'CANNOT',
  'too-large': 'TOOBIG',
  unavailable: 'UNAVAILABLE',
  config: 'SERVERBUG',
};

/** The tagged NO/BAD for `err`. */
export function renderError(err: unknown): RenderedError {
  if (isImapError(err)) {
    return err.code === undefined
      ? { status: err.status, text: err.message, internal: false }
      : { status: err.status, code: err.code, text: err.message, internal: false };
  }
  if (isCommuneError(err) && err.code !== 'config') {
    return { status: 'NO', code: CODE_OF[err.code], text: safeText(err.message), internal: false };
  }
  return { status: 'NO', code: 'SERVERBUG', text: 'Internal error', internal: true };
}
