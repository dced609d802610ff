/**
 * The IMAP server end to end with imapflow (a real client, IMAP4rev2 + CONDSTORE +
 * UTF8=ACCEPT enabled as it does by default, and without rev2): connection and
 * authentication, every mailbox and message command, push (IDLE) from deliveries and other
 * sessions, CONDSTORE/QRESYNC, quotas, limits and isolation between sessions.
 */

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import type { ImapFlow } from 'imapflow';
import { ImapSession } from '../../../src/protocols/imap/session.ts';
import { imapClient, message, RawClient, startImap } from './imap-fixture.ts';
import type { ImapFixture } from './imap-fixture.ts';

async function withClient<T>(
  fx: ImapFixture,
  run: (client: ImapFlow) => Promise<T>,
  options: Parameters<typeof imapClient>[2] = {},
  user = 'alice',
): Promise<T> {
  const client = imapClient(fx, user, options);
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.logout().catch(() => client.close());
  }
}

/** Resolve with the first event `name` emitted by `client`, or fail after `ms`. */
function nextEvent<T>(client: ImapFlow, name: string, ms = 1000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${name} event within ${ms} ms`)), ms);
    client.once(name, (data: T) => {
      clearTimeout(timer);
      resolve(data);
    });
  });
}

async function sourceOf(client: ImapFlow, uid: number): Promise<string> {
  const msg = await client.fetchOne(String(uid), { source: true }, { uid: true });
  assert.ok(msg !== false && msg.source !== undefined);
  return msg.source.toString('utf8');
}

describe('IMAP server (imapflow)', function () {
  this.timeout(30_000);
  let fx: ImapFixture;

  before(async () => {
    fx = await startImap();
  });

  after(async () => {
    await fx.stop();
  });

  describe('connection and authentication', () => {
    it('upgrades with STARTTLS on the plain port and enables rev2, CONDSTORE, UTF8=ACCEPT', async () => {
      await withClient(fx, async (client) => {
        assert.equal(client.secureConnection, true);
        assert.ok(client.capabilities.has('IMAP4rev2'));
        assert.ok(client.capabilities.has('IDLE'));
        assert.ok(client.capabilities.has('APPENDLIMIT'));
        assert.equal(client.capabilities.has('STARTTLS'), false);
        assert.ok(client.enabled.has('CONDSTORE'));
        assert.ok(client.enabled.has('UTF8=ACCEPT'));
        assert.equal(client.serverInfo?.name, 'Commune');
      });
    });

    it('serves implicit TLS on the imaps port', async () => {
      await withClient(
        fx,
        async (client) => {
          assert.equal(client.secureConnection, true);
          const box = await client.mailboxOpen('INBOX');
          assert.equal(box.path, 'INBOX');
        },
        { port: fx.tlsPort, secure: true },
      );
    });

    it('logs in without TLS on loopback when asked not to upgrade', async () => {
      await withClient(fx, async (client) => assert.equal(client.secureConnection, false), {
        doSTARTTLS: false,
      });
    });

    it('refuses a wrong password with AUTHENTICATIONFAILED', async () => {
      const client = imapClient(fx, 'alice', { auth: { user: 'alice', pass: 'nope' } });
      await assert.rejects(client.connect(), (err: Error & { authenticationFailed?: boolean }) => {
        assert.equal(err.authenticationFailed, true);
        return true;
      });
      client.close();
    });

    it('authenticates with AUTHENTICATE PLAIN (SASL-IR) and with the LOGIN mechanism', async () => {
      for (const loginMethod of ['AUTH=PLAIN', 'AUTH=LOGIN']) {
        await withClient(fx, async (client) => assert.ok(client.authenticated), {
          auth: { user: 'alice@example.test', pass: 'alice-secret', loginMethod },
        });
      }
    });

    it('rate-limits failed logins (shared limiter) and closes after repeated failures', async () => {
      const limited = await startImap({
        env: { COMMUNE_AUTH_MAX_FAILURES_PER_USER: '2' },
      });
      try {
        const raw = await RawClient.connect(limited.port);
        assert.match(await raw.command('a1', 'LOGIN bob x1'), /a1 NO \[AUTHENTICATIONFAILED\]/);
        assert.match(await raw.command('a2', 'LOGIN bob x2'), /a2 NO \[AUTHENTICATIONFAILED\]/);
        assert.match(await raw.command('a3', 'LOGIN bob bob-secret'), /a3 NO \[UNAVAILABLE\]/);
        assert.match(await raw.command('a4', 'LOGIN bob x4'), /a4 NO/);
        const last = await raw.command('a5', 'LOGIN bob x5');
        assert.match(last, /^\* BYE Too many failed authentications/m);
        await once(raw.socket, 'close');
        // step: another user is not affected
        const ok = await RawClient.connect(limited.port);
        assert.match(await ok.command('b1', 'LOGIN alice alice-secret'), /b1 OK/);
        ok.close();
      } finally {
        await limited.stop();
      }
    });
  });

  describe('mailboxes', () => {
    it('lists the default mailboxes with their special use, subscribed', async () => {
      await withClient(fx, async (client) => {
        const list = await client.list();
        const uses = Object.fromEntries(list.map((m) => [m.path, m.specialUse]));
        assert.deepEqual(uses, {
          INBOX: '\\Inbox',
          Archive: '\\Archive',
          Drafts: '\\Drafts',
          Junk: '\\Junk',
          Sent: '\\Sent',
          Trash: '\\Trash',
        });
        assert.ok(list.every((m) => m.subscribed));
      });
    });

    it('creates, renames (with children), subscribes and deletes', async () => {
      await withClient(fx, async (client) => {
        const created = await client.mailboxCreate(['Clients', 'ACME']);
        assert.equal(created.path, 'Clients/ACME');
        await client.mailboxCreate('Clients/Globex');
        await client.mailboxSubscribe('Clients/ACME');
        await client.mailboxRename('Clients', 'Customers');
        const tree = (await client.list()).map((m) => m.path).filter((p) => p.startsWith('Cu'));
        assert.deepEqual(tree.sort(), ['Customers', 'Customers/ACME', 'Customers/Globex']);
        const subscribed = await client.list({ statusQuery: { messages: true } });
        const acme = subscribed.find((m) => m.path === 'Customers/ACME');
        assert.equal(acme?.subscribed, true);
        assert.equal(acme?.status?.messages, 0);
        await client.mailboxUnsubscribe('Customers/ACME');
        await client.mailboxDelete('Customers/Globex');
        await client.mailboxDelete('Customers/ACME');
        await client.mailboxDelete('Customers');
        assert.equal((await client.list()).filter((m) => m.path.startsWith('Cu')).length, 0);
        await assert.rejects(client.mailboxDelete('INBOX'));
      });
    });

    it('keeps Unicode mailbox names: UTF-8 with UTF8=ACCEPT, modified UTF-7 without', async () => {
      await withClient(fx, async (client) => {
        await client.mailboxCreate('Réunions 📅');
        const found = (await client.list()).find((m) => m.path === 'Réunions 📅');
        assert.ok(found);
      });
      await withClient(
        fx,
        async (client) => {
          assert.equal(client.enabled.has('UTF8=ACCEPT'), false);
          const found = (await client.list()).find((m) => m.path === 'Réunions 📅');
          assert.ok(found, 'imapflow decodes the modified UTF-7 name');
          await client.mailboxDelete('Réunions 📅');
        },
        { disableAutoEnable: true },
      );
    });

    it('reports STATUS with SIZE, HIGHESTMODSEQ, APPENDLIMIT and MAILBOXID', async () => {
      await withClient(fx, async (client) => {
        await client.mailboxCreate('StatusBox');
        await client.append('StatusBox', message('s1'), ['\\Seen']);
        await client.append('StatusBox', message('s2'));
        const status = await client.status('StatusBox', {
          messages: true,
          unseen: true,
          uidNext: true,
          uidValidity: true,
          highestModseq: true,
          size: true,
        } as Parameters<ImapFlow['status']>[1]);
        assert.ok(status !== false);
        assert.equal(status.messages, 2);
        assert.equal(status.unseen, 1);
        assert.equal(status.uidNext, 3);
        assert.ok(typeof status.uidValidity === 'bigint' && status.uidValidity > 0n);
        assert.ok(typeof status.highestModseq === 'bigint' && status.highestModseq > 0n);
        const raw = await RawClient.connect(fx.port);
        await raw.command('a', 'LOGIN alice alice-secret');
        const line = await raw.command('b', 'STATUS StatusBox (SIZE APPENDLIMIT MAILBOXID)');
        const size = Buffer.byteLength(message('s1')) + Buffer.byteLength(message('s2'));
        assert.match(
          line,
          new RegExp(
            `STATUS "StatusBox" \\(SIZE ${size} APPENDLIMIT 67108864 MAILBOXID \\(M\\d+\\)\\)`,
          ),
        );
        raw.close();
      });
    });

    it('answers quota: no root when unlimited, STORAGE usage once a limit is set', async () => {
      await withClient(fx, async (client) => {
        const quota = await client.getQuota('INBOX');
        assert.ok(quota === false || quota.storage === undefined);
      });
      await fx.core.directory.setQuota(fx.bob.id, 10 * 1024 * 1024);
      await fx.mail.deliver(fx.bob.id, message('quota', 'x'.repeat(5000)));
      await withClient(
        fx,
        async (client) => {
          const quota = await client.getQuota('INBOX');
          assert.ok(quota !== false);
          assert.equal(quota.storage?.limit, 10 * 1024 * 1024);
          assert.ok(((quota.storage as { usage?: number } | undefined)?.usage ?? 0) >= 5000);
        },
        {},
        'bob',
      );
    });

    it('answers NAMESPACE', async () => {
      await withClient(fx, async (client) => {
        assert.deepEqual(client.namespace, { prefix: '', delimiter: '/' });
      });
    });
  });

  describe('messages', () => {
    it('appends with flags and date, and fetches every kind of item', async () => {
      await withClient(fx, async (client) => {
        await client.mailboxCreate('Fetch');
        const date = new Date('2026-02-01T08:00:00Z');
        const appended = await client.append(
          'Fetch',
          message('Fetch me', 'Hello Alice.', ['Cc: Carol <carol@example.test>']),
          ['\\Flagged', '$Label1'],
          date,
        );
        assert.ok(appended !== false);
        assert.equal(appended.uid, 1);
        const lock = await client.getMailboxLock('Fetch');
        try {
          const msg = await client.fetchOne('1', {
            uid: true,
            flags: true,
            envelope: true,
            bodyStructure: true,
            internalDate: true,
            size: true,
            source: true,
            headers: ['subject', 'cc'],
            bodyParts: ['1', 'TEXT'],
            threadId: true,
            emailId: true,
          } as Parameters<ImapFlow['fetchOne']>[1]);
          assert.ok(msg !== false);
          assert.deepEqual([...(msg.flags ?? [])].sort(), ['$Label1', '\\Flagged']);
          assert.equal(msg.envelope?.subject, 'Fetch me');
          assert.deepEqual(msg.envelope?.cc, [{ name: 'Carol', address: 'carol@example.test' }]);
          assert.equal(msg.bodyStructure?.type, 'text/plain');
          assert.equal((msg.internalDate as Date).toISOString(), date.toISOString());
          assert.equal(
            msg.size,
            Buffer.byteLength(
              message('Fetch me', 'Hello Alice.', ['Cc: Carol <carol@example.test>']),
            ),
          );
          assert.equal(
            msg.source?.toString(),
            message('Fetch me', 'Hello Alice.', ['Cc: Carol <carol@example.test>']),
          );
          assert.match(msg.headers?.toString() ?? '', /^Subject: Fetch me\r\nCc: Carol/);
          assert.equal(msg.bodyParts?.get('1')?.toString(), 'Hello Alice.\r\n');
          assert.ok(typeof msg.emailId === 'string' && msg.emailId.length > 0);
          assert.ok(typeof msg.threadId === 'string' && msg.threadId.length > 0);
          // step: PEEK kept \Seen off
          const after = await client.fetchOne('1', { flags: true });
          assert.ok(after !== false && !after.flags?.has('\\Seen'));
        } finally {
          lock.release();
        }
      });
    });

    it('converts bare-LF messages to CRLF on APPEND, so RFC822.SIZE matches the bytes', async () => {
      await withClient(fx, async (client) => {
        await client.mailboxCreate('Bare');
        await client.append('Bare', 'Subject: bare\n\nline one\nline two\n');
        const lock = await client.getMailboxLock('Bare');
        try {
          const msg = await client.fetchOne('1', { size: true, source: true });
          assert.ok(msg !== false);
          assert.equal(msg.source?.toString(), 'Subject: bare\r\n\r\nline one\r\nline two\r\n');
          assert.equal(msg.size, msg.source?.length);
        } finally {
          lock.release();
        }
      });
    });

    it('streams a large message and its parts byte-exact', async () => {
      const attachment = Buffer.alloc(3 * 1024 * 1024, 0);
      for (let i = 0; i < attachment.length; i++) attachment[i] = (i * 7919) % 251;
      const b64 = attachment.toString('base64').replace(/.{76}/g, '$&\r\n');
      const big = [
        'Subject: big',
        'Content-Type: multipart/mixed; boundary=b1',
        '',
        '--b1',
        'Content-Type: text/plain',
        '',
        'See attachment.',
        '--b1',
        'Content-Type: application/octet-stream',
        'Content-Transfer-Encoding: base64',
        '',
        b64,
        '--b1--',
        '',
      ].join('\r\n');
      await withClient(fx, async (client) => {
        await client.mailboxCreate('Big');
        await client.append('Big', big);
        const lock = await client.getMailboxLock('Big');
        try {
          assert.equal(await sourceOf(client, 1), big);
          const part = await client.download('1', '2', { uid: true });
          const chunks: Buffer[] = [];
          assert.ok(part.content);
          for await (const c of part.content) chunks.push(c as Buffer);
          const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
          assert.equal(sha(Buffer.concat(chunks)), sha(attachment));
        } finally {
          lock.release();
        }
      });
    });

    it('stores flags, searches, copies and moves with UID maps, and expunges', async () => {
      await withClient(fx, async (client) => {
        await client.mailboxCreate('Work');
        await client.mailboxCreate('Done');
        for (let i = 1; i <= 5; i++) await client.append('Work', message(`task ${i}`, `body ${i}`));
        const lock = await client.getMailboxLock('Work');
        try {
          assert.ok(await client.messageFlagsAdd('1:2', ['\\Seen']));
          assert.ok(await client.messageFlagsAdd({ uid: '3' }, ['$Urgent'], { uid: true }));
          assert.ok(await client.messageFlagsSet('4', ['\\Answered']));
          assert.ok(await client.messageFlagsRemove('2', ['\\Seen']));
          assert.deepEqual(await client.search({ seen: true }), [1]);
          assert.deepEqual(await client.search({ keyword: '$Urgent' }, { uid: true }), [3]);
          assert.deepEqual(await client.search({ subject: 'task 5' }), [5]);
          assert.deepEqual(await client.search({ body: 'body 4' }), [4]);
          assert.deepEqual(
            await client.search({ or: [{ answered: true }, { seen: true }] }),
            [1, 4],
          );
          assert.deepEqual(await client.search({ not: { seen: true }, uid: '2:4' }), [2, 3, 4]);
          const copied = await client.messageCopy('1:2', 'Done');
          assert.ok(copied !== false);
          assert.deepEqual(
            [...(copied.uidMap ?? new Map())],
            [
              [1, 1],
              [2, 2],
            ],
          );
          const moved = await client.messageMove('5', 'Done', { uid: true });
          assert.ok(moved !== false);
          assert.deepEqual([...(moved.uidMap ?? new Map())], [[5, 3]]);
          assert.equal(client.mailbox !== false && client.mailbox.exists, 4);
          assert.ok(await client.messageDelete('1'));
          const left = await client.fetchAll('1:*', { uid: true });
          assert.deepEqual(
            left.map((m) => m.uid),
            [2, 3, 4],
          );
        } finally {
          lock.release();
        }
        const done = await client.status('Done', { messages: true });
        assert.ok(done !== false);
        assert.equal(done.messages, 3);
      });
    });

    it('marks a message \\Seen when its body is fetched without PEEK, not in EXAMINE', async () => {
      await withClient(fx, async (client) => {
        await client.mailboxCreate('Seen');
        await client.append('Seen', message('unread'));
        await client.mailboxOpen('Seen', { readOnly: true });
        await client.fetchOne('1', { bodyParts: ['TEXT'] });
        let msg = await client.fetchOne('1', { flags: true });
        assert.ok(msg !== false && !msg.flags?.has('\\Seen'));
        await client.mailboxOpen('Seen');
        const raw = await RawClient.connect(fx.port);
        await raw.command('a', 'LOGIN alice alice-secret');
        await raw.command('b', 'SELECT Seen');
        assert.match(await raw.command('c', 'FETCH 1 BODY[TEXT]'), /FLAGS \(\\Seen\)/);
        raw.close();
        msg = await client.fetchOne('1', { flags: true });
        assert.ok(msg !== false && msg.flags?.has('\\Seen'));
      });
    });

    it('works without IMAP4rev2 (classic SEARCH responses, RECENT)', async () => {
      await withClient(
        fx,
        async (client) => {
          assert.equal(client.enabled.has('IMAP4rev2'), false);
          await client.mailboxCreate('Classic');
          await client.append('Classic', message('c1'));
          await client.append('Classic', message('c2'), ['\\Seen']);
          await client.mailboxOpen('Classic');
          assert.deepEqual(await client.search({ seen: false }), [1]);
          assert.deepEqual(await client.search({ all: true }, { uid: true }), [1, 2]);
        },
        { disableIMAP4rev2: true } as Parameters<typeof imapClient>[2],
      );
    });
  });

  describe('push (IDLE and unsolicited updates)', () => {
    it('announces a delivery (as SMTP delivers) to an IDLE client within 1 s', async () => {
      await withClient(fx, async (client) => {
        await client.mailboxCreate('Push');
        await client.mailboxOpen('Push');
        const idling = client.idle();
        await new Promise((r) => setTimeout(r, 50));
        const box = await fx.mail.findMailbox(fx.alice.access, fx.alice.id, 'Push');
        assert.ok(box);
        const started = performance.now();
        const event = nextEvent<{ count: number }>(client, 'exists');
        await fx.mail.deliver(fx.alice.id, message('pushed'), { mailbox: box.id });
        assert.equal((await event).count, 1);
        assert.ok(performance.now() - started < 1000);
        await client.noop();
        await idling;
      });
    });

    it('announces messages appended, flagged and expunged by another session', async () => {
      await withClient(fx, async (watcher) => {
        await watcher.mailboxCreate('Shared');
        await watcher.mailboxOpen('Shared');
        await withClient(fx, async (other) => {
          const idling = watcher.idle();
          let exists = nextEvent<{ count: number }>(watcher, 'exists');
          await other.append('Shared', message('from other'));
          assert.equal((await exists).count, 1);

          const flags = nextEvent<{ flags: Set<string>; uid?: number }>(watcher, 'flags');
          await other.mailboxOpen('Shared');
          await other.messageFlagsAdd('1', ['\\Flagged']);
          const changed = await flags;
          assert.ok(changed.flags.has('\\Flagged'));
          assert.equal(changed.uid, 1);

          exists = nextEvent<{ count: number }>(watcher, 'exists');
          await other.append('Shared', message('second'));
          assert.equal((await exists).count, 2);
          const expunge = nextEvent<{ seq?: number; uid?: number }>(watcher, 'expunge');
          await other.messageDelete('1');
          const gone = await expunge;
          assert.ok(gone.seq === 1 || gone.uid === 1);
          await watcher.noop();
          await idling;
        });
      });
    });

    it('holds EXPUNGE back during FETCH and sends it at the next NOOP', async () => {
      await withClient(fx, async (client) => {
        await client.mailboxCreate('Hold');
        await client.append('Hold', message('h1'));
        await client.append('Hold', message('h2'));
        const raw = await RawClient.connect(fx.port);
        await raw.command('a', 'LOGIN alice alice-secret');
        await raw.command('b', 'SELECT Hold');
        await client.mailboxOpen('Hold');
        await client.messageDelete('1');
        const fetched = await raw.command('c', 'FETCH 1:* (UID)');
        assert.doesNotMatch(fetched, /EXPUNGE/);
        assert.match(fetched, /^\* 2 FETCH \(UID 2\)/m);
        assert.doesNotMatch(fetched, /UID 1\)/);
        const noop = await raw.command('d', 'NOOP');
        assert.match(noop, /^\* 1 EXPUNGE\r\nd OK/m);
        raw.close();
      });
    });
  });

  describe('CONDSTORE and QRESYNC', () => {
    it('fetches what changed since a modseq and resynchronises with SELECT (QRESYNC)', async () => {
      await withClient(
        fx,
        async (client) => {
          await client.mailboxCreate('Sync');
          for (let i = 1; i <= 4; i++) await client.append('Sync', message(`sync ${i}`));
          const box = await client.mailboxOpen('Sync');
          const modseq = box.highestModseq;
          const uidValidity = box.uidValidity;
          assert.ok(typeof modseq === 'bigint');
          await client.messageFlagsAdd('2', ['\\Seen']);
          await client.messageDelete('3');
          const changed = await client.fetchAll(
            '1:*',
            { flags: true, uid: true },
            { changedSince: modseq },
          );
          assert.deepEqual(
            changed.map((m) => m.uid),
            [2],
          );
          await client.mailboxClose();
          const raw = await RawClient.connect(fx.port);
          await raw.command('a', 'LOGIN alice alice-secret');
          await raw.command('b', 'ENABLE QRESYNC');
          const selected = await raw.command(
            'c',
            `SELECT Sync (QRESYNC (${String(uidValidity)} ${String(modseq)} 1:4))`,
          );
          assert.match(selected, /^\* VANISHED \(EARLIER\) 3\r\n/m);
          assert.match(selected, /^\* 2 FETCH \(UID 2 FLAGS \(\\Seen\) MODSEQ \(\d+\)\)/m);
          assert.doesNotMatch(selected, /UID [14] /);
          raw.close();
        },
        { qresync: true } as Parameters<typeof imapClient>[2],
      );
    });
  });

  describe('limits and isolation', () => {
    it('refuses a literal over APPENDLIMIT before reading it', async () => {
      const raw = await RawClient.connect(fx.port);
      await raw.command('a', 'LOGIN alice alice-secret');
      raw.send('b APPEND INBOX {999999999}');
      assert.match(await raw.until(/^b /), /^b NO \[TOOBIG\]/m);
      // step: the connection is still in sync
      assert.match(await raw.command('c', 'NOOP'), /^c OK/m);
      raw.close();
    });

    it('refuses large literals before authentication', async () => {
      const raw = await RawClient.connect(fx.port);
      raw.send('a LOGIN {100000}');
      assert.match(await raw.until(/^a /), /^a NO \[TOOBIG\]/m);
      raw.close();
    });

    it('closes a connection that sends too much before authenticating', async () => {
      const raw = await RawClient.connect(fx.port);
      raw.write(`a LOGIN alice {300000+}\r\n${'x'.repeat(300_000)}\r\n`);
      assert.match(await raw.until(/^\* BYE/), /Too much data before authentication/);
      await once(raw.socket, 'close');
    });

    it('closes a connection that sends an oversized non-synchronizing literal', async () => {
      const raw = await RawClient.connect(fx.port);
      await raw.command('a', 'LOGIN alice alice-secret');
      raw.send('b APPEND INBOX {999999999+}');
      const bye = await raw.until(/^\* BYE/);
      assert.match(bye, /^b BAD \[TOOBIG\]/m);
      await once(raw.socket, 'close');
    });

    it('answers garbage with BAD and keeps every other session working', async () => {
      await withClient(fx, async (client) => {
        await client.mailboxOpen('INBOX');
        const raw = await RawClient.connect(fx.port);
        raw.write('\u0000\u00ff garbage\r\n');
        raw.send(`x ${'A'.repeat(70_000)}`);
        raw.send('y FETCH');
        raw.send('z UID BOGUS 1');
        const out = await raw.until(/^z /);
        assert.match(out, /^\* BAD/m);
        assert.match(out, /^y BAD/m);
        assert.match(out, /^z BAD/m);
        assert.match(await raw.command('n', 'NOOP'), /^n OK/m);
        raw.close();
        assert.ok(await client.noop().then(() => true));
      });
    });

    it('says BYE to every session when the server stops', async () => {
      const own = await startImap();
      const raw = await RawClient.connect(own.port);
      await raw.command('a', 'LOGIN alice alice-secret');
      const stopping = own.stop();
      assert.match(await raw.until(/^\* BYE/), /Server shutting down/);
      await stopping;
    });

    it('closes a connection silent before login after limits.idleTimeout with BYE', async () => {
      const own = await startImap({ env: { COMMUNE_LIMITS_IDLE_TIMEOUT: '0.3' } });
      try {
        const raw = await RawClient.connect(own.port);
        assert.match(await raw.until(/^\* BYE/, 3000), /Autologout/);
      } finally {
        await own.stop();
      }
    });
  });

  it('exports the session class the server uses', () => {
    assert.equal(typeof ImapSession, 'function');
  });
});
