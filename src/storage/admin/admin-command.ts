/**
 * The shape of an administration command: a name in a registry (admin-registry.ts), a zod
 * argument schema and a run function over the services it needs. The admin API runs commands
 * for a running server; the CLI runs the same ones directly on the store when none runs.
 */

import type { z } from 'zod';
import type { Directory } from '../directory/directory.ts';
import type { Storage } from '../storage.ts';

/** What admin commands run against. */
export interface AdminServices {
  readonly directory: Directory;
  readonly storage: Storage;
  /** Selector for new DKIM keys (smtp.dkimSelector); default "commune". */
  readonly dkimSelector?: string;
}

export interface AdminCommand<S extends z.ZodType> {
  readonly summary: string;
  readonly args: S;
  run(services: AdminServices, args: z.infer<S>): Promise<unknown>;
}

/** Declare a command (keeps the argument type tied to its schema). */
export function adminCommand<S extends z.ZodType>(c: AdminCommand<S>): AdminCommand<S> {
  return c;
}
