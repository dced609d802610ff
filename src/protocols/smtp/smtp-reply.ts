/**
 * SMTP replies with enhanced status codes (RFC 5321 §4.2, RFC 3463), and the one place where
 * errors become replies: a CommuneError maps by its code; anything else is internal, logged by
 * the caller and answered with a bare 451 that reveals nothing.
 *
 * smtp-server sends an error's `responseCode` and `message`; an SmtpReply's message starts
 * with its enhanced code, which the connection patch in smtp-server.ts keeps as the only one.
 */

import { isCommuneError } from '../../core/errors.ts';

const ENHANCED = /^[245]\.\d{1,3}\.\d{1,3}$/;

export class SmtpReply extends Error {
  /** Three-digit reply code (smtp-server reads `responseCode`). */
  readonly responseCode: number;
  /** Enhanced status code, e.g. "5.7.1". */
  readonly enhanced: string;
  /** Human text without the codes. */
  readonly text: string;

  constructor(code: number, enhanced: string, text: string) {
    if (!ENHANCED.test(enhanced) || String(code)[0] !== enhanced[0]) {
      throw new RangeError(`enhanced code ${enhanced} does not fit reply ${code}`);
    }
    // step: one line, no control characters (the text may quote client input)
    const clean = text.replace(/\p{Cc}+/gu, ' ');
    super(`${enhanced} ${clean}`);
    this.name = 'SmtpReply';
    this.responseCode = code;
    this.enhanced = enhanced;
    this.text = clean;
  }

  /** 4xx: the client should try again later. */
  get temporary(): boolean {
    return this.responseCode >= 400 && this.responseCode < 500;
  }

  /** The reply line as sent, e.g. "550 5.1.1 no such user". */
  override toString(): string {
    return `${this.responseCode} ${this.message}`;
  }
}

export function isSmtpReply(err: unknown): err is SmtpReply {
  return err instanceof SmtpReply;
}

/** Replies the server sends in more than one place. */
export const Replies = {
  relayDenied: () => new SmtpReply(554, '5.7.1', 'Relay access denied'),
  noSuchUser: () => new SmtpReply(550, '5.1.1', 'No such user here'),
  mailboxFull: () => new SmtpReply(452, '4.2.2', 'Mailbox full, try again later'),
  quotaExceeded: () => new SmtpReply(552, '5.2.2', 'Mailbox full: quota exceeded'),
  tooLarge: (limit: number) =>
    new SmtpReply(552, '5.3.4', `Message exceeds fixed maximum message size ${limit}`),
  tooManyRecipients: () => new SmtpReply(452, '4.5.3', 'Too many recipients'),
  authRequired: () => new SmtpReply(530, '5.7.0', 'Authentication required'),
  encryptionRequired: () =>
    new SmtpReply(538, '5.7.11', 'Encryption required for requested authentication mechanism'),
  authFailed: () => new SmtpReply(535, '5.7.8', 'Authentication credentials invalid'),
  senderNotOwned: () =>
    new SmtpReply(553, '5.7.1', 'Sender address is not owned by the authenticated user'),
  fromNotOwned: () =>
    new SmtpReply(550, '5.7.1', 'From header address is not owned by the authenticated user'),
  rateLimited: (what: string) => new SmtpReply(451, '4.7.1', `Rate limit exceeded: ${what}`),
  tooManyConnections: () => new SmtpReply(421, '4.7.0', 'Too many connections, try again later'),
  shuttingDown: (host: string) =>
    new SmtpReply(421, '4.3.2', `${host} Service shutting down, closing transmission channel`),
  dmarcReject: (domain: string) =>
    new SmtpReply(550, '5.7.1', `Rejected by DMARC policy of ${domain}`),
  internal: () => new SmtpReply(451, '4.3.0', 'Local error in processing, try again later'),
} as const;

/**
 * The reply for an error: an SmtpReply as it is, a CommuneError by its code, anything else
 * the generic 451 (the caller logs it). `stage` picks the code where it depends on the command.
 */
export function replyOf(err: unknown, stage: 'rcpt' | 'data' | 'other' = 'other'): SmtpReply {
  if (isSmtpReply(err)) return err;
  if (!isCommuneError(err)) return Replies.internal();
  switch (err.code) {
    case 'over-quota':
      return stage === 'rcpt' ? Replies.mailboxFull() : Replies.quotaExceeded();
    case 'too-large':
      return new SmtpReply(552, '5.3.4', 'Message too big');
    case 'rate-limited':
      return new SmtpReply(454, '4.7.0', 'Too many attempts, try again later');
    case 'auth-failed':
      return Replies.authFailed();
    case 'forbidden':
      return new SmtpReply(550, '5.7.1', 'Not allowed');
    case 'not-found':
      return Replies.noSuchUser();
    case 'invalid-argument':
      return new SmtpReply(501, '5.5.4', 'Invalid argument');
    case 'already-exists':
    case 'conflict':
    case 'unavailable':
    case 'config':
      return Replies.internal();
  }
}
