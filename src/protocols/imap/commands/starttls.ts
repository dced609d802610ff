/**
 * STARTTLS (RFC 9051 §6.2.1): tagged OK, then the TLS handshake starts at once; anything the
 * client sent before it is discarded (RFC 9051 §11.1, plaintext injection), and the client
 * must ask for the capabilities again.
 */

import { ImapError } from '../imap-error.ts';
import type { ImapCommandHandler } from './command.ts';

export const starttlsCommand: ImapCommandHandler<'STARTTLS'> = {
  name: 'STARTTLS',
  states: ['not-authenticated'],
  logLevel: 'info',
  async run(ctx) {
    if (!ctx.session.canStartTls) {
      throw new ImapError(
        'BAD',
        ctx.session.secure ? 'TLS is already active' : 'TLS is not available',
      );
    }
    return {
      text: 'Begin TLS negotiation now',
      after: () => ctx.session.startTls(),
    };
  },
};
