/**
 * Bind (RFC 4511 §4.2, RFC 4513 §5): simple binds with a DN (`uid=alice,ou=people,dc=...`),
 * an e-mail address or a bare local part of the primary domain as the name, and SASL PLAIN
 * (RFC 4616). Passwords and app passwords are checked by Directory.authenticate, which also
 * applies the shared rate limiter (the client address is passed along); a rate-limited attempt
 * answers invalidCredentials like any other failure and is logged at warn.
 *
 * - Anonymous bind (empty name and password, §5.1.1) always succeeds; what an anonymous session
 *   may read is decided elsewhere.
 * - A name with an empty password is an unauthenticated bind (§5.1.2): unwillingToPerform.
 * - Passwords over a connection without TLS from a non-loopback client are refused with
 *   confidentialityRequired unless auth.allowPlaintext (§5.1.3 "SHOULD NOT ... without
 *   confidentiality protection").
 */

import { isCommuneError } from '../../../core/errors.ts';
import type { PrincipalKind } from '../../../core/principal.ts';
import { ldapDn, principalAddressFromDn } from '../../../core/principal-names.ts';
import { ResultCode } from '../result-code.ts';
import type { LdapOperation, OperationContext, OperationResult } from './operation.ts';
import { LdapError, SUCCESS } from './operation.ts';
import type { BindRequest } from '../messages.ts';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

export const SASL_MECHANISMS: readonly string[] = ['PLAIN'];

export const bindOperation: LdapOperation<'bindRequest'> = {
  name: 'bind',
  request: 'bindRequest',
  states: ['anonymous', 'bound'],
  controls: [],
  tracked: true,
  logLevel: 'info',
  async run(ctx) {
    const request = ctx.message.protocolOp;
    // step: a bind starts from anonymous whatever its outcome (RFC 4511 §4.2.1)
    ctx.session.setAuth({ kind: 'anonymous' });
    if (request.version !== 3) {
      throw new LdapError(ResultCode.protocolError, 'only LDAP version 3 is supported');
    }
    const auth = request.authentication;
    if (auth.kind === 'sasl') return saslBind(ctx, request, auth.mechanism, auth.credentials);
    const password = utf8(auth.password);
    if (request.name === '' && auth.password.length === 0) {
      ctx.note({ user: 'anonymous' });
      return SUCCESS;
    }
    ctx.note({ user: request.name });
    if (auth.password.length === 0) {
      throw new LdapError(
        ResultCode.unwillingToPerform,
        'unauthenticated bind (name without password) is not allowed',
      );
    }
    if (request.name === '' || password === undefined) {
      throw new LdapError(ResultCode.invalidCredentials, 'invalid credentials');
    }
    requireConfidentiality(ctx);
    // step: a DN names the principal by address; anything else is an address or local part
    const ref = principalAddressFromDn(request.name);
    return authenticate(ctx, ref?.address ?? request.name, password, ref?.kinds);
  },
};

function utf8(bytes: Uint8Array): string | undefined {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return undefined;
  }
}

function isLoopback(address: string): boolean {
  return address === '::1' || /^(::ffff:)?127\./.test(address);
}

function requireConfidentiality(ctx: OperationContext<BindRequest>): void {
  const { session, server } = ctx;
  if (session.secure || server.settings.allowPlaintext || isLoopback(session.remoteAddress)) {
    return;
  }
  throw new LdapError(
    ResultCode.confidentialityRequired,
    'use StartTLS or LDAPS before sending a password',
  );
}

/** SASL PLAIN (RFC 4616): [authzid] NUL authcid NUL passwd, in one round. */
async function saslBind(
  ctx: OperationContext<BindRequest>,
  request: BindRequest,
  mechanism: string,
  credentials: Uint8Array | undefined,
): Promise<OperationResult> {
  ctx.note({ sasl: mechanism });
  if (mechanism.toUpperCase() !== 'PLAIN') {
    throw new LdapError(
      ResultCode.authMethodNotSupported,
      `SASL mechanism ${mechanism} is not supported`,
    );
  }
  const text = credentials === undefined ? undefined : utf8(credentials);
  const parts = text?.split('\0');
  if (parts?.length !== 3 || request.name !== '') {
    throw new LdapError(ResultCode.invalidCredentials, 'malformed PLAIN credentials');
  }
  const [authzid = '', rawAuthcid = '', password = ''] = parts;
  const ref = rawAuthcid.startsWith('dn:')
    ? principalAddressFromDn(rawAuthcid.slice(3))
    : undefined;
  const login = ref?.address ?? rawAuthcid.replace(/^u:/, '');
  ctx.note({ user: login });
  if (login === '' || password === '') {
    throw new LdapError(ResultCode.invalidCredentials, 'invalid credentials');
  }
  requireConfidentiality(ctx);
  const result = await authenticate(ctx, login, password, ref?.kinds);
  // step: an authorization identity other than the user itself is not permitted
  const state = ctx.session.state;
  if (authzid !== '' && state.kind === 'bound') {
    const own = [`dn:${state.user.dn}`.toLowerCase(), `u:${state.user.access.address}`];
    const wanted = authzid.toLowerCase();
    if (!own.includes(wanted) && wanted !== `u:${login.toLowerCase()}`) {
      ctx.session.setAuth({ kind: 'anonymous' });
      throw new LdapError(ResultCode.invalidCredentials, 'authorization identity not permitted');
    }
  }
  return result;
}

async function authenticate(
  ctx: OperationContext<BindRequest>,
  login: string,
  password: string,
  kinds: readonly PrincipalKind[] | undefined,
): Promise<OperationResult> {
  const { session, server } = ctx;
  let access;
  try {
    access = await server.directory.authenticate({
      login,
      password,
      remoteAddress: session.remoteAddress,
      protocol: 'ldap',
    });
  } catch (err) {
    if (isCommuneError(err, 'rate-limited')) {
      ctx.note({ reason: 'rate-limited', retryAfter: err.retryAfter }, 'warn');
      throw new LdapError(ResultCode.invalidCredentials, 'invalid credentials');
    }
    if (isCommuneError(err, 'auth-failed')) {
      throw new LdapError(ResultCode.invalidCredentials, 'invalid credentials');
    }
    throw err;
  }
  // step: a DN must name the entry of the principal that authenticated
  if (kinds !== undefined && !kinds.includes(access.kind)) {
    throw new LdapError(ResultCode.invalidCredentials, 'invalid credentials');
  }
  const dn = ldapDn({ kind: access.kind, address: access.address });
  session.setAuth({ kind: 'bound', user: { access, dn } });
  ctx.note({ user: access.address, method: access.method });
  return SUCCESS;
}
