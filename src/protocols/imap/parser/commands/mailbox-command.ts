/**
 * Commands taking one mailbox: DELETE (RFC 9051 §6.3.5), SUBSCRIBE (§6.3.7), UNSUBSCRIBE
 * (§6.3.8), GETQUOTAROOT (RFC 9208 §4.3.2).
 *   delete = "DELETE" SP mailbox
 */

import type { ArgReader } from '../args.ts';

export type MailboxCommandName = 'DELETE' | 'SUBSCRIBE' | 'UNSUBSCRIBE' | 'GETQUOTAROOT';

export interface MailboxCommand {
  readonly name: MailboxCommandName;
  readonly mailbox: string;
}

export function parseMailboxCommand(r: ArgReader, name: MailboxCommandName): MailboxCommand {
  r.sp();
  const mailbox = r.mailbox();
  r.end();
  return { name, mailbox };
}
