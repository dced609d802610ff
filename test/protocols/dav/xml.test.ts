import assert from 'node:assert/strict';
import { DavError } from '../../../src/protocols/dav/dav-error.ts';
import {
  DAV_NS,
  childElement,
  clark,
  elementsOf,
  parseXml,
  splitClark,
  textOf,
} from '../../../src/protocols/dav/xml.ts';

const is400 = (err: unknown) => err instanceof DavError && err.status === 400;

describe('parseXml', () => {
  it('resolves namespaces, default namespaces and the empty namespace', () => {
    const root = parseXml(
      '<?xml version="1.0"?><D:propfind xmlns:D="DAV:" xmlns="urn:z"><D:prop><a/><b xmlns=""/><D:x attr="1" xml:lang="fr">t&amp;&#x41;<![CDATA[<c>]]></D:x></D:prop></D:propfind>',
    );
    assert.equal(clark(root.ns, root.name), '{DAV:}propfind');
    const prop = childElement(root, DAV_NS, 'prop');
    assert.ok(prop);
    assert.deepEqual(
      elementsOf(prop).map((e) => clark(e.ns, e.name)),
      ['{urn:z}a', '{}b', '{DAV:}x'],
    );
    const x = elementsOf(prop)[2]!;
    assert.equal(textOf(x), 't&A<c>');
    assert.deepEqual(x.attrs, [
      { ns: '', name: 'attr', value: '1' },
      { ns: 'http://www.w3.org/XML/1998/namespace', name: 'lang', value: 'fr' },
    ]);
    assert.deepEqual(splitClark('{urn:z}a'), { ns: 'urn:z', name: 'a' });
  });

  it('refuses any DOCTYPE, so entities cannot be declared', () => {
    assert.throws(() => parseXml('<!DOCTYPE a><a/>'), is400);
    assert.throws(() => parseXml('<!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>'), is400);
    assert.throws(() => parseXml('<!DOCTYPE a SYSTEM "file:///etc/passwd"><a/>'), is400);
  });

  it('refuses malformed and namespace-invalid documents', () => {
    for (const bad of [
      '',
      '<a>',
      '<a></b>',
      '<x:a/>',
      '<a xmlns:p=""/>',
      '<a/><b/>',
      '<a>&undefined;</a>',
      'text',
    ]) {
      assert.throws(() => parseXml(bad), is400, JSON.stringify(bad));
    }
    assert.throws(() => parseXml(Buffer.from([0x3c, 0x61, 0xc3, 0x28, 0x2f, 0x3e])), is400);
  });

  it('enforces depth and element limits', () => {
    const deep = `${'<a>'.repeat(70)}${'</a>'.repeat(70)}`;
    assert.throws(() => parseXml(deep), is400);
    assert.doesNotThrow(() => parseXml(deep, { maxDepth: 100, maxElements: 100 }));
    assert.throws(
      () => parseXml(`<r>${'<a/>'.repeat(20)}</r>`, { maxDepth: 10, maxElements: 10 }),
      is400,
    );
  });
});
