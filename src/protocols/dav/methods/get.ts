/**
 * GET (RFC 9110 §9.3.1; HEAD in head.ts shares it) on DAV resources: content streamed from the tree with
 * strong ETag, Last-Modified, conditional requests (304/412) and single byte ranges (206/416).
 * A collection answers with a small HTML index of its members.
 */

import { pipeline } from 'node:stream/promises';
import { DavError } from '../dav-error.ts';
import { isContentTree, type DavNode } from '../dav-node.ts';
import { lastSegment } from '../dav-path.ts';
import type { DavMethod } from '../dav-plugin.ts';
import type { DavRequest } from '../dav-request.ts';
import { evaluateConditionals } from '../preconditions.ts';
import { escapeText } from '../xml-writer.ts';
import { resolveRange } from './byte-range.ts';
import { allowedMethods } from './allowed-methods.ts';

function validators(node: DavNode): Record<string, string> {
  const h: Record<string, string> = {};
  if (node.etag !== undefined) h.etag = node.etag;
  if (node.lastModified !== undefined) h['last-modified'] = node.lastModified.toUTCString();
  return h;
}

/** If-Range (RFC 9110 §13.1.5): serve the range only while the representation is unchanged. */
function ifRangeHolds(dr: DavRequest, node: DavNode): boolean {
  const v = dr.header('if-range')?.trim();
  if (v === undefined) return true;
  if (v.startsWith('"')) return node.etag === v;
  if (v.startsWith('W/')) return false;
  const ms = Date.parse(v);
  return (
    !Number.isNaN(ms) &&
    node.lastModified !== undefined &&
    Math.floor(node.lastModified.getTime() / 1000) * 1000 === ms
  );
}

async function sendIndex(dr: DavRequest, node: DavNode, head: boolean): Promise<void> {
  const items = (await node.tree.children(dr.ctx, node))
    .map((c) => {
      const name = lastSegment(c.path) + (c.collection ? '/' : '');
      return `<li><a href="${escapeText(dr.href(c.path))}">${escapeText(name)}</a></li>`;
    })
    .join('\n');
  const html = `<!doctype html>\n<html><head><meta charset="utf-8"><title>${escapeText(node.path)}</title></head><body><h1>${escapeText(node.path)}</h1><ul>\n${items}\n</ul></body></html>\n`;
  const body = Buffer.from(html, 'utf8');
  dr.res.writeHead(200, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': body.length,
    ...validators(node),
  });
  dr.res.end(head ? undefined : body);
}

/** GET, or HEAD (the same headers, no body). */
export function contentMethod(name: 'GET' | 'HEAD'): DavMethod {
  const head = name === 'HEAD';
  return {
    name,
    allowed: (node) => node !== undefined,
    async run(dr) {
      const node = await dr.requireNode();
      await dr.require(node, 'read');
      if (node.collection) {
        await sendIndex(dr, node, head);
        return;
      }
      const tree = node.tree;
      if (!isContentTree(tree) || node.contentLength === undefined) {
        throw DavError.methodNotAllowed('this resource has no content', allowedMethods(dr, node));
      }
      if (evaluateConditionals(dr, node) === 'not-modified') {
        dr.res.writeHead(304, validators(node));
        dr.res.end();
        return;
      }
      const size = node.contentLength;
      const headers: Record<string, string | number> = {
        'content-type': node.contentType ?? 'application/octet-stream',
        'accept-ranges': 'bytes',
        ...validators(node),
      };
      const range = ifRangeHolds(dr, node)
        ? resolveRange(dr.header('range'), size)
        : { kind: 'full' as const };
      if (range.kind === 'unsatisfiable') {
        dr.send(416, { 'content-range': `bytes */${size}` });
        return;
      }
      let status = 200;
      let stream;
      if (range.kind === 'partial') {
        status = 206;
        headers['content-range'] = `bytes ${range.start}-${range.end}/${size}`;
        headers['content-length'] = range.end - range.start + 1;
        if (!head)
          stream = await tree.readContent(dr.ctx, node, { start: range.start, end: range.end + 1 });
      } else {
        headers['content-length'] = size;
        if (!head) stream = await tree.readContent(dr.ctx, node);
      }
      dr.res.writeHead(status, headers);
      if (!stream) {
        dr.res.end();
        return;
      }
      await pipeline(stream, dr.res);
    },
  };
}

export const getMethod = contentMethod('GET');
