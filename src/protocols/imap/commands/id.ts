/**
 * ID (RFC 2971): the client's identification goes into the log line; the server answers with
 * its name and version (§3.3: no information that helps an attacker beyond that).
 */

import { VERSION } from '../../../core/version.ts';
import { idResponse } from '../compose/untagged-data.ts';
import { ANY_STATE } from './command.ts';
import type { ImapCommandHandler } from './command.ts';

export const idCommand: ImapCommandHandler<'ID'> = {
  name: 'ID',
  states: ANY_STATE,
  async run(ctx, command) {
    const client = command.params?.find((p) => p.field.toLowerCase() === 'name')?.value;
    if (client !== undefined && client !== null) ctx.note({ client: client.slice(0, 64) });
    await ctx.send(
      idResponse(
        [
          { field: 'name', value: 'Commune' },
          { field: 'version', value: VERSION },
        ],
        ctx.session.compose,
      ),
    );
  },
};
