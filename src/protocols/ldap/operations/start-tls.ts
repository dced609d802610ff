/**
 * The StartTLS extended operation (RFC 4511 §4.14, RFC 4513 §3): refused when TLS is already
 * active or other operations are outstanding (operationsError, §4.14.2); otherwise the session
 * stops reading, the success response goes out in plaintext, and the connection is wrapped in
 * TLS. Anything the client sent after the request and before the handshake is discarded.
 */

import { ExtendedOid } from '../messages.ts';
import { ResultCode } from '../result-code.ts';
import type { ExtendedHandler } from './extended.ts';
import { LdapError } from './operation.ts';

export const startTlsHandler: ExtendedHandler = {
  name: 'starttls',
  oid: ExtendedOid.startTls,
  // Not async on purpose: the checks and beginStartTls run before the session reads on.
  run(ctx) {
    const { session } = ctx;
    if (session.secure) {
      return Promise.reject(new LdapError(ResultCode.operationsError, 'TLS is already active'));
    }
    if (!session.canStartTls) {
      return Promise.reject(
        new LdapError(ResultCode.unavailable, 'StartTLS is not available on this listener'),
      );
    }
    if (session.outstanding > 0) {
      return Promise.reject(
        new LdapError(ResultCode.operationsError, 'other operations are outstanding'),
      );
    }
    session.beginStartTls();
    return Promise.resolve({
      resultCode: ResultCode.success,
      responseName: ExtendedOid.startTls,
      after: () => session.upgradeToTls(),
    });
  },
};
