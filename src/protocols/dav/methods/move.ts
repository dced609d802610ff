/** MOVE (RFC 4918 §9.9): COPY with Depth infinity followed by DELETE of the source, atomically. */

import type { DavMethod } from '../dav-plugin.ts';
import { copyOrMove } from './copy-move.ts';

export const moveMethod: DavMethod = {
  name: 'MOVE',
  allowed: (node) => node !== undefined,
  run: (dr) => copyOrMove(dr, true),
};
