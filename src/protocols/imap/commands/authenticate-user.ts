/**
 * The end of LOGIN and AUTHENTICATE: check the password with the Directory (which applies the
 * shared failed-login rate limiter, by login and client address), create the default
 * mailboxes, and enter the authenticated state. The tagged OK carries the new capabilities
 * (RFC 9051 §6.2.2). Passwords are refused over plaintext from non-loopback clients unless
 * auth.allowPlaintext (RFC 9051 §6.2.3 LOGINDISABLED, §11.1).
 */

import { isCommuneError } from '../../../core/errors.ts';
import type { AccessContext } from '../../../core/principal.ts';
import { DEFAULT_MAILBOXES } from '../../../storage/mail/mail-service.ts';
import { untaggedResponse } from '../compose/response-line.ts';
import { ImapError } from '../imap-error.ts';
import type { CommandContext, CommandResult } from './command.ts';

export function requirePrivacy(ctx: CommandContext): void {
  if (!ctx.session.plaintextAllowed) {
    throw new ImapError('NO', 'Use STARTTLS before sending a password', 'PRIVACYREQUIRED');
  }
}

/**
 * Default mailboxes exist, and on first use they are subscribed: clients that show only
 * subscribed folders (Thunderbird's default) must see them.
 */
async function prepareAccount(ctx: CommandContext, access: AccessContext): Promise<void> {
  const { mail } = ctx.server;
  const account = access.principalId;
  await mail.ensureDefaults(access, account);
  if ((await mail.listSubscriptions(access, account)).length > 0) return;
  for (const { name } of DEFAULT_MAILBOXES) await mail.subscribe(access, account, name);
}

export async function authenticateUser(
  ctx: CommandContext,
  login: string,
  password: string,
): Promise<CommandResult> {
  const { session, server } = ctx;
  ctx.note({ user: login.slice(0, 128) });
  requirePrivacy(ctx);
  let access;
  try {
    access = await server.directory.authenticate({
      login,
      password,
      remoteAddress: session.remoteAddress,
      protocol: 'imap',
    });
  } catch (err) {
    if (!isCommuneError(err, 'auth-failed') && !isCommuneError(err, 'rate-limited')) throw err;
    const limited = err.code === 'rate-limited';
    ctx.note({ reason: limited ? 'rate-limited' : 'invalid credentials' });
    const close = session.authFailed();
    if (close) await ctx.send([untaggedResponse('BYE', 'Too many failed authentications')]);
    return {
      status: 'NO',
      code: limited ? 'UNAVAILABLE' : 'AUTHENTICATIONFAILED',
      text: limited ? 'Too many failed logins, try again later' : 'Authentication failed',
      ...(close ? { after: async () => session.close() } : {}),
    };
  }
  await prepareAccount(ctx, access);
  session.login({ access, account: access.principalId });
  return {
    code: { code: 'CAPABILITY', capabilities: session.capabilities() },
    text: 'Logged in',
  };
}
