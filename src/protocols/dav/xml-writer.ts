/**
 * A small XML builder with escaping and namespace prefixes. The namespaces a document names
 * up front (DAV: by default) are declared on its root element; any other is declared on the
 * first element that needs it, scoped to that element, with its well-known prefix (cal, card,
 * cs) or a generated one. The default namespace is never used, so an element
 * in no namespace is simply unprefixed, and a stored fragment can be spliced in anywhere.
 */

import {
  CALDAV_NS,
  CALENDARSERVER_NS,
  CARDDAV_NS,
  DAV_NS,
  XML_NS,
  isElement,
  type XmlAttribute,
  type XmlElement,
} from './xml.ts';

const KNOWN_PREFIXES: ReadonlyMap<string, string> = new Map([
  [DAV_NS, 'd'],
  [CALDAV_NS, 'cal'],
  [CARDDAV_NS, 'card'],
  [CALENDARSERVER_NS, 'cs'],
]);

const TEXT_ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  '\r': '&#13;',
  '\n': '&#10;',
  '\t': '&#9;',
};

const TEXT_SPECIAL = /[&<>\r]/;

export function escapeText(text: string): string {
  // Most text has nothing to escape; calendar data has many CRs: plain passes are fastest
  if (!TEXT_SPECIAL.test(text)) return text;
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('\r', '&#13;');
}

export function escapeAttribute(value: string): string {
  return value.replace(/[&<>"\r\n\t]/g, (c) => TEXT_ESCAPES[c] as string);
}

interface Frame {
  readonly tag: string;
  /** Namespaces declared on this element. */
  readonly declared: Map<string, string> | undefined;
}

export interface WriterOptions {
  /** Emit the XML declaration (documents yes, stored fragments no). */
  readonly declaration?: boolean;
  /** Namespaces declared on the root element (default: DAV:). */
  readonly namespaces?: readonly string[];
}

export class XmlWriter {
  #out = '';
  /** Start tag of the element opened last, not yet ended: it may still self-close. */
  #pending: string | undefined;
  readonly #stack: Frame[] = [];
  readonly #rootNamespaces: readonly string[];
  #counter = 0;
  #started = false;

  constructor(options: WriterOptions = {}) {
    if (options.declaration ?? true) this.#out = '<?xml version="1.0" encoding="utf-8"?>\n';
    this.#rootNamespaces = options.namespaces ?? [DAV_NS];
  }

  #flush(): void {
    if (this.#pending !== undefined) {
      this.#out += `${this.#pending}>`;
      this.#pending = undefined;
    }
  }

  #prefixOf(ns: string, own: Map<string, string> | undefined): string | undefined {
    if (ns === XML_NS) return 'xml';
    const mine = own?.get(ns);
    if (mine !== undefined) return mine;
    for (let i = this.#stack.length - 1; i >= 0; i--) {
      const p = this.#stack[i]?.declared?.get(ns);
      if (p !== undefined) return p;
    }
    return undefined;
  }

  /** Start tag text (without '>') and the frame of a new element. */
  #startTag(
    ns: string,
    name: string,
    attrs: readonly XmlAttribute[],
  ): { head: string; frame: Frame } {
    let declared: Map<string, string> | undefined;
    if (!this.#started) {
      this.#started = true;
      for (const uri of this.#rootNamespaces) {
        declared ??= new Map();
        declared.set(uri, KNOWN_PREFIXES.get(uri) ?? `x${this.#counter++}`);
      }
    }
    const qualify = (n: string, local: string): string => {
      if (n === '') return local;
      let prefix = this.#prefixOf(n, declared);
      if (prefix === undefined) {
        prefix = KNOWN_PREFIXES.get(n) ?? `x${this.#counter++}`;
        declared ??= new Map();
        declared.set(n, prefix);
      }
      return `${prefix}:${local}`;
    };
    const tag = qualify(ns, name);
    let attrText = '';
    for (const a of attrs) attrText += ` ${qualify(a.ns, a.name)}="${escapeAttribute(a.value)}"`;
    let decls = '';
    if (declared)
      for (const [uri, prefix] of declared) decls += ` xmlns:${prefix}="${escapeAttribute(uri)}"`;
    return { head: `<${tag}${decls}${attrText}`, frame: { tag, declared } };
  }

  /** Open an element; close it with `close()`. */
  open(ns: string, name: string, attrs: readonly XmlAttribute[] = []): this {
    this.#flush();
    const { head, frame } = this.#startTag(ns, name, attrs);
    this.#pending = head;
    this.#stack.push(frame);
    return this;
  }

  close(): this {
    const frame = this.#stack.pop();
    if (!frame) throw new Error('XmlWriter.close without open element');
    if (this.#pending !== undefined) {
      this.#out += `${this.#pending}/>`;
      this.#pending = undefined;
    } else {
      this.#out += `</${frame.tag}>`;
    }
    return this;
  }

  /** An element with optional text content. */
  leaf(ns: string, name: string, text?: string, attrs: readonly XmlAttribute[] = []): this {
    this.#flush();
    const { head, frame } = this.#startTag(ns, name, attrs);
    if (text === undefined || text === '') this.#out += `${head}/>`;
    else this.#out += `${head}>${escapeText(text)}</${frame.tag}>`;
    return this;
  }

  text(text: string): this {
    if (text === '') return this;
    this.#flush();
    this.#out += escapeText(text);
    return this;
  }

  /** Splice a fragment made by `serializeElement` (self-contained namespace declarations). */
  raw(fragment: string): this {
    this.#flush();
    this.#out += fragment;
    return this;
  }

  /** Write a parsed element tree. */
  element(el: XmlElement): this {
    this.open(el.ns, el.name, el.attrs);
    for (const c of el.children) {
      if (isElement(c)) this.element(c);
      else this.text(c);
    }
    return this.close();
  }

  toString(): string {
    if (this.#stack.length > 0) throw new Error('XmlWriter has unclosed elements');
    return this.#out;
  }
}

/** A standalone fragment for one element: declares every namespace it uses, no default ns. */
export function serializeElement(el: XmlElement): string {
  return new XmlWriter({ declaration: false, namespaces: [] }).element(el).toString();
}
