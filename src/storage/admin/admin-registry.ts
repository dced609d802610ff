/** Every admin command, by name, and the one place arguments are validated and run. */

import type { z } from 'zod';
import { CommuneError } from '../../core/errors.ts';
import { directoryAdminCommands } from '../directory/admin-commands.ts';
import { dkimAdminCommands } from '../dkim/dkim-admin-commands.ts';
import { queueAdminCommands } from '../queue/queue-admin-commands.ts';
import { shareAdminCommands } from '../calendar/share-admin-commands.ts';
import type { AdminCommand, AdminServices } from './admin-command.ts';

export const adminCommands = {
  ...directoryAdminCommands,
  ...dkimAdminCommands,
  ...queueAdminCommands,
  ...shareAdminCommands,
} as const;

export type AdminCommandName = keyof typeof adminCommands;

export function isAdminCommand(name: string): name is AdminCommandName {
  return Object.hasOwn(adminCommands, name);
}

/** Validate arguments and run a command; bad arguments -> CommuneError('invalid-argument'). */
export async function runAdminCommand(
  services: AdminServices,
  name: string,
  args: unknown,
): Promise<unknown> {
  if (!isAdminCommand(name)) throw new CommuneError('not-found', `unknown admin command ${name}`);
  const def = adminCommands[name] as AdminCommand<z.ZodType>;
  const parsed = def.args.safeParse(args ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new CommuneError(
      'invalid-argument',
      `${name}: ${issue?.path.join('.') || 'arguments'}: ${issue?.message ?? 'invalid'}`,
    );
  }
  return def.run(services, parsed.data);
}
