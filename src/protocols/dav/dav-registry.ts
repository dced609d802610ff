/**
 * The registries plugins fill: methods by name, live properties and reports by Clark name,
 * trees by path prefix. Filled once when the service is built; read-only afterwards.
 */

import type { DavNode, DavTree } from './dav-node.ts';
import type { DavMethod, DavPlugin, DavReport, LiveProperty } from './dav-plugin.ts';

export class DavRegistry {
  readonly #methods = new Map<string, DavMethod>();
  readonly #properties = new Map<string, LiveProperty[]>();
  readonly #reports = new Map<string, DavReport>();
  readonly #trees: DavTree[] = [];
  readonly #compliance: string[] = [];

  constructor(plugins: readonly DavPlugin[]) {
    for (const p of plugins) this.#register(p);
    this.#trees.sort((a, b) => b.prefix.length - a.prefix.length);
  }

  #register(plugin: DavPlugin): void {
    for (const m of plugin.methods ?? []) {
      if (this.#methods.has(m.name)) throw new Error(`DAV method ${m.name} registered twice`);
      this.#methods.set(m.name, m);
    }
    for (const p of plugin.properties ?? []) {
      const list = this.#properties.get(p.name) ?? [];
      list.push(p);
      this.#properties.set(p.name, list);
    }
    for (const r of plugin.reports ?? []) {
      if (this.#reports.has(r.name)) throw new Error(`DAV report ${r.name} registered twice`);
      this.#reports.set(r.name, r);
    }
    for (const t of plugin.trees ?? []) {
      if (this.#trees.some((x) => x.prefix === t.prefix)) {
        throw new Error(`DAV tree prefix ${t.prefix} registered twice`);
      }
      this.#trees.push(t);
    }
    for (const c of plugin.compliance ?? [])
      if (!this.#compliance.includes(c)) this.#compliance.push(c);
  }

  method(name: string): DavMethod | undefined {
    return this.#methods.get(name);
  }

  methods(): DavMethod[] {
    return [...this.#methods.values()];
  }

  /** The live property answering for `name` on `node`. */
  property(name: string, node: DavNode): LiveProperty | undefined {
    return this.#properties.get(name)?.find((p) => p.applies(node));
  }

  /** Every live property that applies to `node`. */
  propertiesOf(node: DavNode): LiveProperty[] {
    const out: LiveProperty[] = [];
    for (const list of this.#properties.values()) {
      const p = list.find((x) => x.applies(node));
      if (p) out.push(p);
    }
    return out;
  }

  report(name: string): DavReport | undefined {
    return this.#reports.get(name);
  }

  reportsOf(node: DavNode): DavReport[] {
    return [...this.#reports.values()].filter((r) => r.applies(node));
  }

  /** The tree serving `path` (longest prefix; `/dav/files` is served by the `/dav/files/` tree). */
  tree(path: string): DavTree | undefined {
    for (const t of this.#trees) {
      if (path.startsWith(t.prefix) || `${path}/` === t.prefix) return t;
    }
    return undefined;
  }

  compliance(): string[] {
    return [...this.#compliance];
  }
}
