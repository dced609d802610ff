/**
 * Multi-Status bodies (RFC 4918 §13): one DAV:response per resource, properties grouped in
 * DAV:propstat by status, or a bare status with an optional DAV:error condition.
 */

import type { PropContent } from './dav-plugin.ts';
import type { DavCondition } from './dav-error.ts';
import { encodePath } from './dav-path.ts';
import { STATUS_CODES } from 'node:http';
import { DAV_NS, splitClark } from './xml.ts';
import { XmlWriter } from './xml-writer.ts';

/** `HTTP/1.1 207 Multi-Status` for a status code. */
export function statusLine(status: number): string {
  return `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}`;
}

/** One property in a propstat: its name, and its value when there is one. */
export interface PropResult {
  /** Clark name. */
  readonly name: string;
  /** A live property's content. */
  readonly content?: PropContent;
  /** A dead property: the whole stored element. */
  readonly raw?: string;
}

/** Status -> properties with that status. */
export type PropStats = Map<number, PropResult[]>;

export function addPropResult(stats: PropStats, status: number, result: PropResult): void {
  const list = stats.get(status);
  if (list) list.push(result);
  else stats.set(status, [result]);
}

/** An href for a decoded path, or an absolute URI as is. */
export function hrefText(target: string): string {
  return target.startsWith('/') ? encodePath(target) : target;
}

export function writeContent(w: XmlWriter, content: PropContent): void {
  if ('text' in content) w.text(content.text);
  else if ('hrefs' in content) for (const h of content.hrefs) w.leaf(DAV_NS, 'href', hrefText(h));
  else content.write(w);
}

export function writePropResult(w: XmlWriter, r: PropResult): void {
  if (r.raw !== undefined) {
    w.raw(r.raw);
    return;
  }
  const { ns, name } = splitClark(r.name);
  if (r.content === undefined) {
    w.leaf(ns, name);
    return;
  }
  w.open(ns, name);
  writeContent(w, r.content);
  w.close();
}

export function writeCondition(w: XmlWriter, c: DavCondition): void {
  w.open(DAV_NS, 'error');
  if (c.hrefs && c.hrefs.length > 0) {
    w.open(c.ns, c.name);
    for (const h of c.hrefs) w.leaf(DAV_NS, 'href', hrefText(h));
    w.close();
  } else {
    w.leaf(c.ns, c.name);
  }
  w.close();
}

/**
 * Write one DAV:response with propstats into an open multistatus (or a nested context);
 * `conditions` adds a DAV:error to the propstat of that status (e.g. 403 protected property).
 */
export function writeResponse(
  w: XmlWriter,
  path: string,
  stats: PropStats,
  conditions?: ReadonlyMap<number, DavCondition>,
): void {
  w.open(DAV_NS, 'response').leaf(DAV_NS, 'href', hrefText(path));
  const groups = stats.size > 1 ? [...stats].sort((a, b) => a[0] - b[0]) : stats;
  for (const [status, results] of groups) {
    w.open(DAV_NS, 'propstat').open(DAV_NS, 'prop');
    for (const r of results) writePropResult(w, r);
    w.close().leaf(DAV_NS, 'status', statusLine(status));
    const c = conditions?.get(status);
    if (c) writeCondition(w, c);
    w.close();
  }
  w.close();
}

export class MultistatusWriter {
  readonly #w = new XmlWriter();
  #count = 0;

  constructor() {
    this.#w.open(DAV_NS, 'multistatus');
  }

  get writer(): XmlWriter {
    return this.#w;
  }

  get count(): number {
    return this.#count;
  }

  response(path: string, stats: PropStats, conditions?: ReadonlyMap<number, DavCondition>): this {
    writeResponse(this.#w, path, stats, conditions);
    this.#count++;
    return this;
  }

  status(path: string, status: number, condition?: DavCondition): this {
    this.#w.open(DAV_NS, 'response').leaf(DAV_NS, 'href', hrefText(path));
    this.#w.leaf(DAV_NS, 'status', statusLine(status));
    if (condition) writeCondition(this.#w, condition);
    this.#w.close();
    this.#count++;
    return this;
  }

  /** Close the document, with a DAV:sync-token (RFC 6578 §6.2) when given. */
  finish(syncToken?: string): string {
    if (syncToken !== undefined) this.#w.leaf(DAV_NS, 'sync-token', syncToken);
    return this.#w.close().toString();
  }
}
