/** A collection node with no stored state (tree roots such as `/dav/` and `/dav/files/`). */

import type { DavNode, DavTree } from '../dav-node.ts';

export function virtualCollection(tree: DavTree, path: string, owner?: string): DavNode {
  return {
    path,
    collection: true,
    resourceTypes: [],
    etag: undefined,
    contentType: undefined,
    contentLength: undefined,
    lastModified: undefined,
    created: undefined,
    owner,
    tree,
  };
}
