/**
 * Two in-process nodes (A and B) on one fresh PostgreSQL schema and one per-test NOTIFY
 * channel: separate storage pools, change-bus connections and protocol servers, one
 * directory (alice, bob). Plus the clients the multi-node tests use against either node.
 */

import { ImapFlow } from 'imapflow';
import nodemailer from 'nodemailer';
import type { Transporter } from 'nodemailer';
import type { AccessContext } from '../../src/core/principal.ts';
import type { Core } from '../../src/main.ts';
import { PG_URL, freshSchema } from '../storage/pg-test-db.ts';
import {
  DOMAIN,
  PASSWORD,
  seedDirectory,
  startPgNode,
  type PgNode,
  type PgNodeOptions,
  type User,
} from './pg-node.ts';

export interface Deployment {
  readonly schema: string;
  readonly channel: string;
  /** startPgNode options for another node of this deployment. */
  nodeOptions(name: string): PgNodeOptions;
  /** Drop the schema (after every node stopped). */
  drop(): Promise<void>;
}

/** A fresh schema and channel. */
export function freshDeployment(): Deployment {
  const { schema, drop } = freshSchema();
  const channel = `${schema}_changes`;
  return {
    schema,
    channel,
    nodeOptions: (name) => ({ name, url: PG_URL, schema, channel }),
    drop,
  };
}

export interface TwoNodes {
  readonly a: PgNode;
  readonly b: PgNode;
  readonly users: Record<User, number>;
  stop(): Promise<void>;
}

/** Nodes A and B on a fresh deployment, the directory seeded through A. */
export async function startTwoNodes(): Promise<TwoNodes> {
  const deployment = freshDeployment();
  const started: PgNode[] = [];
  const stop = async (): Promise<void> => {
    await Promise.allSettled(started.map((n) => n.stop()));
    await deployment.drop();
  };
  try {
    const a = await startPgNode(deployment.nodeOptions('a'));
    started.push(a);
    const users = await seedDirectory(a.core);
    const b = await startPgNode(deployment.nodeOptions('b'));
    started.push(b);
    return { a, b, users, stop };
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}

/** An imapflow client of `user` on `node` (plain port, STARTTLS, self-signed certificate). */
export function imapClient(node: { imapPort: number }, user: User): ImapFlow {
  return new ImapFlow({
    host: '127.0.0.1',
    port: node.imapPort,
    secure: false,
    auth: { user: `${user}@${DOMAIN}`, pass: PASSWORD },
    logger: false,
    tls: { rejectUnauthorized: false },
  });
}

/** A nodemailer transport submitting as `user` to `node`. */
export function submitter(node: { submissionPort: number }, user: User): Transporter {
  return nodemailer.createTransport({
    host: '127.0.0.1',
    port: node.submissionPort,
    secure: false,
    tls: { rejectUnauthorized: false },
    auth: { user: `${user}@${DOMAIN}`, pass: PASSWORD },
  });
}

/** The access context a login of `account` gets. */
export async function contextOf(core: Core, account: number): Promise<AccessContext> {
  const principal = await core.directory.getPrincipal(account);
  if (principal === undefined) throw new Error(`no principal ${account}`);
  return core.directory.accessContext(principal, 'internal');
}

/** Basic authorization header value of `user`. */
export function basicAuth(user: User): string {
  return `Basic ${Buffer.from(`${user}@${DOMAIN}:${PASSWORD}`).toString('base64')}`;
}

/** Resolves with the next `event` of `emitter`, rejects after `ms`. */
export function nextEvent<T>(
  emitter: { once(event: string, listener: (value: T) => void): unknown },
  event: string,
  ms = 10_000,
): Promise<{ value: T; at: number }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} within ${ms} ms`)), ms);
    emitter.once(event, (value: T) => {
      clearTimeout(timer);
      resolve({ value, at: performance.now() });
    });
  });
}
