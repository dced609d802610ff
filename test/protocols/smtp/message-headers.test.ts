import assert from 'node:assert/strict';
import {
  fromAddresses,
  headerFields,
  missingOriginFields,
  prependHeaders,
  removeForgedAuthResults,
} from '../../../src/protocols/smtp/message-headers.ts';
import { receivedHeader } from '../../../src/protocols/smtp/received-header.ts';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

describe('message headers', () => {
  it('prepends complete fields and keeps the rest byte-exact', () => {
    const msg = enc('Subject: x\r\n\r\nbody\r\n');
    assert.equal(
      dec(prependHeaders(['A: 1\r\n', 'B: 2\r\n'], msg)),
      'A: 1\r\nB: 2\r\nSubject: x\r\n\r\nbody\r\n',
    );
    assert.equal(dec(prependHeaders([], msg)), 'Subject: x\r\n\r\nbody\r\n');
  });

  it('drops only Authentication-Results with our authserv-id (RFC 8601 §5)', () => {
    const msg = enc(
      'Authentication-Results: MX.example.test;\r\n dkim=pass\r\n' +
        'Authentication-Results: (comment) mx.example.test; spf=pass\r\n' +
        'Authentication-Results: mx.example.test.evil; spf=pass\r\n' +
        'Subject: s\r\n\r\nAuthentication-Results: mx.example.test; in the body\r\n',
    );
    assert.equal(
      dec(removeForgedAuthResults(msg, 'mx.example.test')),
      'Authentication-Results: mx.example.test.evil; spf=pass\r\nSubject: s\r\n\r\nAuthentication-Results: mx.example.test; in the body\r\n',
    );
  });

  it('reads every From address, groups included', () => {
    const fields = headerFields(
      enc(
        'From: "Alice A." <Alice@Example.TEST>, bob@example.test\r\nFrom: team: carol@example.test;\r\n\r\n',
      ),
    );
    assert.deepEqual(fromAddresses(fields), [
      'alice@example.test',
      'bob@example.test',
      'carol@example.test',
    ]);
    assert.deepEqual(fromAddresses(headerFields(enc('Subject: none\r\n\r\n'))), []);
  });

  it('adds Message-ID and Date only when missing (RFC 6409 §8)', () => {
    const now = new Date('2024-02-29T23:05:09Z');
    const both = missingOriginFields(
      headerFields(enc('Subject: s\r\n\r\n')),
      'mx.example.test',
      now,
    );
    assert.equal(both.length, 2);
    assert.match(both[0] ?? '', /^Message-ID: <[0-9a-f]{24}@mx\.example\.test>\r\n$/);
    assert.equal(both[1], 'Date: Thu, 29 Feb 2024 23:05:09 +0000\r\n');
    const none = missingOriginFields(
      headerFields(enc('message-id: <a@b>\r\nDATE: Thu, 1 Feb 2024 00:00:00 +0000\r\n\r\n')),
      'mx.example.test',
      now,
    );
    assert.deepEqual(none, []);
  });
});

describe('Received header', () => {
  const date = new Date('2024-03-01T08:09:10Z');

  it('writes the RFC 5321 §4.4 trace field with TLS details and one recipient', () => {
    assert.equal(
      receivedHeader({
        helo: 'client.example.org',
        clientHostname: 'host.example.org',
        clientIp: '::ffff:192.0.2.1',
        hostname: 'mx.example.test',
        protocol: 'ESMTPS',
        id: 'abc123',
        tls: { version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384' },
        recipient: 'bob@example.test',
        date,
      }),
      'Received: from client.example.org (host.example.org [192.0.2.1])\r\n' +
        '\tby mx.example.test (Commune) with ESMTPS id abc123\r\n' +
        '\t(version=TLSv1.3 cipher=TLS_AES_256_GCM_SHA384)\r\n' +
        '\tfor <bob@example.test>; Fri, 01 Mar 2024 08:09:10 +0000\r\n',
    );
  });

  it('tags IPv6, omits unknown names and the recipient, and defuses client text', () => {
    assert.equal(
      receivedHeader({
        helo: 'evil (x); by\r\nX-Injected: 1',
        clientIp: '2001:db8::1',
        hostname: 'mx.example.test',
        protocol: 'SMTP',
        id: 'id1',
        date,
      }),
      'Received: from evil??x???by??X-Injected:?1 ([IPv6:2001:db8::1])\r\n' +
        '\tby mx.example.test (Commune) with SMTP id id1; Fri, 01 Mar 2024 08:09:10 +0000\r\n',
    );
  });
});
