/**
 * The expand-property report (RFC 3253 §3.8): properties of the request URI where each
 * href-valued property named with nested DAV:property elements is replaced by DAV:response
 * elements for the resources it points at. Clients use it to read principals in one round
 * trip (e.g. calendar-proxy members). Nesting is bounded.
 */

import { DavError } from '../dav-error.ts';
import type { DavNode } from '../dav-node.ts';
import { isHrefProperty, type DavReport } from '../dav-plugin.ts';
import type { DavRequest } from '../dav-request.ts';
import {
  addPropResult,
  hrefText,
  MultistatusWriter,
  statusLine,
  writeResponse,
  type PropStats,
} from '../multistatus.ts';
import { resolveProperties } from '../properties.ts';
import { DAV_NS, attribute, clark, elementsOf, type XmlElement } from '../xml.ts';

interface ExpandSpec {
  readonly name: string;
  readonly children: readonly ExpandSpec[];
}

const MAX_LEVELS = 4;
const MAX_TARGETS = 500;

function parseSpecs(el: XmlElement, level: number): ExpandSpec[] {
  if (level > MAX_LEVELS) throw DavError.badRequest('expand-property nests too deep');
  return elementsOf(el)
    .filter((e) => e.ns === DAV_NS && e.name === 'property')
    .map((e) => {
      const name = attribute(e, 'name');
      if (!name) throw DavError.badRequest('DAV:property needs a name');
      return {
        name: clark(attribute(e, 'namespace') ?? DAV_NS, name),
        children: parseSpecs(e, level + 1),
      };
    });
}

async function expand(
  dr: DavRequest,
  node: DavNode,
  specs: readonly ExpandSpec[],
  budget: { left: number },
): Promise<PropStats> {
  const stats: PropStats = new Map();
  for (const spec of specs) {
    const live = dr.registry.property(spec.name, node);
    if (spec.children.length === 0 || !live || !isHrefProperty(live)) {
      for (const [status, results] of await resolveProperties(dr, node, {
        kind: 'prop',
        names: [spec.name],
      })) {
        for (const r of results) addPropResult(stats, status, r);
      }
      continue;
    }
    const hrefs = await live.hrefs(dr, node);
    if (hrefs === undefined) {
      addPropResult(stats, 404, { name: spec.name });
      continue;
    }
    // Resolve every target before writing: writers are synchronous
    const targets: { href: string; stats: PropStats | undefined }[] = [];
    for (const href of hrefs) {
      if (--budget.left < 0) throw new DavError(507, 'expand-property result too large');
      const target = href.startsWith('/') ? await dr.lookup(href) : undefined;
      const readable = target && (await dr.privileges(target)).has('read');
      targets.push({
        href,
        stats: readable ? await expand(dr, target, spec.children, budget) : undefined,
      });
    }
    addPropResult(stats, 200, {
      name: spec.name,
      content: {
        write: (w) => {
          for (const t of targets) {
            if (t.stats) writeResponse(w, t.href, t.stats);
            else {
              w.open(DAV_NS, 'response').leaf(DAV_NS, 'href', hrefText(t.href));
              w.leaf(DAV_NS, 'status', statusLine(404)).close();
            }
          }
        },
      },
    });
  }
  return stats;
}

export const expandPropertyReport: DavReport = {
  name: clark(DAV_NS, 'expand-property'),
  applies: () => true,
  async run(dr, node, body) {
    dr.depth(0, [0]);
    const specs = parseSpecs(body, 1);
    const out = new MultistatusWriter();
    out.response(node.path, await expand(dr, node, specs, { left: MAX_TARGETS }));
    dr.sendXml(207, out.finish());
  },
};
