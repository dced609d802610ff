import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect, TLSSocket } from 'node:tls';
import { createSelfSigned } from '../../../src/protocols/shared/tls.ts';
import {
  TcpListener,
  upgradeToTls,
  type TcpListenerOptions,
} from '../../../src/protocols/shared/tcp-listener.ts';
import { silentLogger } from '../../../src/core/log.ts';
import { createSecureContext, type SecureContext } from 'node:tls';

/** Read from a socket until `pattern` has been seen; returns everything read. */
async function readUntil(socket: Socket, pattern: RegExp, timeoutMs = 3000): Promise<string> {
  let text = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`timeout waiting for ${pattern}, got ${JSON.stringify(text)}`)),
      timeoutMs,
    );
    const onData = (chunk: Buffer): void => {
      text += chunk.toString('utf8');
      if (pattern.test(text)) {
        clearTimeout(timer);
        socket.off('data', onData);
        resolve(text);
      }
    };
    socket.on('data', onData);
  });
}

/**
 * A tiny line protocol: greets with "* hello", echoes lines as "echo: <line>", "STARTTLS"
 * upgrades the connection, "QUIT" closes.
 */
function echoSession(tls: SecureContext | undefined) {
  return (socket: Socket): void => {
    socket.write('* hello\r\n');
    let stream: Socket = socket;
    const onData = (chunk: Buffer): void => {
      for (const line of chunk.toString('utf8').split('\r\n').filter(Boolean)) {
        if (line === 'STARTTLS' && tls && !(stream instanceof TLSSocket)) {
          stream.write('OK begin TLS\r\n');
          void upgradeToTls(stream, tls).then((secure) => {
            stream = secure;
            secure.on('data', onData);
          });
          return; // discard anything pipelined after STARTTLS
        }
        if (line === 'QUIT') {
          stream.end('bye\r\n');
          return;
        }
        stream.write(`echo${stream instanceof TLSSocket ? '(tls)' : ''}: ${line}\r\n`);
      }
    };
    socket.on('data', onData);
  };
}

describe('TcpListener', () => {
  let cert: string;
  let pair: { cert: string; key: string };
  let context: SecureContext;
  const listeners: TcpListener[] = [];

  before(async () => {
    pair = await createSelfSigned('localhost');
    cert = pair.cert;
    context = createSecureContext({ cert: pair.cert, key: pair.key });
  });
  afterEach(async () => {
    await Promise.all(listeners.splice(0).map((l) => l.stop(Date.now() + 500)));
  });

  async function start(options: Partial<TcpListenerOptions> = {}) {
    const listener = new TcpListener({
      name: 'echo',
      host: '127.0.0.1',
      port: 0,
      maxConnections: 100,
      maxConnectionsPerAddress: 100,
      idleTimeoutMs: 0,
      log: silentLogger(),
      onConnection: echoSession(context),
      ...options,
    });
    listeners.push(listener);
    return { listener, endpoint: await listener.start() };
  }

  it('serves plain connections on an ephemeral port', async () => {
    const { endpoint } = await start({ plainTls: 'starttls' });
    assert.ok(endpoint.port > 0);
    assert.equal(endpoint.tls, 'starttls');
    const socket = connect(endpoint.port, '127.0.0.1');
    await readUntil(socket, /\* hello\r\n/);
    socket.write('ping\r\n');
    assert.match(await readUntil(socket, /echo: ping\r\n/), /echo: ping/);
    socket.write('QUIT\r\n');
    await readUntil(socket, /bye/);
    socket.destroy();
  });

  it('serves implicit TLS', async () => {
    const { endpoint } = await start({ tls: pair });
    assert.equal(endpoint.tls, 'implicit');
    const socket = tlsConnect({
      port: endpoint.port,
      host: '127.0.0.1',
      ca: cert,
      servername: 'localhost',
    });
    await once(socket, 'secureConnect');
    assert.equal(socket.authorized, true);
    await readUntil(socket, /\* hello/);
    socket.destroy();
  });

  it('upgrades with STARTTLS and drops plaintext pipelined after it', async () => {
    const { endpoint } = await start();
    const plain = connect(endpoint.port, '127.0.0.1');
    await readUntil(plain, /\* hello\r\n/);
    plain.write('STARTTLS\r\ninjected\r\n');
    await readUntil(plain, /OK begin TLS\r\n/);
    const secure = tlsConnect({ socket: plain, ca: cert, servername: 'localhost' });
    await once(secure, 'secureConnect');
    secure.write('after\r\n');
    const got = await readUntil(secure, /echo\(tls\): after/);
    assert.doesNotMatch(got, /injected/);
    secure.destroy();
  });

  it('refuses connections over the per-address limit, with a reason', async () => {
    const { listener, endpoint } = await start({
      maxConnectionsPerAddress: 2,
      onRefuse: (socket, reason) => socket.write(`* BYE ${reason}\r\n`),
    });
    const a = connect(endpoint.port, '127.0.0.1');
    const b = connect(endpoint.port, '127.0.0.1');
    await readUntil(a, /hello/);
    await readUntil(b, /hello/);
    const c = connect(endpoint.port, '127.0.0.1');
    assert.match(await readUntil(c, /BYE/), /too many connections from your address/);
    await once(c, 'close');
    assert.equal(listener.connections, 2);
    a.destroy();
    await once(a, 'close');
    // A slot is free again
    await new Promise((r) => setTimeout(r, 50));
    const d = connect(endpoint.port, '127.0.0.1');
    await readUntil(d, /hello/);
    b.destroy();
    d.destroy();
  });

  it('closes idle connections after a goodbye', async () => {
    const { endpoint } = await start({
      idleTimeoutMs: 150,
      onIdle: (socket) => socket.write('* BYE idle\r\n'),
    });
    const socket = connect(endpoint.port, '127.0.0.1');
    await readUntil(socket, /hello/);
    assert.match(await readUntil(socket, /BYE idle/), /BYE idle/);
    await once(socket, 'close');
  });

  it('stops gracefully: goodbye to open sessions, no new connections', async () => {
    const { listener, endpoint } = await start();
    const socket = connect(endpoint.port, '127.0.0.1');
    await readUntil(socket, /hello/);
    const closed = once(socket, 'close');
    const received = readUntil(socket, /BYE shutting down/);
    await listener.stop(Date.now() + 1000, (s) => s.end('* BYE shutting down\r\n'));
    await received;
    await closed;
    const late = connect(endpoint.port, '127.0.0.1');
    const [err] = (await once(late, 'error')) as [NodeJS.ErrnoException];
    assert.equal(err.code, 'ECONNREFUSED');
  });

  it('destroys sessions that outlive the stop deadline', async () => {
    const { listener, endpoint } = await start();
    const socket = connect(endpoint.port, '127.0.0.1');
    await readUntil(socket, /hello/);
    const closed = once(socket, 'close');
    const t0 = Date.now();
    await listener.stop(Date.now() + 200);
    await closed;
    assert.ok(Date.now() - t0 < 2000);
  });
});
