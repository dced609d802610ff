/** OPTIONS (RFC 9110 §9.3.7, RFC 4918 §10.1): the DAV compliance classes and allowed methods. */

import type { DavMethod } from '../dav-plugin.ts';
import { allowedMethods } from './allowed-methods.ts';

export const optionsMethod: DavMethod = {
  name: 'OPTIONS',
  allowed: () => true,
  async run(dr) {
    const node = await dr.node();
    dr.send(200, {
      dav: dr.registry.compliance().join(', '),
      allow: allowedMethods(dr, node).join(', '),
      'ms-author-via': 'DAV',
      'accept-ranges': 'bytes',
    });
  },
};
