/**
 * BER identifier octets for the subset LDAP uses (RFC 4511 §5.1, X.690 §8.1.2). A tag is the
 * whole single identifier octet: class (bits 8-7), constructed flag (bit 6) and number
 * (bits 5-1, 0..30). LDAP never needs the high-tag-number form, so the codec rejects it.
 */

export const BerTag = Object.freeze({
  boolean: 0x01,
  integer: 0x02,
  octetString: 0x04,
  null: 0x05,
  enumerated: 0x0a,
  sequence: 0x30,
  set: 0x31,
});

export const BerClass = Object.freeze({
  universal: 0x00,
  application: 0x40,
  context: 0x80,
  private: 0xc0,
});

/** Bit 6 of the identifier: the element's content is a series of elements. */
export const CONSTRUCTED = 0x20;

/** Identifier octet of an application-class tag ([APPLICATION n]). */
export function applicationTag(n: number, constructed: boolean): number {
  return BerClass.application | (constructed ? CONSTRUCTED : 0) | (n & 0x1f);
}

/** Identifier octet of a context-specific tag ([n]). */
export function contextTag(n: number, constructed: boolean): number {
  return BerClass.context | (constructed ? CONSTRUCTED : 0) | (n & 0x1f);
}

export function isConstructed(tag: number): boolean {
  return (tag & CONSTRUCTED) !== 0;
}

/** Human-readable tag for error messages, e.g. `0x63` -> `[APPLICATION 3] constructed`. */
export function describeTag(tag: number): string {
  const cls = ['UNIVERSAL', 'APPLICATION', '', 'PRIVATE'][tag >> 6] ?? '';
  const num = tag & 0x1f;
  const name = cls === '' ? `[${num}]` : `[${cls} ${num}]`;
  return `${name}${isConstructed(tag) ? ' constructed' : ''} (0x${tag.toString(16).padStart(2, '0')})`;
}
