/**
 * NAMESPACE (RFC 2342, RFC 9051 §6.3.10): one personal namespace with the "/" separator, no
 * other users' or shared namespaces (yet).
 */

import { namespaceResponse } from '../compose/untagged-data.ts';
import { AUTHENTICATED } from './command.ts';
import type { ImapCommandHandler } from './command.ts';

export const namespaceCommand: ImapCommandHandler<'NAMESPACE'> = {
  name: 'NAMESPACE',
  states: AUTHENTICATED,
  async run(ctx) {
    await ctx.send(
      namespaceResponse([{ prefix: '', delimiter: '/' }], null, null, ctx.session.compose),
    );
  },
};
