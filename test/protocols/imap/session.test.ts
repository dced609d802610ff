/**
 * Golden transcripts of IMAP sessions over a raw socket (transcripts/*.txt, see
 * transcript.ts), each on a fresh server, plus the session behaviour they cannot script.
 */

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readdirSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { silentLogger } from '../../../src/core/log.ts';
import type { ImapServices } from '../../../src/protocols/imap/commands/command.ts';
import { MailboxIndexes } from '../../../src/protocols/imap/mailbox-index.ts';
import { ImapSession } from '../../../src/protocols/imap/session.ts';
import { RawClient, startImap } from './imap-fixture.ts';
import type { ImapFixture } from './imap-fixture.ts';
import { runTranscript } from './transcript.ts';

const TRANSCRIPTS = fileURLToPath(new URL('./transcripts/', import.meta.url));

describe('IMAP session transcripts', function () {
  this.timeout(30_000);
  let fx: ImapFixture;

  beforeEach(async () => {
    fx = await startImap();
  });

  afterEach(async () => {
    await fx.stop();
  });

  for (const file of readdirSync(TRANSCRIPTS)
    .filter((f) => f.endsWith('.txt'))
    .sort()) {
    it(file.replace(/\.txt$/, ''), async () => {
      await runTranscript(fx, join(TRANSCRIPTS, file));
    });
  }
});

/**
 * A session as a client on another machine sees it: the listener binds loopback only, so the
 * session is given a socket of a local server and told the peer is 192.0.2.7.
 */
async function remoteSession(
  fx: ImapFixture,
  allowPlaintext: boolean,
): Promise<{ client: net.Socket; close: () => void }> {
  const services: ImapServices = {
    mail: fx.mail,
    indexes: new MailboxIndexes(fx.core.storage.store),
    directory: fx.core.directory,
    log: silentLogger(),
    settings: {
      allowPlaintext,
      appendLimit: 1024 * 1024,
      maxAuthFailures: 5,
      preAuthTimeoutMs: 60_000,
      authTimeoutMs: 60_000,
    },
  };
  const server = net.createServer((socket) => {
    new ImapSession({
      socket,
      info: { id: 1, remoteAddress: '192.0.2.7', remotePort: 40000, secure: false },
      services,
      protocol: 'imap',
      startTls: fx.core.tls.context,
      hostname: 'test',
      onLogin: () => undefined,
    }).start();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  const client = net.connect({ host: '127.0.0.1', port });
  await once(client, 'connect');
  return {
    client,
    close: () => {
      client.destroy();
      server.close();
    },
  };
}

/** Read from `socket` until a line matches `pattern`. */
async function readUntil(socket: net.Socket | tls.TLSSocket, pattern: RegExp): Promise<string> {
  let text = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out: ${text}`)), 5000);
    const onData = (chunk: Buffer): void => {
      text += chunk.toString();
      if (text.split('\r\n').some((l) => pattern.test(l))) {
        clearTimeout(timer);
        socket.off('data', onData);
        resolve(text);
      }
    };
    socket.on('data', onData);
  });
}

describe('IMAP session: passwords and STARTTLS for remote clients', function () {
  this.timeout(30_000);
  let fx: ImapFixture;

  before(async () => {
    fx = await startImap();
  });

  after(async () => {
    await fx.stop();
  });

  it('advertises LOGINDISABLED before TLS and refuses passwords in the clear', async () => {
    const { client, close } = await remoteSession(fx, false);
    try {
      const greeting = await readUntil(client, /^\* OK/);
      assert.match(greeting, /STARTTLS LOGINDISABLED /);
      assert.doesNotMatch(greeting, /AUTH=/);
      client.write('a LOGIN alice alice-secret\r\n');
      assert.match(await readUntil(client, /^a /), /^a NO \[PRIVACYREQUIRED\]/m);
      client.write('b AUTHENTICATE PLAIN AGFsaWNlAGFsaWNlLXNlY3JldA==\r\n');
      assert.match(await readUntil(client, /^b /), /^b NO \[PRIVACYREQUIRED\]/m);
      // step: STARTTLS, with a command injected behind it in the same packet
      client.write('c STARTTLS\r\nd LOGIN alice alice-secret\r\n');
      assert.match(await readUntil(client, /^c /), /^c OK/m);
      const secure = tls.connect({ socket: client, rejectUnauthorized: false });
      await once(secure, 'secureConnect');
      secure.write('e CAPABILITY\r\n');
      const caps = await readUntil(secure, /^e /);
      assert.doesNotMatch(caps, /^d /m, 'the injected command was discarded');
      assert.match(caps, /AUTH=PLAIN AUTH=LOGIN/);
      assert.doesNotMatch(caps, /STARTTLS|LOGINDISABLED/);
      secure.write('f LOGIN alice alice-secret\r\ng STARTTLS\r\n');
      const login = await readUntil(secure, /^g /);
      assert.match(login, /^f OK/m);
      assert.match(login, /^g BAD/m);
      secure.destroy();
    } finally {
      close();
    }
  });

  it('accepts passwords in the clear when auth.allowPlaintext is set', async () => {
    const { client, close } = await remoteSession(fx, true);
    try {
      const greeting = await readUntil(client, /^\* OK/);
      assert.match(greeting, /STARTTLS AUTH=PLAIN AUTH=LOGIN /);
      assert.doesNotMatch(greeting, /LOGINDISABLED/);
      client.write('a LOGIN alice alice-secret\r\n');
      assert.match(await readUntil(client, /^a /), /^a OK/m);
    } finally {
      close();
    }
  });
});

describe('IMAP session: non-synchronizing literals (RFC 7888)', function () {
  this.timeout(30_000);
  let fx: ImapFixture;

  before(async () => {
    fx = await startImap();
  });

  after(async () => {
    await fx.stop();
  });

  it('enforces LITERAL- before login and LITERAL+ after', async () => {
    const client = await RawClient.connect(fx.port);
    try {
      assert.match(client.greeting, / LITERAL- /);
      assert.doesNotMatch(client.greeting, /LITERAL\+/);
      // step: up to 4096 octets are read without a continuation
      client.write(`a1 LOGIN {4096+}\r\n${'u'.repeat(4096)} wrong\r\n`);
      assert.match(await client.until(/^a1 /), /^a1 NO \[AUTHENTICATIONFAILED\]/m);
      // step: one more is refused; the literal (a command in it) is discarded, the session goes on
      const inside = `\r\nz1 LOGOUT\r\n${'u'.repeat(4084)}`;
      client.write(`a2 LOGIN {${inside.length}+}\r\n${inside} wrong\r\na3 NOOP\r\n`);
      const refused = await client.until(/^a3 /);
      assert.match(refused, /^a2 BAD \[TOOBIG\]/m);
      assert.doesNotMatch(refused, /^(\* BYE|z1 )/m);
      assert.match(refused, /^a3 OK/m);
      client.send('a4 LOGIN alice alice-secret');
      const login = await client.until(/^a4 /);
      assert.match(login, /^a4 OK \[CAPABILITY [^\]]* LITERAL\+ /m);
      assert.doesNotMatch(login, /LITERAL-/);
      // step: a pipelined non-synchronizing literal far above 4096 is now accepted
      const body = `Subject: big\r\n\r\n${'b'.repeat(9000)}\r\n`;
      client.write(`a5 APPEND INBOX {${Buffer.byteLength(body)}+}\r\n${body}\r\na6 NOOP\r\n`);
      const appended = await client.until(/^a6 /);
      assert.match(appended, /^a5 OK \[APPENDUID \d+ 1\]/m);
    } finally {
      client.close();
    }
  });
});
