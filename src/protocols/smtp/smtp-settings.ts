/**
 * SMTP settings. The configuration schema does not declare these keys yet,
 * so they are read defensively: each one falls back to its documented default when the
 * section lacks it or holds a value of the wrong type. Tests and benchmarks pass overrides.
 */

import type { Config } from '../../core/config.ts';
import {
  booleanSetting,
  configSection,
  numberSetting,
  stringSetting,
} from '../../storage/queue/queue-settings.ts';

/** What to do with mail whose From domain fails DMARC (RFC 7489 §6.6.4). */
export type DmarcAction = 'enforce' | 'junk' | 'ignore';

export interface SmtpSettings {
  /** Largest message accepted, bytes (SIZE, RFC 1870). */
  readonly maxMessageSize: number;
  /** Most recipients per message (RFC 5321 §4.5.3.1.8: at least 100). */
  readonly maxRecipients: number;
  /** New connections per client address per minute on every SMTP listener; 0 = unlimited. */
  readonly connectionRateLimit: number;
  /** Messages per client address per minute on the MX; 0 = unlimited. */
  readonly messageRateLimit: number;
  /** Messages per authenticated user per hour on submission; 0 = unlimited. */
  readonly submissionRateLimit: number;
  /**
   * enforce: reject when the sender's policy is p=reject, Junk for p=quarantine;
   * junk: every DMARC failure with a reject or quarantine policy goes to Junk;
   * ignore: only record the result in Authentication-Results.
   */
  readonly dmarcAction: DmarcAction;
  /** Run SPF, DKIM, DMARC and ARC checks on inbound mail. */
  readonly verifyInbound: boolean;
  /** Addresses that receive mail for unknown local parts of their own domain. */
  readonly catchAll: readonly string[];
  /** DKIM selector used when the CLI generates a key without one. */
  readonly dkimSelector: string;
}

export const SMTP_DEFAULTS: SmtpSettings = {
  maxMessageSize: 25 * 1024 * 1024,
  maxRecipients: 100,
  connectionRateLimit: 0,
  messageRateLimit: 0,
  submissionRateLimit: 1000,
  dmarcAction: 'enforce',
  verifyInbound: true,
  catchAll: [],
  dkimSelector: 'commune',
};

/** Comma-separated list, trimmed, lower-cased, empty entries dropped. */
function list(s: Record<string, unknown>, key: string): string[] {
  const v = s[key];
  const raw = Array.isArray(v) ? v.join(',') : typeof v === 'string' ? v : '';
  return raw
    .split(',')
    .map((x) => x.trim().toLowerCase())
    .filter((x) => x !== '');
}

export function readSmtpSettings(
  config: Config,
  overrides: Partial<SmtpSettings> = {},
): SmtpSettings {
  const s = configSection(config, 'smtp');
  const d = SMTP_DEFAULTS;
  const action = stringSetting(s, 'dmarcAction', d.dmarcAction);
  return {
    maxMessageSize: numberSetting(s, 'maxMessageSize', d.maxMessageSize, 1024),
    maxRecipients: numberSetting(s, 'maxRecipients', d.maxRecipients, 1),
    connectionRateLimit: numberSetting(s, 'connectionRateLimit', d.connectionRateLimit),
    messageRateLimit: numberSetting(s, 'messageRateLimit', d.messageRateLimit),
    submissionRateLimit: numberSetting(s, 'submissionRateLimit', d.submissionRateLimit),
    dmarcAction:
      action === 'enforce' || action === 'junk' || action === 'ignore' ? action : d.dmarcAction,
    verifyInbound: booleanSetting(s, 'verifyInbound', d.verifyInbound),
    catchAll: list(s, 'catchAll'),
    dkimSelector: stringSetting(s, 'dkimSelector', d.dkimSelector) || d.dkimSelector,
    ...overrides,
  };
}
