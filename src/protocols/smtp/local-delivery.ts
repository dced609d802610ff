/**
 * What SMTP needs of the mail store: put a message into an account's INBOX (or Junk), durably,
 * and read the account's quota for RCPT-time checks. `mailServiceDelivery` adapts the
 * MailService; tests may wrap it to inject failures.
 */

import type { AccessContext } from '../../core/principal.ts';
import type { MailService } from '../../storage/mail/mail-service.ts';

export interface DeliveryOptions {
  /** File into the Junk mailbox instead of INBOX. */
  readonly junk: boolean;
}

export interface QuotaState {
  /** Bytes stored. */
  readonly used: number;
  /** Bytes allowed; 0 = unlimited. */
  readonly limit: number;
}

export interface LocalDelivery {
  /**
   * Store `message` for `account`; resolves once the commit is durable. Throws CommuneError
   * 'over-quota' when it does not fit, 'not-found' when the account is gone.
   */
  deliver(account: number, message: Uint8Array, options: DeliveryOptions): Promise<void>;
  quota(account: number): Promise<QuotaState>;
}

/** The trusted context SMTP reads an account's own quota with. */
function internalContext(account: number): AccessContext {
  return {
    principalId: account,
    address: '',
    displayName: 'smtp',
    kind: 'individual',
    memberOf: [],
    admin: false,
    method: 'internal',
  };
}

export function mailServiceDelivery(mail: MailService): LocalDelivery {
  return {
    async deliver(account, message, options) {
      await mail.deliver(account, message, options.junk ? { mailbox: 'junk' } : {});
    },
    async quota(account) {
      const usage = await mail.quota(internalContext(account), account);
      return { used: usage.storage, limit: usage.limit };
    },
  };
}
