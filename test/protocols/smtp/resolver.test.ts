import assert from 'node:assert/strict';
import {
  StaticResolver,
  isNoRecord,
  mailauthResolver,
} from '../../../src/protocols/smtp/resolver.ts';

describe('StaticResolver', () => {
  const r = new StaticResolver({
    'Example.Org.': {
      MX: [{ exchange: 'mx.example.org', priority: 10 }],
      TXT: ['v=spf1 -all', 'x'.repeat(300)],
      A: ['192.0.2.1'],
    },
    '7.2.0.192.in-addr.arpa': { PTR: ['host.example.org'] },
  });

  it('answers from its table, case-insensitively, without the root dot', async () => {
    assert.deepEqual(await r.mx('example.org'), [{ exchange: 'mx.example.org', priority: 10 }]);
    assert.deepEqual(await r.a('EXAMPLE.ORG.'), ['192.0.2.1']);
    const txt = await r.txt('example.org');
    assert.deepEqual(txt[0], ['v=spf1 -all']);
    assert.deepEqual(
      txt[1]?.map((s) => s.length),
      [255, 45],
      'long TXT split into strings',
    );
  });

  it('fails like node:dns: ENOTFOUND for a missing name, ENODATA for a missing type', async () => {
    await assert.rejects(
      r.a('nowhere.test'),
      (e) => (e as { code: string }).code === 'ENOTFOUND' && isNoRecord(e),
    );
    await assert.rejects(
      r.aaaa('example.org'),
      (e) => (e as { code: string }).code === 'ENODATA' && isNoRecord(e),
    );
    assert.equal(isNoRecord(Object.assign(new Error('x'), { code: 'ETIMEOUT' })), false);
  });

  it('reverse-resolves by IP or by in-addr.arpa name, and records can change', async () => {
    assert.deepEqual(await r.ptr('192.0.2.7'), ['host.example.org']);
    assert.deepEqual(await r.ptr('::ffff:192.0.2.7'), ['host.example.org']);
    assert.deepEqual(await r.ptr('7.2.0.192.in-addr.arpa'), ['host.example.org']);
    r.set('new.test', { A: ['192.0.2.9'] });
    assert.deepEqual(await r.a('new.test'), ['192.0.2.9']);
  });

  it('adapts to the (name, rrtype) resolver mailauth calls', async () => {
    const fn = mailauthResolver(r);
    assert.deepEqual(await fn('example.org', 'MX'), [{ exchange: 'mx.example.org', priority: 10 }]);
    assert.deepEqual(await fn('example.org', 'txt'), await r.txt('example.org'));
    await assert.rejects(fn('example.org', 'CAA'), (e) => isNoRecord(e));
  });
});
