/**
 * PUT (RFC 9110 §9.3.4, RFC 4918 §9.7): create or replace a non-collection resource. The body
 * is streamed to the tree (never buffered whole); If-Match / If-None-Match are checked before
 * the first byte is read and again inside the commit; the Content-Type is kept.
 */

import type { Readable } from 'node:stream';
import { DavError } from '../dav-error.ts';
import { isContentTree } from '../dav-node.ts';
import { assertCanModify, writeTargets } from '../dav-locks.ts';
import type { DavMethod } from '../dav-plugin.ts';
import { evaluateConditionals } from '../preconditions.ts';
import { allowedMethods } from './allowed-methods.ts';

const MAX_CONTENT_TYPE = 255;

/**
 * The request body as an async iterable that does not own the stream: when the consumer
 * stops early (quota, size limit) the request is left open, so the error response can still
 * be written (the connection is then closed by the error handler).
 */
export function detachedBody(req: Readable): AsyncIterable<Uint8Array> {
  const it = req[Symbol.asyncIterator]() as AsyncIterator<Uint8Array>;
  return { [Symbol.asyncIterator]: () => ({ next: () => it.next() }) };
}

export const putMethod: DavMethod = {
  name: 'PUT',
  allowed: (node) => node === undefined || !node.collection,
  async run(dr) {
    if (dr.header('content-range') !== undefined) {
      throw DavError.badRequest('Content-Range is not allowed on PUT');
    }
    const tree = dr.tree();
    const existing = await dr.node();
    if (existing?.collection || (!existing && dr.path.endsWith('/'))) {
      if (existing)
        throw DavError.methodNotAllowed('PUT on a collection', allowedMethods(dr, existing));
      throw DavError.conflict('PUT needs a non-collection path');
    }
    if (!isContentTree(tree))
      throw DavError.methodNotAllowed('no content here', allowedMethods(dr, existing));
    if (existing) await dr.require(existing, 'write-content');
    else await dr.require(await dr.requireParent(dr.path), 'bind');
    evaluateConditionals(dr, existing);
    await assertCanModify(dr, writeTargets(dr.path, existing !== undefined));

    const contentType = (dr.header('content-type') ?? 'application/octet-stream').trim();
    if (contentType.length > MAX_CONTENT_TYPE || /[\r\n]/.test(contentType)) {
      throw DavError.badRequest('invalid Content-Type');
    }
    const length = dr.header('content-length');
    const { node, created } = await tree.writeContent(
      dr.ctx,
      existing?.path ?? dr.path,
      detachedBody(dr.req),
      {
        contentType,
        ...(length !== undefined && /^\d+$/.test(length) ? { expectedSize: Number(length) } : {}),
        check: (current) => {
          evaluateConditionals(dr, current);
        },
      },
    );
    dr.send(created ? 201 : 204, node.etag === undefined ? {} : { etag: node.etag });
  },
};
