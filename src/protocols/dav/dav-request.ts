/**
 * One DAV request in flight: the authenticated caller, the decoded target path, header
 * parsers (Depth, Overwrite, Destination, Timeout, If), bounded XML body reading, per-request
 * memos of lookups and privileges, and the response helpers every method handler uses.
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../../core/log.ts';
import type { LockRecord, LockStore } from '../../storage/files/lock-store.ts';
import { readBody } from '../http/http-server.ts';
import { DavError } from './dav-error.ts';
import type { DavContext, DavNode, DavTree } from './dav-node.ts';
import { decodePath, encodePath, parentPath } from './dav-path.ts';
import type { DavRegistry } from './dav-registry.ts';
import { parseIfHeader, type IfList } from './if-header.ts';
import type { Privilege, PrivilegeSet } from './privileges.ts';
import { DAV_NS, parseXml, type XmlElement } from './xml.ts';
import { XmlWriter } from './xml-writer.ts';
import { writeCondition } from './multistatus.ts';

export interface DavSettings {
  readonly registry: DavRegistry;
  readonly locks: LockStore;
  readonly log: Logger;
  /** Serve PROPFIND with Depth: infinity (RFC 4918 §9.1 lets servers refuse it). */
  readonly allowDepthInfinity: boolean;
  /** Largest XML request body, bytes. */
  readonly maxXmlBody: number;
  /** Largest single dead property value, bytes. */
  readonly maxPropertyBytes: number;
  /** Largest sum of dead property values on one resource, bytes. */
  readonly maxPropertiesPerResource: number;
}

export type Depth = 0 | 1 | 'infinity';

export class DavRequest {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly settings: DavSettings;
  readonly ctx: DavContext;
  readonly method: string;
  /** Decoded request path. */
  readonly path: string;
  readonly #lookups = new Map<string, Promise<DavNode | undefined>>();
  #privileges = new WeakMap<DavNode, Promise<PrivilegeSet>>();
  readonly #lockSpaces = new Map<string, Promise<LockRecord[]>>();
  #ifLists: IfList[] | undefined;

  constructor(
    req: IncomingMessage,
    res: ServerResponse,
    settings: DavSettings,
    ctx: DavContext,
    path: string,
  ) {
    this.req = req;
    this.res = res;
    this.settings = settings;
    this.ctx = ctx;
    this.method = (req.method ?? 'GET').toUpperCase();
    this.path = path;
  }

  get registry(): DavRegistry {
    return this.settings.registry;
  }

  // ---- resources ----

  /** The tree serving `path`; 404 when none does. */
  tree(path = this.path): DavTree {
    const tree = this.registry.tree(path);
    if (!tree) throw DavError.notFound();
    return tree;
  }

  /** The node at `path` (memoized for the request). */
  lookup(path: string): Promise<DavNode | undefined> {
    let found = this.#lookups.get(path);
    if (!found) {
      const tree = this.registry.tree(path);
      found = tree ? tree.lookup(this.ctx, path) : Promise.resolve(undefined);
      this.#lookups.set(path, found);
    }
    return found;
  }

  /** The request target, or undefined when unmapped. */
  node(): Promise<DavNode | undefined> {
    return this.lookup(this.path);
  }

  /** The request target; 404 when unmapped. */
  async requireNode(): Promise<DavNode> {
    const node = await this.node();
    if (!node) throw DavError.notFound();
    return node;
  }

  /** The parent collection of a path that is about to be created; 409 when missing. */
  async requireParent(path: string): Promise<DavNode> {
    const parent = await this.lookup(parentPath(path));
    if (!parent?.collection) throw DavError.conflict('the parent collection does not exist');
    return parent;
  }

  /** Forget memoized state after a change. */
  invalidate(): void {
    this.#lookups.clear();
    this.#privileges = new WeakMap();
    this.#lockSpaces.clear();
  }

  privileges(node: DavNode): Promise<PrivilegeSet> {
    let p = this.#privileges.get(node);
    if (!p) {
      p = node.tree.privileges(this.ctx, node);
      this.#privileges.set(node, p);
    }
    return p;
  }

  /** 403 with DAV:need-privileges (RFC 3744 §7.1.1) unless the caller holds every privilege. */
  async require(node: DavNode, ...wanted: Privilege[]): Promise<void> {
    const held = await this.privileges(node);
    const missing = wanted.filter((p) => !held.has(p));
    if (missing.length === 0) return;
    // Not even read: do not reveal anything about the resource.
    throw new DavError(403, `${missing.join(', ')} privilege required`, {
      condition: { ns: DAV_NS, name: 'need-privileges', hrefs: [node.path] },
    });
  }

  /** Locks of a lock space, memoized for the request. */
  locksOf(space: string): Promise<LockRecord[]> {
    let l = this.#lockSpaces.get(space);
    if (!l) {
      l = this.settings.locks.list(space);
      this.#lockSpaces.set(space, l);
    }
    return l;
  }

  // ---- headers ----

  header(name: string): string | undefined {
    const v = this.req.headers[name.toLowerCase()];
    return Array.isArray(v) ? v.join(', ') : v;
  }

  /** The Depth header (RFC 4918 §10.2), checked against what the method accepts. */
  depth(fallback: Depth, allowed: readonly Depth[] = [0, 1, 'infinity']): Depth {
    const raw = this.header('depth')?.trim().toLowerCase();
    let depth: Depth;
    if (raw === undefined || raw === '') depth = fallback;
    else if (raw === '0') depth = 0;
    else if (raw === '1') depth = 1;
    else if (raw === 'infinity') depth = 'infinity';
    else throw DavError.badRequest('invalid Depth header');
    if (!allowed.includes(depth)) throw DavError.badRequest(`Depth ${depth} is not allowed here`);
    return depth;
  }

  /** The Overwrite header (RFC 4918 §10.6); true when absent. */
  overwrite(): boolean {
    const raw = this.header('overwrite')?.trim().toUpperCase();
    if (raw === undefined || raw === 'T') return true;
    if (raw === 'F') return false;
    throw DavError.badRequest('invalid Overwrite header');
  }

  /**
   * The decoded Destination path (RFC 4918 §10.3). Another authority is 502 (no
   * cross-server copies); unsafe paths are 400.
   */
  destination(): string {
    const raw = this.header('destination')?.trim();
    if (!raw) throw DavError.badRequest('Destination header required');
    return this.resolveUri(raw, 502);
  }

  /** A URI or absolute path naming a resource on this server, as a decoded path. */
  resolveUri(raw: string, foreignStatus = 400): string {
    if (raw.startsWith('/')) return decodePath(raw);
    const m = /^([a-z][a-z0-9+.-]*):\/\/([^/?#]*)(.*)$/i.exec(raw);
    if (!m) throw DavError.badRequest('invalid URI');
    const host = (this.header('host') ?? '').toLowerCase();
    const authority = (m[2] ?? '').replace(/^[^@]*@/, '').toLowerCase();
    if (authority !== host) throw new DavError(foreignStatus, 'the URI names another server');
    return decodePath(m[3] === '' ? '/' : (m[3] as string));
  }

  /** Requested lock timeout in seconds (RFC 4918 §10.7), bounded; undefined when absent. */
  timeout(max: number): number | undefined {
    const raw = this.header('timeout');
    if (raw === undefined) return undefined;
    for (const part of raw.split(',')) {
      const t = part.trim().toLowerCase();
      if (t === 'infinite') return max;
      const m = /^second-(\d{1,10})$/.exec(t);
      if (m) return Math.min(max, Math.max(1, Number(m[1])));
    }
    return undefined;
  }

  /** The parsed If header (empty when absent). */
  ifLists(): IfList[] {
    if (this.#ifLists === undefined) {
      const raw = this.header('if');
      this.#ifLists = raw === undefined ? [] : parseIfHeader(raw);
    }
    return this.#ifLists;
  }

  // ---- body ----

  /** True when the request carries a body. */
  hasBody(): boolean {
    const length = this.header('content-length');
    if (length !== undefined) return Number(length) > 0;
    return this.header('transfer-encoding') !== undefined;
  }

  /** The XML body, or undefined when there is none. 413 over the limit, 400 when malformed. */
  async readXml(): Promise<XmlElement | undefined> {
    if (!this.hasBody()) return undefined;
    const body = await readBody(this.req, this.settings.maxXmlBody).catch((err: unknown) => {
      throw new DavError(413, (err as Error).message);
    });
    if (body.length === 0 || /^\s*$/.test(body.toString('latin1'))) return undefined;
    return parseXml(body);
  }

  // ---- responses ----

  href(path: string): string {
    return encodePath(path);
  }

  send(status: number, headers: Record<string, string | number> = {}, body?: string): void {
    const payload = body === undefined ? undefined : Buffer.from(body, 'utf8');
    this.res.writeHead(status, { 'content-length': payload?.length ?? 0, ...headers });
    this.res.end(payload);
  }

  sendXml(status: number, xml: string, headers: Record<string, string | number> = {}): void {
    this.send(status, { 'content-type': 'application/xml; charset=utf-8', ...headers }, xml);
  }
}

/** The DAV:error body of a DavError (RFC 4918 §16). */
export function errorBody(err: DavError): string | undefined {
  const c = err.condition;
  if (!c) return undefined;
  const w = new XmlWriter();
  writeCondition(w, c);
  return w.toString();
}
