/**
 * Request paths. A DAV path is the decoded absolute URL path (`/dav/files/a@b.c/Docs/x.txt`);
 * collections are written with a trailing slash. Decoding refuses what could escape a tree or
 * alias another name: dot segments, encoded slashes, NUL and control characters, fragments and
 * invalid UTF-8 (RFC 3986 §3.3, RFC 4918 §8.3).
 */

import { DavError } from './dav-error.ts';

const MAX_PATH_BYTES = 4096;
const MAX_SEGMENT_BYTES = 255;
const MAX_SEGMENTS = 64;

/** Decode and validate one raw (percent-encoded) path segment. */
export function decodeSegment(raw: string): string {
  let segment: string;
  try {
    segment = decodeURIComponent(raw);
  } catch {
    throw DavError.badRequest('invalid percent-encoding in path');
  }
  if (segment === '.' || segment === '..')
    throw DavError.badRequest('dot segments are not allowed');
  if (segment.includes('/') || segment.includes('\\'))
    throw DavError.badRequest('encoded slash in path');
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(segment)) throw DavError.badRequest('control character in path');
  if (Buffer.byteLength(segment) > MAX_SEGMENT_BYTES)
    throw DavError.badRequest('path segment too long');
  return segment;
}

/**
 * The decoded path of a raw request target or URL path (query dropped). Throws DavError 400
 * for anything unsafe.
 */
export function decodePath(rawTarget: string): string {
  if (rawTarget.includes('#')) throw DavError.badRequest('fragment in request target');
  const q = rawTarget.indexOf('?');
  const raw = q >= 0 ? rawTarget.slice(0, q) : rawTarget;
  if (!raw.startsWith('/')) throw DavError.badRequest('request path must be absolute');
  if (raw.length > MAX_PATH_BYTES * 3) throw DavError.badRequest('request path too long');
  const parts = raw.split('/');
  const collection = raw.endsWith('/');
  const inner = parts.slice(1, collection ? -1 : undefined);
  if (inner.length > MAX_SEGMENTS) throw DavError.badRequest('request path too deep');
  const segments = inner.map((p) => {
    if (p === '') throw DavError.badRequest('empty path segment');
    return decodeSegment(p);
  });
  const path = `/${segments.join('/')}${collection && segments.length > 0 ? '/' : ''}`;
  if (Buffer.byteLength(path) > MAX_PATH_BYTES) throw DavError.badRequest('request path too long');
  return path;
}

/** Characters encodeURIComponent leaves as they are, the separator and '@'. */
const PLAIN_PATH = /^[A-Za-z0-9\-_.!~*'()/@]*$/;

/** Percent-encode a decoded path for an href or a Location header. */
export function encodePath(path: string): string {
  if (PLAIN_PATH.test(path)) return path;
  return path
    .split('/')
    .map((s) => encodeURIComponent(s).replaceAll('%40', '@'))
    .join('/');
}

/** The path without a trailing slash (except the root), for comparisons. */
export function pathKey(path: string): string {
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
}

/** The same resource, whatever the trailing slash. */
export function samePath(a: string, b: string): boolean {
  return pathKey(a) === pathKey(b);
}

/** True when `path` lies strictly below `ancestor`. */
export function isDescendant(path: string, ancestor: string): boolean {
  const a = pathKey(ancestor);
  const p = pathKey(path);
  return p !== a && p.startsWith(a === '/' ? '/' : `${a}/`);
}

/** The parent collection path (with trailing slash); the root is its own parent. */
export function parentPath(path: string): string {
  const key = pathKey(path);
  const i = key.lastIndexOf('/');
  return i <= 0 ? '/' : key.slice(0, i + 1);
}

/** The last segment (decoded), without slash. */
export function lastSegment(path: string): string {
  const key = pathKey(path);
  return key.slice(key.lastIndexOf('/') + 1);
}

/** Every ancestor collection of `path`, nearest last, the root first. */
export function ancestorsOf(path: string): string[] {
  const out: string[] = [];
  let p = pathKey(path);
  while (p !== '/') {
    p = parentPath(p);
    out.unshift(p);
    p = pathKey(p);
  }
  return out;
}
