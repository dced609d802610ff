import assert from 'node:assert/strict';
import { parseXml } from '../../../src/protocols/dav/xml.ts';
import {
  XmlWriter,
  escapeAttribute,
  escapeText,
  serializeElement,
} from '../../../src/protocols/dav/xml-writer.ts';

describe('XmlWriter', () => {
  it('declares DAV: on the root and other namespaces where first used', () => {
    const w = new XmlWriter();
    w.open('DAV:', 'multistatus')
      .open('urn:x', 'a')
      .leaf('urn:x', 'b', 'v')
      .close()
      .leaf('urn:y', 'c')
      .leaf('', 'plain', '1 < 2')
      .close();
    assert.equal(
      w.toString(),
      '<?xml version="1.0" encoding="utf-8"?>\n<d:multistatus xmlns:d="DAV:"><x0:a xmlns:x0="urn:x"><x0:b>v</x0:b></x0:a><x1:c xmlns:x1="urn:y"/><plain>1 &lt; 2</plain></d:multistatus>',
    );
  });

  it('uses the well-known prefixes of CalDAV, CardDAV and CalendarServer', () => {
    const w = new XmlWriter({ declaration: false });
    w.open('DAV:', 'prop')
      .leaf('urn:ietf:params:xml:ns:caldav', 'calendar')
      .leaf('http://calendarserver.org/ns/', 'getctag', '1')
      .close();
    assert.equal(
      w.toString(),
      '<d:prop xmlns:d="DAV:"><cal:calendar xmlns:cal="urn:ietf:params:xml:ns:caldav"/><cs:getctag xmlns:cs="http://calendarserver.org/ns/">1</cs:getctag></d:prop>',
    );
  });

  it('closes empty elements itself and refuses unbalanced use', () => {
    const w = new XmlWriter({ declaration: false });
    w.open('DAV:', 'resourcetype').close();
    assert.equal(w.toString(), '<d:resourcetype xmlns:d="DAV:"/>');
    assert.throws(() => new XmlWriter().close());
    assert.throws(() => new XmlWriter().open('DAV:', 'x').toString());
  });

  it('escapes text and attributes', () => {
    assert.equal(escapeText('a&b<c>d\r'), 'a&amp;b&lt;c&gt;d&#13;');
    assert.equal(escapeAttribute('"x"\n\t&'), '&quot;x&quot;&#10;&#9;&amp;');
  });

  it('serializes a parsed element into a standalone fragment that parses back the same', () => {
    const el = parseXml(
      '<Z:Authors xmlns:Z="urn:z" xmlns:D="DAV:" xml:lang="en"><Z:Author>Jane &amp; John</Z:Author><D:href>/x</D:href><n xmlns="">no ns</n></Z:Authors>',
    );
    const fragment = serializeElement(el);
    assert.equal(
      fragment,
      '<x0:Authors xmlns:x0="urn:z" xml:lang="en"><x0:Author>Jane &amp; John</x0:Author><d:href xmlns:d="DAV:">/x</d:href><n>no ns</n></x0:Authors>',
    );
    assert.deepEqual(parseXml(fragment), el);
  });
});
