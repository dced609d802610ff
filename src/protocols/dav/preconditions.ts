/**
 * HTTP conditional requests (RFC 9110 §13.2.2): If-Match, If-Unmodified-Since, If-None-Match,
 * If-Modified-Since, evaluated in the RFC's order against a node (or its absence).
 */

import { DavError } from './dav-error.ts';
import type { DavNode } from './dav-node.ts';
import type { DavRequest } from './dav-request.ts';

function tagList(value: string): string[] {
  return value
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '');
}

const opaque = (tag: string): string => (tag.startsWith('W/') ? tag.slice(2) : tag);

function parseDate(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

/** Seconds resolution, as HTTP dates have. */
const seconds = (d: Date): number => Math.floor(d.getTime() / 1000) * 1000;

export type ConditionalOutcome = 'proceed' | 'not-modified';

/**
 * Evaluate the conditional headers for `node` (undefined when the target does not exist).
 * Throws 412 when a precondition fails; 'not-modified' for a GET/HEAD that may answer 304.
 */
export function evaluateConditionals(
  dr: DavRequest,
  node: DavNode | undefined,
): ConditionalOutcome {
  const read = dr.method === 'GET' || dr.method === 'HEAD';
  const ifMatch = dr.header('if-match');
  if (ifMatch !== undefined) {
    const tags = tagList(ifMatch);
    const ok =
      node !== undefined &&
      (tags.includes('*') ||
        (node.etag !== undefined && tags.some((t) => !t.startsWith('W/') && t === node.etag)));
    if (!ok) throw DavError.preconditionFailed('If-Match does not match');
  } else {
    const since = parseDate(dr.header('if-unmodified-since'));
    if (since !== undefined && node?.lastModified && seconds(node.lastModified) > since) {
      throw DavError.preconditionFailed('modified since If-Unmodified-Since');
    }
  }
  const ifNoneMatch = dr.header('if-none-match');
  if (ifNoneMatch !== undefined) {
    const tags = tagList(ifNoneMatch);
    const matched =
      node !== undefined &&
      (tags.includes('*') ||
        (node.etag !== undefined && tags.some((t) => opaque(t) === opaque(node.etag as string))));
    if (matched) {
      if (read) return 'not-modified';
      throw DavError.preconditionFailed('If-None-Match matches');
    }
  } else if (read) {
    const since = parseDate(dr.header('if-modified-since'));
    if (since !== undefined && node?.lastModified && seconds(node.lastModified) <= since) {
      return 'not-modified';
    }
  }
  return 'proceed';
}
