/**
 * ENABLE (RFC 5161, RFC 9051 §6.3.1): CONDSTORE and QRESYNC (RFC 7162 §3.1.1, §3.2.3),
 * UTF8=ACCEPT (RFC 6855 §3) and IMAP4rev2 (RFC 9051 §6.3.1). `* ENABLED` lists the
 * extensions this command turned on; unknown ones are ignored.
 */

import { enabledResponse } from '../compose/untagged-data.ts';
import { AUTHENTICATED } from './command.ts';
import type { Extension, ImapCommandHandler } from './command.ts';

const ENABLEABLE: Readonly<Record<string, Extension>> = {
  CONDSTORE: 'CONDSTORE',
  QRESYNC: 'QRESYNC',
  'UTF8=ACCEPT': 'UTF8=ACCEPT',
  IMAP4REV2: 'IMAP4rev2',
};

export const enableCommand: ImapCommandHandler<'ENABLE'> = {
  name: 'ENABLE',
  states: AUTHENTICATED,
  async run(ctx, command) {
    const enabled: string[] = [];
    for (const name of command.capabilities) {
      const extension = Object.hasOwn(ENABLEABLE, name) ? ENABLEABLE[name] : undefined;
      if (extension !== undefined && ctx.session.enable(extension)) enabled.push(extension);
    }
    ctx.note({ enabled });
    await ctx.send(enabledResponse(enabled));
  },
};
