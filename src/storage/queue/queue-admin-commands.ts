/**
 * Admin commands over the outbound queue (CLI: `commune queue list|retry|delete`):
 *   queue.list    every queued message with its recipients' state
 *   queue.retry   make one message (id) or every message (all) due now
 *   queue.delete  drop a message without a bounce
 * Messages being delivered at that moment answer 'conflict' (try again shortly).
 */

import { z } from 'zod';
import { CommuneError } from '../../core/errors.ts';
import { adminCommand } from '../admin/admin-command.ts';
import { OutboundQueue } from './outbound-queue.ts';
import type { QueueEntry } from './queue-types.ts';

export interface QueueEntryView {
  readonly id: string;
  readonly from: string;
  readonly size: number;
  readonly createdAt: string;
  readonly nextAttemptAt: string;
  readonly attempts: number;
  readonly bounce: boolean;
  readonly leasedBy?: string;
  readonly recipients: readonly {
    readonly address: string;
    readonly state: string;
    readonly attempts: number;
    readonly lastResult?: string;
  }[];
}

function view(entry: QueueEntry, leasedBy: string | undefined): QueueEntryView {
  return {
    id: entry.id,
    from: entry.from === '' ? '<>' : entry.from,
    size: entry.size,
    createdAt: new Date(entry.createdAt).toISOString(),
    nextAttemptAt: new Date(entry.nextAttemptAt).toISOString(),
    attempts: entry.attempts,
    bounce: entry.isBounce,
    ...(leasedBy === undefined ? {} : { leasedBy }),
    recipients: entry.recipients.map((r) => ({
      address: r.address,
      state: r.state,
      attempts: r.attempts,
      ...(r.lastResult === undefined ? {} : { lastResult: r.lastResult }),
    })),
  };
}

const queueId = z.string().min(1).max(64);

export const queueAdminCommands = {
  'queue.list': adminCommand({
    summary: 'list queued outbound messages',
    args: z.strictObject({ limit: z.number().int().min(1).max(100_000).optional() }),
    async run({ storage }, { limit }) {
      const queue = new OutboundQueue(storage);
      const now = Date.now();
      const out: QueueEntryView[] = [];
      for (const entry of await queue.list(limit === undefined ? {} : { limit })) {
        const lease = await queue.lease(entry.id);
        out.push(view(entry, lease !== undefined && lease.expires > now ? lease.owner : undefined));
      }
      return { queue: out };
    },
  }),
  'queue.retry': adminCommand({
    summary: 'retry a queued message now (or every message with all)',
    args: z.strictObject({ id: queueId.optional(), all: z.boolean().optional() }),
    async run({ storage }, { id, all }) {
      const queue = new OutboundQueue(storage);
      if (id === undefined && all !== true) {
        throw new CommuneError('invalid-argument', 'queue.retry needs an id or all');
      }
      const ids = id !== undefined ? [id] : (await queue.list()).map((e) => e.id);
      const retried: string[] = [];
      const busy: string[] = [];
      for (const one of ids) {
        try {
          await queue.retryNow(one);
          retried.push(one);
        } catch (err) {
          if (id === undefined && err instanceof CommuneError && err.code === 'conflict')
            busy.push(one);
          else throw err;
        }
      }
      return { retried, ...(busy.length > 0 ? { busy } : {}) };
    },
  }),
  'queue.delete': adminCommand({
    summary: 'delete a queued message without a bounce',
    args: z.strictObject({ id: queueId }),
    async run({ storage }, { id }) {
      const entry = await new OutboundQueue(storage).delete(id);
      return { deleted: entry.id, recipients: entry.recipients.map((r) => r.address) };
    },
  }),
} as const;
