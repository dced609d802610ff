/**
 * DAV errors: an HTTP status plus, where the RFC defines one, a precondition or postcondition
 * element rendered in a DAV:error body (RFC 4918 §16). A DavError is a CommuneError, so one
 * escaping the DAV layer still renders with a sensible status.
 */

import { CommuneError, type ErrorCode } from '../../core/errors.ts';

export interface DavCondition {
  readonly ns: string;
  readonly name: string;
  /** Hrefs listed inside the condition element (lock-token-submitted, no-conflicting-lock). */
  readonly hrefs?: readonly string[];
}

function codeOf(status: number): ErrorCode {
  switch (status) {
    case 400:
    case 415:
    case 416:
      return 'invalid-argument';
    case 401:
      return 'auth-failed';
    case 403:
      return 'forbidden';
    case 404:
      return 'not-found';
    case 413:
      return 'too-large';
    case 507:
      return 'over-quota';
    case 501:
    case 502:
    case 503:
      return 'unavailable';
    default:
      return 'conflict';
  }
}

export class DavError extends CommuneError {
  readonly status: number;
  readonly condition: DavCondition | undefined;
  readonly headers: Readonly<Record<string, string>>;
  /** A complete XML response body (e.g. a DAV:mkcol-response), instead of DAV:error. */
  readonly body: string | undefined;

  constructor(
    status: number,
    message: string,
    options: { condition?: DavCondition; headers?: Record<string, string>; body?: string } = {},
  ) {
    super(codeOf(status), message);
    this.name = 'DavError';
    this.status = status;
    this.condition = options.condition;
    this.headers = options.headers ?? {};
    this.body = options.body;
  }

  static badRequest(message: string): DavError {
    return new DavError(400, message);
  }

  static notFound(message = 'not found'): DavError {
    return new DavError(404, message);
  }

  static conflict(message: string): DavError {
    return new DavError(409, message);
  }

  static forbidden(message: string, condition?: DavCondition): DavError {
    return new DavError(403, message, condition ? { condition } : {});
  }

  static methodNotAllowed(message: string, allow: readonly string[]): DavError {
    return new DavError(405, message, { headers: { allow: allow.join(', ') } });
  }

  static preconditionFailed(message = 'precondition failed', condition?: DavCondition): DavError {
    return new DavError(412, message, condition ? { condition } : {});
  }

  static locked(hrefs: readonly string[]): DavError {
    return new DavError(423, 'the resource is locked', {
      condition: { ns: 'DAV:', name: 'lock-token-submitted', hrefs },
    });
  }
}

export function isDavError(err: unknown): err is DavError {
  return err instanceof DavError;
}
