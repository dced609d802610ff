/**
 * Byte offsets of every MIME part of a stored message, kept next to its BODYSTRUCTURE so
 * FETCH BODY[section] (RFC 9051 §6.4.5) is a range read of the blob, never a reparse.
 *
 * The tree has the shape of the BodyStructure: `c` are the parts of a multipart (in
 * `parts` order), `m` is the root part of the message encapsulated by a message/rfc822 part
 * (its `message.body`). Offsets are absolute in the message: `h` header start, `b` body
 * start (after the blank line), `e` body end (before the line break that belongs to the
 * next boundary delimiter, RFC 2046 §5.1.1).
 */

import type { BodyStructure } from '../../../protocols/imap/compose/body-structure.ts';

export interface MimePart {
  readonly h: number;
  readonly b: number;
  readonly e: number;
  readonly c?: readonly MimePart[];
  readonly m?: MimePart;
}

/** A byte range of the message: start inclusive, end exclusive. */
export interface SectionRange {
  readonly start: number;
  readonly end: number;
}

/** What of a part a section names: its body, MIME header, or encapsulated HEADER/TEXT. */
export type SectionKind = 'BODY' | 'MIME' | 'HEADER' | 'TEXT';

/**
 * The part a section-part path names (RFC 9051 §6.4.5), Dovecot's way: part 1 of a
 * non-multipart message is its body; after a message/rfc822 part the numbers continue in the
 * encapsulated message; `n.1` of a leaf inside a multipart is that leaf. Undefined when the
 * part does not exist.
 */
export function resolvePart(root: MimePart, path: readonly number[]): MimePart | undefined {
  let node = root;
  for (const [i, n] of path.entries()) {
    if (i === 0) {
      if (root.c !== undefined) node = root.c[n - 1] as MimePart;
      else if (n !== 1) return undefined;
    } else if (node.c !== undefined) {
      node = node.c[n - 1] as MimePart;
    } else if (node.m !== undefined) {
      const inner: MimePart = node.m;
      if (inner.c !== undefined) node = inner.c[n - 1] as MimePart;
      else if (n === 1) node = inner;
      else return undefined;
    } else if (n !== 1 || node === root) {
      return undefined;
    }
    if (node === undefined) return undefined;
  }
  return node;
}

/** The BodyStructure node at the same place as `resolvePart` (for encodings, BINARY). */
export function resolveBody(
  body: BodyStructure,
  path: readonly number[],
): BodyStructure | undefined {
  let node: BodyStructure | undefined = body;
  for (const [i, n] of path.entries()) {
    if (node === undefined) return undefined;
    if (i === 0) {
      if (body.kind === 'multipart') node = body.parts[n - 1];
      else if (n !== 1) return undefined;
    } else if (node.kind === 'multipart') {
      node = node.parts[n - 1];
    } else if (node.message !== null) {
      const inner: BodyStructure = node.message.body;
      if (inner.kind === 'multipart') node = inner.parts[n - 1];
      else if (n === 1) node = inner;
      else return undefined;
    } else if (n !== 1 || node === body) {
      return undefined;
    }
  }
  return node;
}

/**
 * The byte range of a section: `[]` with BODY is the whole message, HEADER / TEXT its header
 * and body; with a part path, BODY is the part's body, MIME its header, and HEADER / TEXT
 * (also used for HEADER.FIELDS) the header / body of the message a message/rfc822 part
 * encapsulates. Null when the section does not exist (Dovecot answers those with "").
 */
export function sectionRange(
  root: MimePart,
  path: readonly number[],
  kind: SectionKind,
): SectionRange | null {
  if (path.length === 0) {
    switch (kind) {
      case 'BODY':
        return { start: 0, end: root.e };
      case 'HEADER':
        return { start: root.h, end: root.b };
      case 'TEXT':
        return { start: root.b, end: root.e };
      case 'MIME':
        return null;
    }
  }
  const node = resolvePart(root, path);
  if (node === undefined) return null;
  switch (kind) {
    case 'BODY':
      return { start: node.b, end: node.e };
    case 'MIME':
      return { start: node.h, end: node.b };
    case 'HEADER':
      return node.m === undefined ? null : { start: node.m.h, end: node.m.b };
    case 'TEXT':
      return node.m === undefined ? null : { start: node.m.b, end: node.m.e };
  }
}
