/** Test helper: wire parts as text (all parts in memory). */

import { partsToBytes } from '../../../../src/protocols/imap/compose/response-writer.ts';
import type { WirePart } from '../../../../src/protocols/imap/compose/response-writer.ts';

export function wireText(parts: readonly WirePart[] | Uint8Array): string {
  return new TextDecoder().decode(parts instanceof Uint8Array ? parts : partsToBytes(parts));
}
