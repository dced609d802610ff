/** The CAPABILITY list: exactly what is implemented, varying with TLS and authentication. */

import assert from 'node:assert/strict';
import { capabilityList, maxNonSyncLiteral } from '../../../src/protocols/imap/capabilities.ts';

const BASE = { appendLimit: 1000 };

describe('capabilityList', () => {
  it('before TLS on a remote connection: STARTTLS and LOGINDISABLED, no AUTH=', () => {
    const caps = capabilityList({
      ...BASE,
      authenticated: false,
      canStartTls: true,
      plaintextAllowed: false,
    });
    assert.ok(caps.includes('STARTTLS'));
    assert.ok(caps.includes('LOGINDISABLED'));
    assert.equal(
      caps.some((c) => c.startsWith('AUTH=')),
      false,
    );
  });

  it('once passwords may be sent: AUTH=PLAIN and AUTH=LOGIN', () => {
    const caps = capabilityList({
      ...BASE,
      authenticated: false,
      canStartTls: false,
      plaintextAllowed: true,
    });
    assert.ok(caps.includes('AUTH=PLAIN') && caps.includes('AUTH=LOGIN'));
    assert.equal(caps.includes('LOGINDISABLED'), false);
    assert.equal(caps.includes('STARTTLS'), false);
  });

  it('after login: the extensions, APPENDLIMIT, no AUTH=', () => {
    const caps = capabilityList({
      ...BASE,
      authenticated: true,
      canStartTls: false,
      plaintextAllowed: true,
    });
    assert.deepEqual(caps, [
      'IMAP4rev1',
      'IMAP4rev2',
      'SASL-IR',
      'LITERAL+',
      'ID',
      'ENABLE',
      'IDLE',
      'NAMESPACE',
      'UNSELECT',
      'CHILDREN',
      'UIDPLUS',
      'MOVE',
      'SPECIAL-USE',
      'CREATE-SPECIAL-USE',
      'CONDSTORE',
      'QRESYNC',
      'ESEARCH',
      'SEARCHRES',
      'LIST-EXTENDED',
      'LIST-STATUS',
      'STATUS=SIZE',
      'QUOTA',
      'QUOTA=RES-STORAGE',
      'UTF8=ACCEPT',
      'OBJECTID',
      'BINARY',
      'APPENDLIMIT=1000',
    ]);
  });

  it('LITERAL- before login, LITERAL+ after, never both (RFC 7888 §5)', () => {
    for (const authenticated of [false, true]) {
      const caps = capabilityList({
        ...BASE,
        authenticated,
        canStartTls: false,
        plaintextAllowed: true,
      });
      const literal = caps.filter((c) => c.startsWith('LITERAL'));
      assert.deepEqual(literal, [authenticated ? 'LITERAL+' : 'LITERAL-']);
    }
    // step: what the reader enforces matches what is advertised
    assert.equal(maxNonSyncLiteral(false, 1 << 20), 4096);
    assert.equal(maxNonSyncLiteral(true, 1 << 20), 1 << 20);
    assert.equal(maxNonSyncLiteral(false, 1000), 1000);
  });
});
