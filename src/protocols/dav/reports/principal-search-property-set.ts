/**
 * The principal-search-property-set report (RFC 3744 §9.5): which properties
 * principal-property-search can match on, with a description each.
 */

import type { DavReport } from '../dav-plugin.ts';
import { samePath } from '../dav-path.ts';
import { PRINCIPALS_ROOT } from '../trees/principals-tree.ts';
import { DAV_NS, XML_NS, clark, splitClark } from '../xml.ts';
import { XmlWriter } from '../xml-writer.ts';
import { SEARCHABLE } from './principal-property-search.ts';

export const principalSearchPropertySetReport: DavReport = {
  name: clark(DAV_NS, 'principal-search-property-set'),
  applies: (node) => samePath(node.path, PRINCIPALS_ROOT),
  async run(dr) {
    dr.depth(0, [0]);
    const w = new XmlWriter();
    w.open(DAV_NS, 'principal-search-property-set');
    for (const [name, { description }] of SEARCHABLE) {
      const { ns, name: local } = splitClark(name);
      w.open(DAV_NS, 'principal-search-property');
      w.open(DAV_NS, 'prop').leaf(ns, local).close();
      w.leaf(DAV_NS, 'description', description, [{ ns: XML_NS, name: 'lang', value: 'en' }]);
      w.close();
    }
    dr.sendXml(200, w.close().toString());
  },
};
