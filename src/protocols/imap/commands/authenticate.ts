/**
 * AUTHENTICATE (RFC 9051 §6.2.2) with SASL-IR (RFC 4959): PLAIN (RFC 4616) and LOGIN
 * (username and password, each in its own base64 round). A client line of "*" cancels
 * (BAD); malformed base64 is BAD; bad credentials are NO [AUTHENTICATIONFAILED].
 */

import { SASL_MECHANISMS } from '../capabilities.ts';
import { continuationChallenge } from '../compose/response-line.ts';
import { ImapError } from '../imap-error.ts';
import { decodeBase64 } from '../parser/commands/authenticate.ts';
import { authenticateUser, requirePrivacy } from './authenticate-user.ts';
import type { CommandContext, ImapCommandHandler } from './command.ts';

const encoder = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Send a challenge, read the client's base64 answer. */
async function challenge(ctx: CommandContext, prompt: string): Promise<Uint8Array> {
  await ctx.send([continuationChallenge(encoder.encode(prompt))]);
  const line = await ctx.session.readLine();
  if (line === null) throw new ImapError('BAD', 'Authentication aborted');
  const text = new TextDecoder('latin1').decode(line).trim();
  if (text === '*') throw new ImapError('BAD', 'Authentication cancelled');
  const decoded = decodeBase64(text);
  if (decoded === undefined) throw new ImapError('BAD', 'Invalid base64 in SASL response');
  return decoded;
}

function utf8(bytes: Uint8Array): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    throw new ImapError('BAD', 'SASL response is not UTF-8');
  }
}

export const authenticateCommand: ImapCommandHandler<'AUTHENTICATE'> = {
  name: 'AUTHENTICATE',
  states: ['not-authenticated'],
  logLevel: 'info',
  async run(ctx, command) {
    const mechanism = command.mechanism;
    ctx.note({ mechanism });
    if (!SASL_MECHANISMS.includes(mechanism)) {
      throw new ImapError('NO', 'Unsupported authentication mechanism', 'CANNOT');
    }
    requirePrivacy(ctx);
    if (mechanism === 'LOGIN') {
      const user = command.initialResponse ?? (await challenge(ctx, 'Username:'));
      const password = await challenge(ctx, 'Password:');
      return authenticateUser(ctx, utf8(user), utf8(password));
    }
    // step: PLAIN: [authzid] NUL authcid NUL passwd
    const response = command.initialResponse ?? (await challenge(ctx, ''));
    const parts = utf8(response).split('\0');
    if (parts.length !== 3) throw new ImapError('BAD', 'Malformed PLAIN response');
    const [authzid = '', authcid = '', password = ''] = parts;
    if (authzid !== '' && authzid.toLowerCase() !== authcid.toLowerCase()) {
      throw new ImapError('NO', 'Acting as another user is not permitted', 'AUTHORIZATIONFAILED');
    }
    return authenticateUser(ctx, authcid, password);
  },
};
