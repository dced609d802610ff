import assert from 'node:assert/strict';
import {
  buildDsn,
  decodeXtext,
  headerBlockOf,
  rfc5322Date,
} from '../../../src/storage/queue/dsn-report.ts';

const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

describe('DSN report (RFC 3464)', () => {
  const original = new TextEncoder().encode('From: a@x.test\r\nSubject: Grüße\r\n\r\nBody ü\r\n');
  const base = {
    hostname: 'mx.example.test',
    to: 'a@x.test',
    queueId: 'q1',
    envid: null,
    arrivalDate: new Date('2024-01-02T03:04:05Z'),
    now: new Date('2024-01-03T03:04:05Z'),
    recipients: [
      {
        address: 'b@y.test',
        state: 'failed' as const,
        attempts: 3,
        status: '4.4.7',
        lastResult: 'delivery time expired: connect ECONNREFUSED',
      },
    ],
  };

  it('is a multipart/report with a delivery-status part per RFC 3464 §2', () => {
    const text = dec(buildDsn({ ...base, original, headersOnly: false }));
    const boundary = /boundary="([^"]+)"/.exec(text)?.[1] ?? '';
    assert.ok(boundary.length > 0);
    assert.equal(text.split(`--${boundary}\r\n`).length, 4, 'three parts');
    assert.ok(text.endsWith(`--${boundary}--\r\n`));
    assert.match(text, /^Date: Wed, 03 Jan 2024 03:04:05 \+0000\r\n/m);
    assert.match(text, /^Arrival-Date: Tue, 02 Jan 2024 03:04:05 \+0000\r\n/m);
    assert.match(
      text,
      /^Diagnostic-Code: X-Commune; delivery time expired: connect ECONNREFUSED\r\n/m,
    );
    assert.doesNotMatch(text, /Original-Envelope-Id/);
    // 8-bit original: the message/rfc822 part says so
    assert.match(
      text,
      /Content-Type: message\/rfc822\r\nContent-Transfer-Encoding: 8bit\r\n\r\nFrom: a@x\.test/,
    );
    assert.ok(text.includes('Body ü'));
  });

  it('returns only the header for RET=HDRS or a large original', () => {
    const hdrs = dec(buildDsn({ ...base, original, headersOnly: true }));
    assert.match(hdrs, /Content-Type: text\/rfc822-headers/);
    assert.ok(!hdrs.includes('Body ü'));
    const large = dec(buildDsn({ ...base, original, headersOnly: false, maxReturn: 10 }));
    assert.match(large, /Content-Type: text\/rfc822-headers/);
  });

  it('helpers: header block, xtext, dates', () => {
    assert.equal(
      dec(headerBlockOf(new TextEncoder().encode('A: 1\nB: 2\n\nbody'))),
      'A: 1\nB: 2\n\n',
    );
    assert.equal(dec(headerBlockOf(new TextEncoder().encode('A: 1\r\n\r\nbody'))), 'A: 1\r\n\r\n');
    assert.equal(decodeXtext('a+2Bb+3Dc'), 'a+b=c');
    assert.equal(rfc5322Date(new Date('2024-12-31T23:59:59Z')), 'Tue, 31 Dec 2024 23:59:59 +0000');
  });
});
