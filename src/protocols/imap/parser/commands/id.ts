/**
 * ID (RFC 2971 §3.1):
 *   id = "ID" SP id-params-list
 *   id-params-list = "(" *(string SP nstring) ")" / nil
 * At most 30 pairs, fields of at most 30 octets, values of at most 1024 octets (§3.3).
 */

import { syntaxError, utf8Text } from '../args.ts';
import type { ArgReader } from '../args.ts';

export interface IdParam {
  readonly field: string;
  readonly value: string | null;
}

export interface IdCommand {
  readonly name: 'ID';
  /** Client identification, in order; null for `ID NIL`. */
  readonly params: readonly IdParam[] | null;
}

export function parseId(r: ArgReader): IdCommand {
  r.sp();
  let params: IdParam[] | null = null;
  if (!r.tryKeyword('NIL')) {
    const items = r.list(() => r.nstring());
    if (items.length % 2 !== 0) syntaxError('ID parameters must be field/value pairs');
    if (items.length > 60) syntaxError('Too many ID parameters');
    params = [];
    for (let i = 0; i < items.length; i += 2) {
      const field = items[i];
      const value = items[i + 1] ?? null;
      if (field === null || field === undefined) syntaxError('ID field must be a string');
      if (field.length > 30 || (value !== null && value.length > 1024)) {
        syntaxError('ID parameter too long');
      }
      params.push({ field: utf8Text(field), value: value === null ? null : utf8Text(value) });
    }
  }
  r.end();
  return { name: 'ID', params };
}
