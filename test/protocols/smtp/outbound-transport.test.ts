import assert from 'node:assert/strict';
import { enhancedOf, parseSmarthost } from '../../../src/protocols/smtp/outbound-transport.ts';

describe('outbound transport helpers', () => {
  it('parses smarthost URLs', () => {
    assert.deepEqual(parseSmarthost('smtp://user%40x:p%3Ass@relay.example.org:2525'), {
      host: 'relay.example.org',
      port: 2525,
      secure: false,
      auth: { user: 'user@x', pass: 'p:ss' },
    });
    assert.deepEqual(parseSmarthost('smtps://relay.example.org'), {
      host: 'relay.example.org',
      port: 465,
      secure: true,
    });
    assert.deepEqual(parseSmarthost('relay.example.org'), {
      host: 'relay.example.org',
      port: 587,
      secure: false,
    });
    assert.equal(parseSmarthost(''), undefined);
    assert.throws(() => parseSmarthost('http://relay.example.org'));
  });

  it('reads enhanced status codes from replies', () => {
    assert.equal(enhancedOf('550 5.1.1 User unknown', '5.0.0'), '5.1.1');
    assert.equal(enhancedOf('451-4.7.1 greylisted', '4.0.0'), '4.7.1');
    assert.equal(enhancedOf('550 User unknown', '5.0.0'), '5.0.0');
  });
});
