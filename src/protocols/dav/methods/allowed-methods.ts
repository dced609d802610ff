/** The methods offered on a node (or an unmapped URL), for Allow headers and 405s. */

import type { DavNode } from '../dav-node.ts';
import type { DavRequest } from '../dav-request.ts';

export function allowedMethods(dr: DavRequest, node: DavNode | undefined): string[] {
  return dr.registry
    .methods()
    .filter((m) => m.allowed(node))
    .map((m) => m.name);
}
