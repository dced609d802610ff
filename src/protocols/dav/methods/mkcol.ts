/**
 * MKCOL (RFC 4918 §9.3) and extended MKCOL (RFC 5689): create a collection, optionally with a
 * resource type and properties given in a DAV:mkcol body. Any other body is 415.
 */

import { DavError, type DavCondition } from '../dav-error.ts';
import { isMutableTree, type DavNode } from '../dav-node.ts';
import { assertCanModify, writeTargets } from '../dav-locks.ts';
import type { DavMethod } from '../dav-plugin.ts';
import type { DavRequest } from '../dav-request.ts';
import { addPropResult, writeResponse, type PropStats } from '../multistatus.ts';
import { DAV_NS, clarkOf, elementsOf, type XmlElement } from '../xml.ts';
import { serializeElement, XmlWriter } from '../xml-writer.ts';
import { allowedMethods } from './allowed-methods.ts';

interface MkcolRequest {
  readonly resourceTypes: string[];
  readonly properties: Map<string, string>;
}

function isXmlType(contentType: string | undefined): boolean {
  const t = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  return t === 'application/xml' || t === 'text/xml';
}

/** Parse an extended MKCOL body (RFC 5689 §5.1). */
function parseMkcol(body: XmlElement): MkcolRequest {
  if (body.ns !== DAV_NS || body.name !== 'mkcol')
    throw new DavError(415, 'MKCOL body must be DAV:mkcol');
  const resourceTypes: string[] = [];
  const properties = new Map<string, string>();
  for (const set of elementsOf(body)) {
    if (set.ns !== DAV_NS || set.name !== 'set') continue;
    for (const prop of elementsOf(set)) {
      if (prop.ns !== DAV_NS || prop.name !== 'prop') continue;
      for (const el of elementsOf(prop)) {
        if (el.ns === DAV_NS && el.name === 'resourcetype') {
          for (const t of elementsOf(el))
            if (!(t.ns === DAV_NS && t.name === 'collection')) resourceTypes.push(clarkOf(t));
        } else {
          properties.set(clarkOf(el), serializeElement(el));
        }
      }
    }
  }
  return { resourceTypes, properties };
}

/** 403 with a DAV:mkcol-response naming the properties that cannot be set (RFC 5689 §5.2). */
function refuse(dr: DavRequest, failed: Map<string, number>, all: string[]): never {
  const stats: PropStats = new Map();
  for (const name of all) addPropResult(stats, failed.get(name) ?? 424, { name });
  const w = new XmlWriter();
  w.open(DAV_NS, 'mkcol-response');
  writeResponse(w, dr.path, stats);
  throw new DavError(403, 'the collection cannot be created with these properties', {
    body: w.close().toString(),
  });
}

export const mkcolMethod: DavMethod = {
  name: 'MKCOL',
  allowed: (node) => node === undefined,
  async run(dr) {
    const tree = dr.tree();
    if (await dr.node())
      throw DavError.methodNotAllowed(
        'something exists there',
        allowedMethods(dr, await dr.node()),
      );
    let request: MkcolRequest = { resourceTypes: [], properties: new Map() };
    if (dr.hasBody()) {
      if (!isXmlType(dr.header('content-type'))) throw new DavError(415, 'MKCOL body must be XML');
      const body = await dr.readXml();
      if (body) request = parseMkcol(body);
    }
    if (!isMutableTree(tree)) throw DavError.methodNotAllowed('cannot create here', []);
    const path = dr.path.endsWith('/') ? dr.path : `${dr.path}/`;
    await dr.require(await dr.requireParent(path), 'bind');
    await assertCanModify(dr, writeTargets(path, false));
    const probe: DavNode = {
      path,
      collection: true,
      resourceTypes: request.resourceTypes,
      etag: undefined,
      contentType: undefined,
      contentLength: undefined,
      lastModified: undefined,
      created: undefined,
      owner: undefined,
      tree,
    };
    const failed = new Map<string, number>();
    for (const name of request.properties.keys()) {
      if (dr.registry.property(name, probe)?.protected) failed.set(name, 403);
    }
    if (failed.size > 0) refuse(dr, failed, ['{DAV:}resourcetype', ...request.properties.keys()]);
    try {
      await tree.makeCollection(dr.ctx, path, request);
    } catch (err) {
      const condition = (err as DavError).condition as DavCondition | undefined;
      if (err instanceof DavError && condition?.name === 'valid-resourcetype') {
        refuse(dr, new Map([['{DAV:}resourcetype', 403]]), [
          '{DAV:}resourcetype',
          ...request.properties.keys(),
        ]);
      }
      throw err;
    }
    dr.send(201, { location: dr.href(path) });
  },
};
