/**
 * The extended operation (RFC 4511 §4.12), dispatched by request name to the handlers we
 * implement: StartTLS and WhoAmI. An unknown name is a protocolError (§4.12).
 */

import { ResultCode } from '../result-code.ts';
import type { ExtendedRequest } from '../messages.ts';
import type { LdapOperation, OperationContext, OperationResult } from './operation.ts';
import { LdapError } from './operation.ts';
import { startTlsHandler } from './start-tls.ts';
import { whoAmIHandler } from './who-am-i.ts';

export interface ExtendedHandler {
  /** For logs. */
  readonly name: string;
  readonly oid: string;
  run(ctx: OperationContext<ExtendedRequest>): Promise<OperationResult>;
}

const HANDLERS: ReadonlyMap<string, ExtendedHandler> = new Map(
  [startTlsHandler, whoAmIHandler].map((h) => [h.oid, h]),
);

/** OIDs for the root DSE's supportedExtension. */
export const SUPPORTED_EXTENSIONS: readonly string[] = [...HANDLERS.keys()];

export const extendedOperation: LdapOperation<'extendedReq'> = {
  name: 'extended',
  request: 'extendedReq',
  states: ['anonymous', 'bound'],
  controls: [],
  tracked: true,
  logLevel: 'info',
  run(ctx) {
    const { requestName } = ctx.message.protocolOp;
    const handler = HANDLERS.get(requestName);
    ctx.note({ extended: handler?.name ?? requestName });
    if (handler === undefined) {
      return Promise.reject(
        new LdapError(ResultCode.protocolError, `unsupported extended operation ${requestName}`),
      );
    }
    return handler.run(ctx);
  },
};
