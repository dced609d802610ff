/** EXAMINE (RFC 9051 §6.3.3): SELECT, read-only (no STORE, EXPUNGE, nor implicit \Seen). */

import { AUTHENTICATED } from './command.ts';
import type { ImapCommandHandler } from './command.ts';
import { openMailbox } from './select.ts';

export const examineCommand: ImapCommandHandler<'EXAMINE'> = {
  name: 'EXAMINE',
  states: AUTHENTICATED,
  run: (ctx, command) => openMailbox(ctx, command, true),
};
