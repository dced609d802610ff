/**
 * LdapSession driven directly over a real socket pair, with a connection that claims to come
 * from a remote (non-loopback) address: what only a remote plaintext client can observe.
 */

import assert from 'node:assert/strict';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { silentLogger } from '../../../src/core/log.ts';
import { DirectoryTree } from '../../../src/protocols/ldap/directory-tree.ts';
import type { LdapSettings } from '../../../src/protocols/ldap/operations/operation.ts';
import { ResultCode } from '../../../src/protocols/ldap/result-code.ts';
import { LdapSession } from '../../../src/protocols/ldap/session.ts';
import { makeDirectory } from '../../storage/directory/directory-fixture.ts';
import { RawClient, simpleBind } from './ldap-fixture.ts';

const SETTINGS: LdapSettings = {
  allowAnonymous: false,
  allowPlaintext: false,
  maxMessageSize: 64 * 1024,
  maxFilterDepth: 20,
  maxOperations: 8,
  sizeLimit: 100,
  timeLimit: 10,
  maxPagedSearches: 4,
};

describe('LdapSession', () => {
  let server: net.Server;
  let client: RawClient;

  async function connect(settings: Partial<LdapSettings>, remoteAddress: string): Promise<void> {
    const fx = makeDirectory();
    await fx.directory.addDomain('example.test');
    await fx.directory.createPrincipal({ address: 'alice@example.test', password: 'pw-alice' });
    const log = silentLogger();
    const tree = new DirectoryTree({
      directory: fx.directory,
      storage: fx.storage,
      log,
      features: { saslMechanisms: ['PLAIN'], extensions: [], controls: [] },
    });
    server = net.createServer((socket) => {
      new LdapSession({
        socket,
        info: { id: 1, remoteAddress, remotePort: 1234, secure: false },
        server: {
          tree,
          directory: fx.directory,
          log,
          settings: { ...SETTINGS, ...settings },
        },
        startTls: undefined,
        protocol: 'ldap',
      }).start();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    client = await RawClient.connect((server.address() as AddressInfo).port);
  }

  afterEach(async () => {
    client.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const code = async (): Promise<number> =>
    ((await client.next()).protocolOp as { resultCode: number }).resultCode;

  it('refuses passwords over plaintext from a remote client: confidentialityRequired', async () => {
    await connect({}, '192.0.2.7');
    client.send(1, simpleBind('alice', 'pw-alice'));
    assert.equal(await code(), ResultCode.confidentialityRequired);
    client.send(2, {
      type: 'bindRequest',
      version: 3,
      name: '',
      authentication: {
        kind: 'sasl',
        mechanism: 'PLAIN',
        credentials: new TextEncoder().encode('\0alice\0pw-alice'),
      },
    });
    assert.equal(await code(), ResultCode.confidentialityRequired);
    // an anonymous bind carries no password and is fine
    client.send(3, simpleBind('', ''));
    assert.equal(await code(), ResultCode.success);
  });

  it('accepts them when auth.allowPlaintext is set', async () => {
    await connect({ allowPlaintext: true }, '192.0.2.7');
    client.send(1, simpleBind('alice', 'pw-alice'));
    assert.equal(await code(), ResultCode.success);
  });

  it('treats IPv6 and IPv4-mapped loopback as local', async () => {
    await connect({}, '::ffff:127.0.0.1');
    client.send(1, simpleBind('alice', 'pw-alice'));
    assert.equal(await code(), ResultCode.success);
  });

  it('lets anonymous read the directory when allowed', async () => {
    await connect({ allowAnonymous: true }, '192.0.2.7');
    client.send(1, {
      type: 'searchRequest',
      baseObject: 'dc=example,dc=test',
      scope: 'wholeSubtree',
      derefAliases: 'neverDerefAliases',
      sizeLimit: 0,
      timeLimit: 0,
      typesOnly: false,
      filter: { type: 'equalityMatch', attribute: 'uid', value: 'alice' },
      attributes: ['uid'],
    });
    const replies = await client.collect('searchResDone');
    assert.equal(replies.length, 2);
    assert.equal(
      (replies[0]?.protocolOp as { objectName: string }).objectName,
      'uid=alice,ou=people,dc=example,dc=test',
    );
  });

  it('offers no StartTLS where no TLS material is given', async () => {
    await connect({}, '127.0.0.1');
    client.send(1, { type: 'extendedReq', requestName: '1.3.6.1.4.1.1466.20037' });
    assert.equal(await code(), ResultCode.unavailable);
  });
});
