/**
 * The XML model of DAV bodies: a small namespace-resolved element tree, parsed with saxes.
 * DTDs are refused outright (a DOCTYPE is a 400), so internal and external entities, and with
 * them billion-laughs and XXE bodies, never reach the parser's entity handling; only the five
 * predefined entities and character references are understood. Depth, element count and text
 * size are bounded.
 */

import { SaxesParser } from 'saxes';
import { DavError } from './dav-error.ts';

export const DAV_NS = 'DAV:';
export const CALDAV_NS = 'urn:ietf:params:xml:ns:caldav';
export const CARDDAV_NS = 'urn:ietf:params:xml:ns:carddav';
export const CALENDARSERVER_NS = 'http://calendarserver.org/ns/';
export const XML_NS = 'http://www.w3.org/XML/1998/namespace';

export interface XmlAttribute {
  readonly ns: string;
  readonly name: string;
  readonly value: string;
}

export interface XmlElement {
  readonly ns: string;
  readonly name: string;
  readonly attrs: readonly XmlAttribute[];
  readonly children: readonly XmlChild[];
}

export type XmlChild = XmlElement | string;

export interface XmlLimits {
  /** Maximum element nesting. */
  readonly maxDepth: number;
  /** Maximum number of elements in the document. */
  readonly maxElements: number;
}

export const DEFAULT_XML_LIMITS: XmlLimits = { maxDepth: 64, maxElements: 50_000 };

/** Clark notation of a name: `{DAV:}prop`. The registries key on it. */
export function clark(ns: string, name: string): string {
  return `{${ns}}${name}`;
}

/** Split Clark notation back into namespace and local name. */
export function splitClark(name: string): { ns: string; name: string } {
  if (!name.startsWith('{')) return { ns: '', name };
  const end = name.indexOf('}');
  return { ns: name.slice(1, end), name: name.slice(end + 1) };
}

export function clarkOf(el: XmlElement): string {
  return clark(el.ns, el.name);
}

export function isElement(child: XmlChild): child is XmlElement {
  return typeof child !== 'string';
}

/** Child elements (text and whitespace dropped). */
export function elementsOf(el: XmlElement): XmlElement[] {
  return el.children.filter(isElement);
}

/** First child element with this namespace and name. */
export function childElement(el: XmlElement, ns: string, name: string): XmlElement | undefined {
  for (const c of el.children) if (isElement(c) && c.ns === ns && c.name === name) return c;
  return undefined;
}

/** Concatenated text content of an element and its descendants. */
export function textOf(el: XmlElement): string {
  let out = '';
  for (const c of el.children) out += typeof c === 'string' ? c : textOf(c);
  return out;
}

export function attribute(el: XmlElement, name: string, ns = ''): string | undefined {
  return el.attrs.find((a) => a.ns === ns && a.name === name)?.value;
}

interface Building {
  readonly ns: string;
  readonly name: string;
  readonly attrs: XmlAttribute[];
  readonly children: XmlChild[];
}

/**
 * Parse a document into an element tree. Throws DavError 400 for anything that is not
 * well-formed, namespace-valid XML within the limits, and for any DOCTYPE.
 */
export function parseXml(
  input: string | Uint8Array,
  limits: XmlLimits = DEFAULT_XML_LIMITS,
): XmlElement {
  let text: string;
  if (typeof input === 'string') {
    text = input;
  } else {
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(input);
    } catch {
      throw DavError.badRequest('request body is not UTF-8');
    }
  }
  const parser = new SaxesParser({ xmlns: true, position: false });
  const stack: Building[] = [];
  let root: Building | undefined;
  let elements = 0;
  let failure: string | undefined;
  parser.on('error', (err) => {
    failure ??= err.message;
  });
  parser.on('doctype', () => {
    failure ??= 'DOCTYPE is not allowed';
  });
  parser.on('opentag', (tag) => {
    if (failure !== undefined) return;
    elements++;
    if (elements > limits.maxElements || stack.length >= limits.maxDepth) {
      failure = 'XML body exceeds the structure limits';
      return;
    }
    const attrs: XmlAttribute[] = [];
    for (const a of Object.values(tag.attributes)) {
      // Namespace declarations are syntax, not data: names carry their namespace already.
      if (a.prefix === 'xmlns' || a.name === 'xmlns') continue;
      attrs.push({ ns: a.uri, name: a.local, value: a.value });
    }
    const el: Building = { ns: tag.uri, name: tag.local, attrs, children: [] };
    const parent = stack.at(-1);
    if (parent) parent.children.push(el);
    else root = el;
    stack.push(el);
  });
  parser.on('closetag', () => {
    if (failure === undefined) stack.pop();
  });
  const onText = (t: string): void => {
    if (failure !== undefined) return;
    const parent = stack.at(-1);
    if (!parent) return;
    const last = parent.children.at(-1);
    if (typeof last === 'string') parent.children[parent.children.length - 1] = last + t;
    else parent.children.push(t);
  };
  parser.on('text', onText);
  parser.on('cdata', onText);
  try {
    parser.write(text);
    if (failure === undefined) parser.close();
  } catch (err) {
    failure ??= (err as Error).message;
  }
  if (failure !== undefined) throw DavError.badRequest(`malformed XML body: ${firstLine(failure)}`);
  if (!root) throw DavError.badRequest('XML body has no root element');
  return root;
}

function firstLine(message: string): string {
  return (message.split('\n')[0] ?? '').slice(0, 200);
}
