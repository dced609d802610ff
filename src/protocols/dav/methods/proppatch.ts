/**
 * PROPPATCH (RFC 4918 §9.2): set and remove properties in document order, all or nothing.
 * Protected live properties fail with 403 DAV:cannot-modify-protected-property, oversized
 * values with 507, and every other property of a failed request with 424.
 */

import { DavError, type DavCondition } from '../dav-error.ts';
import { isDeadPropertyTree } from '../dav-node.ts';
import type { DavMethod } from '../dav-plugin.ts';
import { assertCanModify } from '../dav-locks.ts';
import { addPropResult, MultistatusWriter, type PropStats } from '../multistatus.ts';
import { deadPropertiesOf } from '../properties.ts';
import { DAV_NS, clarkOf, elementsOf, type XmlElement } from '../xml.ts';
import { serializeElement } from '../xml-writer.ts';

type Instruction =
  | { readonly op: 'set'; readonly name: string; readonly element: XmlElement }
  | { readonly op: 'remove'; readonly name: string };

/** The instructions of a DAV:propertyupdate body, in document order. */
export function parsePropertyUpdate(body: XmlElement | undefined): Instruction[] {
  if (!body || body.ns !== DAV_NS || body.name !== 'propertyupdate') {
    throw DavError.badRequest('PROPPATCH body must be DAV:propertyupdate');
  }
  const out: Instruction[] = [];
  for (const part of elementsOf(body)) {
    if (part.ns !== DAV_NS || (part.name !== 'set' && part.name !== 'remove')) continue;
    for (const prop of elementsOf(part)) {
      if (prop.ns !== DAV_NS || prop.name !== 'prop') continue;
      for (const el of elementsOf(prop)) {
        out.push(
          part.name === 'set'
            ? { op: 'set', name: clarkOf(el), element: el }
            : { op: 'remove', name: clarkOf(el) },
        );
      }
    }
  }
  if (out.length === 0) throw DavError.badRequest('PROPPATCH names no property');
  return out;
}

const PROTECTED: DavCondition = { ns: DAV_NS, name: 'cannot-modify-protected-property' };

export const proppatchMethod: DavMethod = {
  name: 'PROPPATCH',
  allowed: (node) => node !== undefined,
  async run(dr) {
    const node = await dr.requireNode();
    const instructions = parsePropertyUpdate(await dr.readXml());
    await dr.require(node, 'write-properties');
    await assertCanModify(dr, [{ path: node.path, scope: 'self' }]);

    // 1. Validate every instruction; any failure fails them all
    const failed = new Map<string, number>();
    const set = new Map<string, string>();
    const remove = new Set<string>();
    const storable = isDeadPropertyTree(node.tree);
    for (const ins of instructions) {
      const live = dr.registry.property(ins.name, node);
      if ((live && live.protected) || !storable) {
        failed.set(ins.name, 403);
        continue;
      }
      if (ins.op === 'set') {
        const value = serializeElement(ins.element);
        if (Buffer.byteLength(value) > dr.settings.maxPropertyBytes) {
          failed.set(ins.name, 507);
          continue;
        }
        set.set(ins.name, value);
        remove.delete(ins.name);
      } else {
        set.delete(ins.name);
        remove.add(ins.name);
      }
    }
    if (failed.size === 0 && set.size > 0) {
      const current = await deadPropertiesOf(dr, node);
      let total = 0;
      for (const [name, value] of current)
        if (!set.has(name) && !remove.has(name)) total += value.length;
      for (const value of set.values()) total += value.length;
      if (total > dr.settings.maxPropertiesPerResource)
        for (const name of set.keys()) failed.set(name, 507);
    }

    // 2. Apply, or report why not
    const stats: PropStats = new Map();
    const names = [...new Set(instructions.map((i) => i.name))];
    if (failed.size > 0) {
      for (const name of names) addPropResult(stats, failed.get(name) ?? 424, { name });
    } else {
      if (isDeadPropertyTree(node.tree))
        await node.tree.patchProperties(dr.ctx, node, { set, remove });
      for (const name of names) addPropResult(stats, 200, { name });
    }
    const out = new MultistatusWriter();
    out.response(node.path, stats, new Map([[403, PROTECTED]]));
    dr.sendXml(207, out.finish());
  },
};
