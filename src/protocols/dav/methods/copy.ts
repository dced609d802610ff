/** COPY (RFC 4918 §9.8): duplicate a resource, a collection with Depth 0 or infinity. */

import type { DavMethod } from '../dav-plugin.ts';
import { copyOrMove } from './copy-move.ts';

export const copyMethod: DavMethod = {
  name: 'COPY',
  allowed: (node) => node !== undefined,
  run: (dr) => copyOrMove(dr, false),
};
