/**
 * Submission: the envelope sender must be an address of the authenticated user (their own,
 * an alias, a subaddress of one, or an address of a group they belong to). The null
 * reverse-path is refused: users do not send bounces (RFC 6409 §6.1 lets the MSA enforce this).
 */

import { Replies } from '../smtp-reply.ts';
import type { AuthUser } from '../smtp-session.ts';
import { NEXT, reject } from './smtp-hook.ts';
import type { SmtpHook } from './smtp-hook.ts';

/** `alice+tag@example.test` -> `alice@example.test` (RFC 5233). */
function withoutDetail(address: string): string {
  const at = address.lastIndexOf('@');
  const local = address.slice(0, at);
  const plus = local.indexOf('+');
  return plus > 0 ? `${local.slice(0, plus)}${address.slice(at)}` : address;
}

/** Whether `user` may use `address` as a sender (case-insensitive). */
export function maySendAs(user: AuthUser, address: string): boolean {
  const lower = address.trim().toLowerCase();
  if (!lower.includes('@')) return false;
  return user.sendAs.has(lower) || user.sendAs.has(withoutDetail(lower));
}

export const senderOwned: SmtpHook<'mail'> = {
  name: 'sender-owned',
  stage: 'mail',
  async run({ state, tx }) {
    const user = state.user;
    if (user === undefined) return reject(Replies.authRequired());
    return maySendAs(user, tx.sender) ? NEXT : reject(Replies.senderNotOwned());
  },
};
