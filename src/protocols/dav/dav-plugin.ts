/**
 * What a DAV plugin contributes, through typed registries (the Xandikos idea, DESIGN rule 7):
 * methods, live properties, reports, trees and DAV compliance classes. The files plugin, the
 * principals plugin and later CalDAV/CardDAV are all just values of this shape.
 */

import type { DavNode, DavTree } from './dav-node.ts';
import type { DavRequest } from './dav-request.ts';
import type { Privilege } from './privileges.ts';
import type { XmlElement } from './xml.ts';
import type { XmlWriter } from './xml-writer.ts';

/** The content of a live property element. */
export type PropContent =
  | { readonly text: string }
  /** DAV:href children (decoded paths, or absolute URIs such as mailto:). */
  | { readonly hrefs: readonly string[] }
  | { readonly write: (w: XmlWriter) => void };

/**
 * A live property (RFC 4918 §15, RFC 3744 §5, ...). The first registered property whose
 * `applies` accepts the node answers for it.
 */
export interface LiveProperty {
  /** Clark name. */
  readonly name: string;
  /** Returned by allprop (RFC 4918 §9.1: the properties defined by that RFC). */
  readonly inAllprop: boolean;
  /** PROPPATCH refuses it (cannot-modify-protected-property); otherwise it is stored dead. */
  readonly protected: boolean;
  /** Privilege needed beyond DAV:read on the resource (e.g. read-acl). */
  readonly privilege?: Privilege;
  applies(node: DavNode): boolean;
  /** The value, or undefined when the node has none (404 in the propstat). */
  get(dr: DavRequest, node: DavNode): Promise<PropContent | undefined>;
}

/** A live property whose value is a list of hrefs, so expand-property can follow it. */
export interface HrefProperty extends LiveProperty {
  hrefs(dr: DavRequest, node: DavNode): Promise<readonly string[] | undefined>;
}

export function isHrefProperty(p: LiveProperty): p is HrefProperty {
  return typeof (p as Partial<HrefProperty>).hrefs === 'function';
}

/** An HTTP method handler (one file per method under methods/). */
export interface DavMethod {
  readonly name: string;
  /** Whether the method is offered on this node (Allow header); undefined = unmapped URL. */
  allowed(node: DavNode | undefined): boolean;
  run(dr: DavRequest): Promise<void>;
}

/** A REPORT (RFC 3253 §3.6), keyed by the Clark name of its body's root element. */
export interface DavReport {
  readonly name: string;
  applies(node: DavNode): boolean;
  run(dr: DavRequest, node: DavNode, body: XmlElement): Promise<void>;
}

export interface DavPlugin {
  readonly name: string;
  readonly methods?: readonly DavMethod[];
  readonly properties?: readonly LiveProperty[];
  readonly reports?: readonly DavReport[];
  readonly trees?: readonly DavTree[];
  /** DAV header compliance classes (RFC 4918 §10.1), e.g. '1', 'access-control'. */
  readonly compliance?: readonly string[];
}

/** Helpers to declare properties tersely. */
export function liveProperty(
  name: string,
  get: (dr: DavRequest, node: DavNode) => Promise<PropContent | undefined>,
  options: {
    inAllprop?: boolean;
    protected?: boolean;
    privilege?: Privilege;
    applies?: (node: DavNode) => boolean;
  } = {},
): LiveProperty {
  return {
    name,
    inAllprop: options.inAllprop ?? false,
    protected: options.protected ?? true,
    ...(options.privilege ? { privilege: options.privilege } : {}),
    applies: options.applies ?? (() => true),
    get,
  };
}

export function hrefProperty(
  name: string,
  hrefs: (dr: DavRequest, node: DavNode) => Promise<readonly string[] | undefined>,
  options: { applies?: (node: DavNode) => boolean; privilege?: Privilege } = {},
): HrefProperty {
  return {
    ...liveProperty(
      name,
      async (dr, node) => {
        const list = await hrefs(dr, node);
        return list === undefined ? undefined : { hrefs: list };
      },
      options,
    ),
    hrefs,
  };
}
