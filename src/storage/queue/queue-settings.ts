/**
 * Outbound queue settings, read defensively from the configuration section `queue` (which
 * the schema may not declare yet): each key falls back to its documented default when it is
 * absent or of the wrong type. The helpers are shared with the SMTP settings.
 */

import type { Config } from '../../core/config.ts';

export interface QueueSettings {
  /** Seconds before the first retry of a temporarily failed delivery; doubles each time. */
  readonly retryBase: number;
  /** Longest wait between two attempts, seconds. */
  readonly retryMaxInterval: number;
  /** Seconds a message may stay queued before it bounces (RFC 5321 §4.5.4.1: 4-5 days). */
  readonly maxAge: number;
  /** Deliveries in progress at once on this node. */
  readonly concurrency: number;
  /** Seconds a claimed message stays reserved for its worker (renewed while it works). */
  readonly leaseTime: number;
  /** Seconds between scans of the queue for due messages (also woken on enqueue). */
  readonly pollInterval: number;
  /** Relay all outbound mail through this host: smtp://user:pass@host:587 or smtps://... */
  readonly smarthost: string;
  /** TCP port of remote MX hosts (25; tests point it at a local sink). */
  readonly mxPort: number;
  /** Refuse to deliver to remote hosts that do not offer STARTTLS. */
  readonly requireTls: boolean;
  /** Seconds a remote SMTP conversation may stay silent before it is abandoned. */
  readonly remoteTimeout: number;
}

export const QUEUE_DEFAULTS: QueueSettings = {
  retryBase: 300,
  retryMaxInterval: 4 * 3600,
  maxAge: 5 * 24 * 3600,
  concurrency: 16,
  leaseTime: 120,
  pollInterval: 5,
  smarthost: '',
  mxPort: 25,
  requireTls: false,
  remoteTimeout: 120,
};

/** A configuration section as a plain record ({} when absent). */
export function configSection(config: Config, name: string): Record<string, unknown> {
  const value = (config as unknown as Record<string, unknown>)[name];
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
}

export function numberSetting(
  s: Record<string, unknown>,
  key: string,
  fallback: number,
  min = 0,
): number {
  const v = s[key];
  return typeof v === 'number' && Number.isFinite(v) && v >= min ? v : fallback;
}

export function booleanSetting(
  s: Record<string, unknown>,
  key: string,
  fallback: boolean,
): boolean {
  const v = s[key];
  return typeof v === 'boolean' ? v : fallback;
}

export function stringSetting(s: Record<string, unknown>, key: string, fallback: string): string {
  const v = s[key];
  return typeof v === 'string' ? v : fallback;
}

export function readQueueSettings(
  config: Config,
  overrides: Partial<QueueSettings> = {},
): QueueSettings {
  const s = configSection(config, 'queue');
  const d = QUEUE_DEFAULTS;
  return {
    retryBase: numberSetting(s, 'retryBase', d.retryBase, 0.001),
    retryMaxInterval: numberSetting(s, 'retryMaxInterval', d.retryMaxInterval, 0.001),
    maxAge: numberSetting(s, 'maxAge', d.maxAge, 0.001),
    concurrency: Math.floor(numberSetting(s, 'concurrency', d.concurrency, 1)),
    leaseTime: numberSetting(s, 'leaseTime', d.leaseTime, 0.1),
    pollInterval: numberSetting(s, 'pollInterval', d.pollInterval, 0.01),
    smarthost: stringSetting(s, 'smarthost', d.smarthost),
    mxPort: numberSetting(s, 'mxPort', d.mxPort, 1),
    requireTls: booleanSetting(s, 'requireTls', d.requireTls),
    remoteTimeout: numberSetting(s, 'remoteTimeout', d.remoteTimeout, 0.1),
    ...overrides,
  };
}
