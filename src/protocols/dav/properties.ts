/**
 * Property retrieval shared by PROPFIND, REPORTs and expand-property: which properties a
 * request asks for (RFC 4918 §14.20 propfind: allprop [+ include], propname, prop), and their
 * values on a node from the live property registry and the tree's dead properties.
 */

import { DavError } from './dav-error.ts';
import { isDeadPropertyTree, type DavNode } from './dav-node.ts';
import type { DavRequest } from './dav-request.ts';
import { addPropResult, type PropStats } from './multistatus.ts';
import { DAV_NS, childElement, clarkOf, elementsOf, type XmlElement } from './xml.ts';

export type PropRequest =
  | { readonly kind: 'allprop'; readonly include: readonly string[] }
  | { readonly kind: 'propname' }
  | { readonly kind: 'prop'; readonly names: readonly string[] };

/** The Clark names inside a DAV:prop element. */
export function propNames(prop: XmlElement): string[] {
  return elementsOf(prop).map(clarkOf);
}

/** Parse a PROPFIND body; no body means allprop (RFC 4918 §9.1). */
export function parsePropfind(body: XmlElement | undefined): PropRequest {
  if (!body) return { kind: 'allprop', include: [] };
  if (body.ns !== DAV_NS || body.name !== 'propfind') {
    throw DavError.badRequest('PROPFIND body must be DAV:propfind');
  }
  const parts = elementsOf(body).filter((e) => e.ns === DAV_NS);
  const prop = parts.find((e) => e.name === 'prop');
  const allprop = parts.find((e) => e.name === 'allprop');
  const propname = parts.find((e) => e.name === 'propname');
  if ([prop, allprop, propname].filter(Boolean).length !== 1) {
    throw DavError.badRequest('PROPFIND needs exactly one of prop, allprop, propname');
  }
  if (propname) return { kind: 'propname' };
  if (allprop) {
    const include = childElement(body, DAV_NS, 'include');
    return { kind: 'allprop', include: include ? propNames(include) : [] };
  }
  return { kind: 'prop', names: propNames(prop as XmlElement) };
}

/** Dead properties of a node (empty when its tree keeps none). */
export async function deadPropertiesOf(
  dr: DavRequest,
  node: DavNode,
): Promise<ReadonlyMap<string, string>> {
  return isDeadPropertyTree(node.tree) ? node.tree.deadProperties(dr.ctx, node) : new Map();
}

/** Property values of a node for a request, grouped by status. */
export async function resolveProperties(
  dr: DavRequest,
  node: DavNode,
  request: PropRequest,
): Promise<PropStats> {
  const stats: PropStats = new Map();
  const dead = await deadPropertiesOf(dr, node);
  if (request.kind === 'propname') {
    for (const p of dr.registry.propertiesOf(node)) addPropResult(stats, 200, { name: p.name });
    for (const name of dead.keys()) {
      if (!dr.registry.property(name, node)) addPropResult(stats, 200, { name });
    }
    return stats;
  }
  if (request.kind === 'allprop') {
    const held = await dr.privileges(node);
    for (const p of dr.registry.propertiesOf(node)) {
      if (!p.inAllprop || (p.privilege && !held.has(p.privilege))) continue;
      const content = await p.get(dr, node);
      if (content !== undefined) addPropResult(stats, 200, { name: p.name, content });
    }
    for (const [name, raw] of dead) {
      if (!dr.registry.property(name, node)) addPropResult(stats, 200, { name, raw });
    }
    for (const name of request.include) {
      const p = dr.registry.property(name, node);
      if (p && !p.inAllprop) await resolveOne(dr, node, name, dead, stats);
    }
    if (stats.size === 0) stats.set(200, []);
    return stats;
  }
  for (const name of request.names) await resolveOne(dr, node, name, dead, stats);
  return stats;
}

async function resolveOne(
  dr: DavRequest,
  node: DavNode,
  name: string,
  dead: ReadonlyMap<string, string>,
  stats: PropStats,
): Promise<void> {
  const live = dr.registry.property(name, node);
  if (live) {
    if (live.privilege && !(await dr.privileges(node)).has(live.privilege)) {
      addPropResult(stats, 403, { name });
      return;
    }
    const content = await live.get(dr, node);
    if (content !== undefined) {
      addPropResult(stats, 200, { name, content });
      return;
    }
  }
  const raw = dead.get(name);
  if (raw !== undefined) addPropResult(stats, 200, { name, raw });
  else addPropResult(stats, 404, { name });
}
