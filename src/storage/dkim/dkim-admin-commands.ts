/**
 * Admin command `domain.dkim` (CLI: `commune domain dkim <domain> [--selector S] [--rotate]`):
 * show the DKIM key of a local domain with the DNS TXT record to publish, generating the key
 * on first use (or a new one with `rotate`). Declared like the directory's admin commands
 * (admin-commands.ts), over the store instead of the Directory alone.
 */

import { z } from 'zod';
import { CommuneError } from '../../core/errors.ts';
import { adminCommand } from '../admin/admin-command.ts';
import { DkimKeys, dnsRecordOf } from './dkim-keys.ts';

export const dkimAdminCommands = {
  'domain.dkim': adminCommand({
    summary: 'show (or create, or with rotate replace) the DKIM key of a domain and its DNS record',
    args: z.strictObject({
      name: z.string().min(1).max(253),
      selector: z.string().min(1).max(63).optional(),
      rotate: z.boolean().optional(),
      bits: z.number().int().min(1024).max(4096).optional(),
    }),
    async run({ directory, storage, dkimSelector }, args) {
      const domain = await directory.getDomain(args.name);
      if (domain === undefined) throw new CommuneError('not-found', `no such domain: ${args.name}`);
      const keys = new DkimKeys(storage);
      let key = await keys.get(domain.name);
      const created =
        key === undefined ||
        args.rotate === true ||
        (args.selector !== undefined && args.selector !== key.selector);
      if (created) {
        key = await keys.generate(domain.name, {
          selector: args.selector ?? dkimSelector ?? 'commune',
          ...(args.bits === undefined ? {} : { bits: args.bits }),
        });
      }
      if (key === undefined) throw new CommuneError('unavailable', 'no DKIM key');
      return {
        dkim: {
          domain: key.domain,
          selector: key.selector,
          algorithm: key.algorithm,
          createdAt: key.createdAt,
          created,
          record: dnsRecordOf(key),
        },
      };
    },
  }),
} as const;
