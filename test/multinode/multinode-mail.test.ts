/**
 * Mail across two nodes on one PostgreSQL schema: a submission to node A wakes an IDLE on node
 * B (the change bus over LISTEN/NOTIFY), and concurrent APPENDs through both nodes to one
 * mailbox keep UIDs and MODSEQs consistent.
 *
 * The APPEND invariant, precisely (it must hold whether or not a node coalesces concurrent
 * appends of one account into one commit):
 *   1. UIDs: the 1,000 appends get 1,000 distinct UIDs, exactly 1..1000, and the message
 *      stored at each UID is the one whose append was given that UID.
 *   2. STATUS on both nodes: MESSAGES 1000, UIDNEXT 1001, HIGHESTMODSEQ = the largest
 *      message MODSEQ; both nodes list the same (uid, modseq) pairs.
 *   3. MODSEQ follows UID: uid i < uid j  =>  modseq(i) <= modseq(j); equal MODSEQs are one
 *      commit, and a commit runs on one node, so a MODSEQ is never shared by messages
 *      appended through different nodes, nor by two appends of one connection (each waits
 *      for the previous); the account's change log holds each creation once, under the
 *      change id that is the message's MODSEQ, and no change id twice.
 */

import assert from 'node:assert/strict';
import type { ImapFlow } from 'imapflow';
import { readChanges } from '../../src/storage/change-log.ts';
import { requirePostgres } from '../storage/pg-test-db.ts';
import { DOMAIN, type PgNode } from './pg-node.ts';
import {
  contextOf,
  imapClient,
  nextEvent,
  startTwoNodes,
  submitter,
  type TwoNodes,
} from './two-nodes.ts';

const PER_NODE = 500;
const CONNECTIONS_PER_NODE = 5;

/** A small message whose Subject names it. */
function message(subject: string): string {
  return [
    `From: Bob <bob@${DOMAIN}>`,
    `To: Alice <alice@${DOMAIN}>`,
    `Subject: ${subject}`,
    'Date: Tue, 10 Mar 2026 12:00:00 +0000',
    `Message-ID: <${subject}@${DOMAIN}>`,
    '',
    `Body of ${subject}.`,
    '',
  ].join('\r\n');
}

/** What the server answered to a failed imapflow command. */
function imapError(err: unknown): string {
  const e = err as { responseText?: string; serverResponseCode?: string; message?: string };
  return [e.serverResponseCode, e.responseText ?? e.message].filter(Boolean).join(' ');
}

interface Appended {
  readonly subject: string;
  readonly node: string;
  /** Appends of one source (connection) ran one after the other; -1 for concurrent ones. */
  readonly source: number;
  readonly uid: number;
}

/**
 * Check the invariant stated at the top of this file for `appended` in mailbox `path` of
 * alice, reading through both nodes.
 */
async function checkInvariant(
  fx: TwoNodes,
  path: string,
  appended: readonly Appended[],
): Promise<void> {
  const total = appended.length;
  // 1. UIDs distinct and dense
  const uids = appended.map((a) => a.uid).sort((x, y) => x - y);
  assert.equal(new Set(uids).size, total, 'distinct UIDs');
  assert.deepEqual(
    uids,
    Array.from({ length: total }, (_, i) => i + 1),
    'UIDs are exactly 1..N',
  );

  // 2. Both nodes: STATUS, and the listing of (uid, modseq, subject)
  const listings: Map<number, { modseq: bigint; subject: string }>[] = [];
  for (const node of [fx.a, fx.b]) {
    const client = imapClient(node, 'alice');
    await client.connect();
    try {
      const status = await client.status(path, {
        messages: true,
        uidNext: true,
        highestModseq: true,
      });
      assert.ok(status, 'STATUS answered');
      assert.equal(status.messages, total, `MESSAGES on node ${node.name}`);
      assert.equal(status.uidNext, total + 1, `UIDNEXT on node ${node.name}`);
      await client.mailboxOpen(path, { readOnly: true });
      const listing = new Map<number, { modseq: bigint; subject: string }>();
      for await (const m of client.fetch('1:*', { uid: true, envelope: true })) {
        assert.ok(m.modseq !== undefined, 'FETCH returns MODSEQ (CONDSTORE)');
        listing.set(m.uid, { modseq: m.modseq, subject: m.envelope?.subject ?? '' });
      }
      assert.equal(listing.size, total, `FETCH 1:* on node ${node.name}`);
      const highest = [...listing.values()].reduce((h, v) => (v.modseq > h ? v.modseq : h), 0n);
      assert.equal(status.highestModseq, highest, `HIGHESTMODSEQ on node ${node.name}`);
      listings.push(listing);
    } finally {
      await client.logout();
    }
  }
  const [onA, onB] = listings as [
    Map<number, { modseq: bigint; subject: string }>,
    Map<number, { modseq: bigint; subject: string }>,
  ];
  assert.deepEqual([...onB.entries()], [...onA.entries()], 'both nodes list the same messages');
  for (const a of appended) {
    assert.equal(onA.get(a.uid)?.subject, a.subject, `the message at UID ${a.uid}`);
  }

  // 3. MODSEQ order follows UID order; shared MODSEQs only within one node's commit
  const byUid = [...appended].sort((x, y) => x.uid - y.uid);
  const modseqOf = (uid: number): bigint => onA.get(uid)?.modseq ?? -1n;
  for (let i = 1; i < byUid.length; i++) {
    const prev = byUid[i - 1] as Appended;
    const cur = byUid[i] as Appended;
    assert.ok(
      modseqOf(prev.uid) <= modseqOf(cur.uid),
      `MODSEQ goes back from UID ${prev.uid} (${modseqOf(prev.uid)}) to ${cur.uid} (${modseqOf(cur.uid)})`,
    );
  }
  const sharing = new Map<bigint, Appended[]>();
  for (const a of appended) {
    const group = sharing.get(modseqOf(a.uid)) ?? [];
    group.push(a);
    sharing.set(modseqOf(a.uid), group);
  }
  for (const [modseq, group] of sharing) {
    if (group.length === 1) continue;
    const nodes = new Set(group.map((a) => a.node));
    assert.equal(nodes.size, 1, `MODSEQ ${modseq} shared across nodes: ${[...nodes].join(',')}`);
    const sources = group.map((a) => a.source).filter((s) => s >= 0);
    assert.equal(
      new Set(sources).size,
      sources.length,
      `MODSEQ ${modseq} shared by sequential appends of one connection`,
    );
  }
  // step: the account's change log (read through node B) recorded each creation under the
  // change id that is the message's MODSEQ, and no change id twice
  const ctx = await contextOf(fx.a.core, fx.users.alice);
  const box = await fx.a.core.mail.findMailbox(ctx, fx.users.alice, path);
  assert.ok(box);
  const log = await readChanges(fx.b.core.storage.store, fx.users.alice, 0n);
  const ids = log.changes.map((c) => c.changeId);
  assert.equal(new Set(ids).size, ids.length, 'change ids are unique');
  const createdAt = new Map<number, bigint>();
  for (const change of log.changes) {
    for (const e of change.entries) {
      if (e.collection === `mailbox:${box.id}` && e.kind === 'created' && e.id !== 'mailbox') {
        assert.ok(!createdAt.has(Number(e.id)), `UID ${e.id} created twice in the log`);
        createdAt.set(Number(e.id), change.changeId);
      }
    }
  }
  for (const a of appended) {
    assert.equal(createdAt.get(a.uid), modseqOf(a.uid), `change log entry of UID ${a.uid}`);
  }
}

describe('two nodes over PostgreSQL: mail', function () {
  this.timeout(180_000);
  requirePostgres();
  let fx: TwoNodes | undefined;
  const clients: ImapFlow[] = [];

  beforeEach(async () => {
    fx = await startTwoNodes();
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.logout().catch(() => c.close());
    await fx?.stop();
    fx = undefined;
  });

  it('a message submitted over SMTP to node A wakes an IMAP IDLE on node B within 1 s', async () => {
    assert.ok(fx);
    const watcher = imapClient(fx.b, 'alice');
    clients.push(watcher);
    await watcher.connect();
    await watcher.mailboxOpen('INBOX');
    const idling = watcher.idle();
    // step: let IDLE reach the server before the first submission
    await new Promise((r) => setTimeout(r, 200));
    const transport = submitter(fx.a, 'bob');
    const latencies: number[] = [];
    try {
      for (let i = 1; i <= 3; i++) {
        const exists = nextEvent<{ count: number }>(watcher, 'exists');
        const info = (await transport.sendMail({
          from: `bob@${DOMAIN}`,
          to: `alice@${DOMAIN}`,
          subject: `wake ${i}`,
          text: `Wake up, ${i}.`,
        })) as { accepted: unknown[] };
        const accepted = performance.now();
        assert.deepEqual(info.accepted, [`alice@${DOMAIN}`]);
        const { value, at } = await exists;
        assert.equal(value.count, i);
        // the EXISTS may even beat the 250 to the client: that counts as 0
        latencies.push(Math.max(0, at - accepted));
      }
    } finally {
      transport.close();
    }
    for (const [i, ms] of latencies.entries()) {
      assert.ok(ms <= 1000, `wake-up ${i + 1} on node B took ${ms.toFixed(0)} ms after the 250`);
    }
    await watcher.noop();
    await idling;
    const last = await watcher.fetchOne('*', { envelope: true });
    assert.ok(last);
    assert.equal(last.envelope?.subject, 'wake 3');
  });

  it('2 x 500 concurrent IMAP APPENDs through both nodes keep UIDs and MODSEQs consistent', async () => {
    assert.ok(fx);
    const path = 'Concurrent';
    const setup = imapClient(fx.a, 'alice');
    clients.push(setup);
    await setup.connect();
    await setup.mailboxCreate(path);

    const appendThrough = async (node: PgNode, connection: number): Promise<Appended[]> => {
      const client = imapClient(node, 'alice');
      clients.push(client);
      await client.connect();
      const out: Appended[] = [];
      const source = (node.name === 'a' ? 0 : 100) + connection;
      for (let i = connection; i < PER_NODE; i += CONNECTIONS_PER_NODE) {
        const subject = `append-${node.name}-${i}`;
        const res = await client.append(path, message(subject)).catch((err: unknown) => {
          throw new Error(`APPEND ${subject} through node ${node.name}: ${imapError(err)}`);
        });
        assert.ok(res && res.uid !== undefined, 'APPENDUID (UIDPLUS)');
        out.push({ subject, node: node.name, source, uid: res.uid });
      }
      return out;
    };
    const batches = await Promise.all(
      [fx.a, fx.b].flatMap((node) =>
        Array.from({ length: CONNECTIONS_PER_NODE }, (_, c) => appendThrough(node, c)),
      ),
    );
    const appended = batches.flat();
    assert.equal(appended.length, 2 * PER_NODE);
    await checkInvariant(fx, path, appended);
  });

  it('2 x 500 concurrent MailService appends on both Cores keep UIDs and MODSEQs consistent', async () => {
    assert.ok(fx);
    const { a, b, users } = fx;
    const path = 'Direct';
    const ctxA = await contextOf(a.core, users.alice);
    const ctxB = await contextOf(b.core, users.alice);
    const box = await a.core.mail.createMailbox(ctxA, users.alice, path);
    // step: all 1,000 in flight at once, interleaved between the nodes
    const pending: Promise<Appended>[] = [];
    for (let i = 0; i < PER_NODE; i++) {
      for (const [node, ctx] of [
        [a, ctxA],
        [b, ctxB],
      ] as const) {
        const subject = `direct-${node.name}-${i}`;
        pending.push(
          node.core.mail
            .append(ctx, users.alice, box.id, new TextEncoder().encode(message(subject)))
            .then((r) => ({ subject, node: node.name, source: -1, uid: r.uid, modseq: r.modseq })),
        );
      }
    }
    const settled = await Promise.allSettled(pending);
    const failed = settled.filter((s) => s.status === 'rejected');
    assert.deepEqual(
      failed.map((f) => String((f as PromiseRejectedResult).reason)).slice(0, 3),
      [],
      `${failed.length} appends failed`,
    );
    const appended = settled.map((s) => (s as PromiseFulfilledResult<Appended>).value);
    await checkInvariant(fx, path, appended);
    // step: the MODSEQ each append returned is the one stored for its UID
    const listed = await b.core.mail.listMessages(ctxB, users.alice, box.id);
    const stored = new Map(listed.map((m) => [m.uid, m.modseq]));
    for (const r of appended as (Appended & { modseq: bigint })[]) {
      assert.equal(stored.get(r.uid), r.modseq, `returned MODSEQ of UID ${r.uid}`);
    }
  });
});
