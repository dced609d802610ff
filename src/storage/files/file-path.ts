/**
 * Paths inside one account's file tree: `/` is the root collection, collections end with a
 * slash (`/Docs/`), files do not (`/Docs/a.txt`). Each path is stored under its parent path
 * and its last segment, so a collection's members are one prefix scan.
 */

import { CommuneError } from '../../core/errors.ts';

const MAX_NAME_BYTES = 255;
const MAX_DEPTH = 64;

export interface SplitPath {
  /** The parent collection path ('' for the root itself). */
  readonly parent: string;
  /** The last segment without slash ('' for the root). */
  readonly name: string;
  readonly collection: boolean;
}

/** Validate a tree path and split it into parent and name. */
export function splitPath(path: string): SplitPath {
  if (path === '/') return { parent: '', name: '', collection: true };
  if (!path.startsWith('/')) throw new CommuneError('invalid-argument', 'path must start with /');
  const collection = path.endsWith('/');
  const inner = collection ? path.slice(1, -1) : path.slice(1);
  const segments = inner.split('/');
  if (segments.length > MAX_DEPTH) throw new CommuneError('invalid-argument', 'path too deep');
  for (const s of segments) checkName(s);
  const name = segments.at(-1) as string;
  const parent = `/${segments.slice(0, -1).join('/')}${segments.length > 1 ? '/' : ''}`;
  return { parent, name, collection };
}

/** A valid member name: 1-255 bytes, no slash, no NUL or control characters, not a dot segment. */
export function checkName(name: string): void {
  // eslint-disable-next-line no-control-regex
  if (name === '' || name === '.' || name === '..' || /[/\u0000-\u001f\u007f]/.test(name)) {
    throw new CommuneError('invalid-argument', 'invalid name');
  }
  if (Buffer.byteLength(name) > MAX_NAME_BYTES) {
    throw new CommuneError('invalid-argument', 'name too long');
  }
}

/** The path of member `name` of collection `parent`. */
export function joinPath(parent: string, name: string, collection: boolean): string {
  return `${parent}${name}${collection ? '/' : ''}`;
}

/** Same resource, whatever the trailing slash. */
export function pathKey(path: string): string {
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
}

/** True when `path` is `ancestor` or lies below it. */
export function isWithin(path: string, ancestor: string): boolean {
  const a = pathKey(ancestor);
  const p = pathKey(path);
  return p === a || a === '/' || p.startsWith(`${a}/`);
}

/** Every ancestor collection path of `path`, the root first (the path itself excluded). */
export function ancestorPaths(path: string): string[] {
  const out: string[] = [];
  let { parent } = splitPath(path);
  while (parent !== '') {
    out.unshift(parent);
    parent = splitPath(parent).parent;
  }
  return out;
}
