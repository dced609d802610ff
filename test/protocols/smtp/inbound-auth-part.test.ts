/**
 * What of a message mailauth reads: the header alone when nothing in it signs the body (the
 * results must be those of the whole message), everything when a DKIM or ARC signature is
 * there.
 */

import assert from 'node:assert/strict';
import { authenticate } from 'mailauth';
import { authenticatedPart, verifyInbound } from '../../../src/protocols/smtp/inbound-auth.ts';
import { StaticResolver, mailauthResolver } from '../../../src/protocols/smtp/resolver.ts';

const HEADER =
  'From: Ann <ann@remote.test>\r\nTo: bob@example.test\r\nSubject: numbers\r\n' +
  'Message-ID: <n@remote.test>\r\n';

function bytes(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'latin1'));
}

describe('inbound auth: the part mailauth reads', () => {
  it('is the header (with its blank line) of an unsigned message', () => {
    const message = bytes(`${HEADER}\r\n${'body line\r\n'.repeat(1000)}`);
    assert.equal(authenticatedPart(message).toString('latin1'), `${HEADER}\r\n`);
    const bare = bytes('Subject: x\n\nbody\n');
    assert.equal(authenticatedPart(bare).toString('latin1'), 'Subject: x\n\n');
  });

  it('is the whole message when a DKIM or ARC signature is in the header', () => {
    for (const field of [
      'DKIM-Signature',
      'dkim-signature ',
      'ARC-Seal',
      'ARC-Message-Signature',
    ]) {
      const text = `${HEADER}${field}: v=1; a=rsa-sha256; d=remote.test\r\n\r\nbody\r\n`;
      assert.equal(authenticatedPart(bytes(text)).toString('latin1'), text, field);
    }
  });

  it('ignores a signature field name in the body, and a message without a body', () => {
    const text = `${HEADER}\r\nDKIM-Signature: v=1; not a header\r\n`;
    assert.equal(authenticatedPart(bytes(text)).toString('latin1'), `${HEADER}\r\n`);
    assert.equal(authenticatedPart(bytes(HEADER)).toString('latin1'), HEADER);
  });

  it('gives the results mailauth gives for the whole unsigned message', async () => {
    const resolver = new StaticResolver({
      'remote.test': { TXT: ['v=spf1 ip4:127.0.0.1 -all'] },
      '_dmarc.remote.test': { TXT: ['v=DMARC1; p=reject'] },
    });
    const message = bytes(`${HEADER}\r\n${'The quick brown fox.\r\n'.repeat(20_000)}`);
    const input = {
      message,
      clientIp: '127.0.0.1',
      helo: 'mail.remote.test',
      sender: 'ann@remote.test',
      hostname: 'mx.example.test',
      resolver,
    };
    const ours = await verifyInbound(input);
    const whole = await authenticate(Buffer.from(message), {
      ip: '127.0.0.1',
      helo: 'mail.remote.test',
      sender: 'ann@remote.test',
      mta: 'mx.example.test',
      resolver: mailauthResolver(resolver),
      disableBimi: true,
    });
    assert.equal(ours.headers.join(''), whole.headers);
    assert.equal(ours.spf, 'pass');
    assert.deepEqual(ours.dkim, ['none']);
    assert.equal(ours.dmarc.result, 'pass');
  });
});
