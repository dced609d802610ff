/**
 * REPORT (RFC 3253 §3.6): dispatch on the body's root element to the report registry. A
 * report the resource does not support is 403 DAV:supported-report.
 */

import { DavError } from '../dav-error.ts';
import type { DavMethod } from '../dav-plugin.ts';
import { DAV_NS, clarkOf } from '../xml.ts';

export const reportMethod: DavMethod = {
  name: 'REPORT',
  allowed: (node) => node !== undefined,
  async run(dr) {
    const body = await dr.readXml();
    if (!body) throw DavError.badRequest('REPORT needs a body');
    const node = await dr.requireNode();
    await dr.require(node, 'read');
    const report = dr.registry.report(clarkOf(body));
    if (!report || !report.applies(node)) {
      throw DavError.forbidden('report not supported here', {
        ns: DAV_NS,
        name: 'supported-report',
      });
    }
    await report.run(dr, node, body);
  },
};
