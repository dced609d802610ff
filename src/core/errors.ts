/**
 * Errors that carry their wire outcome. Domain services throw CommuneError with a code; each
 * protocol renders the code in one place (IMAP NO/BAD + response code, DAV status, LDAP result
 * code, SMTP reply). Anything that is not a CommuneError is internal: logged, never echoed.
 */

export type ErrorCode =
  | 'not-found'
  | 'already-exists'
  | 'invalid-argument'
  | 'auth-failed'
  | 'rate-limited'
  | 'forbidden'
  | 'over-quota'
  | 'conflict'
  | 'too-large'
  | 'unavailable'
  | 'config';

export class CommuneError extends Error {
  readonly code: ErrorCode;
  /** Seconds after which a rate-limited client may retry. */
  readonly retryAfter: number | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options: { retryAfter?: number; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CommuneError';
    this.code = code;
    this.retryAfter = options.retryAfter;
  }
}

export function isCommuneError(err: unknown, code?: ErrorCode): err is CommuneError {
  return err instanceof CommuneError && (code === undefined || err.code === code);
}

/** HTTP status for an error code (used by the HTTP listener and DAV). */
export function httpStatusOf(code: ErrorCode): number {
  switch (code) {
    case 'not-found':
      return 404;
    case 'already-exists':
    case 'conflict':
      return 409;
    case 'invalid-argument':
      return 400;
    case 'auth-failed':
      return 401;
    case 'rate-limited':
      return 429;
    case 'forbidden':
      return 403;
    case 'over-quota':
      return 507;
    case 'too-large':
      return 413;
    case 'unavailable':
      return 503;
    case 'config':
      return 500;
  }
}
