/**
 * LIST (RFC 9051 §6.3.9) with LIST-EXTENDED (RFC 5258), LIST-STATUS (RFC 5819) and
 * SPECIAL-USE (RFC 6154), and LSUB (RFC 3501 §6.3.9):
 *   list = "LIST" [SP list-select-opts] SP mailbox SP mbox-or-pat [SP list-return-opts]
 *   list-select-opts = "(" [list-select-option *(SP list-select-option)] ")"
 *   mbox-or-pat      = list-mailbox / "(" list-mailbox *(SP list-mailbox) ")"
 *   list-return-opts = "RETURN" SP "(" [return-option *(SP return-option)] ")"
 *   return-option    = "SUBSCRIBED" / "CHILDREN" / "SPECIAL-USE" /
 *                      "STATUS" SP "(" status-att *(SP status-att) ")"
 *   lsub = "LSUB" SP mailbox SP list-mailbox
 */

import { syntaxError } from '../args.ts';
import type { ArgReader } from '../args.ts';
import { parseStatusItems } from './status.ts';
import type { StatusItem } from './status.ts';

export type ListSelectOption = 'SUBSCRIBED' | 'REMOTE' | 'RECURSIVEMATCH' | 'SPECIAL-USE';
export type ListReturnOption = 'SUBSCRIBED' | 'CHILDREN' | 'SPECIAL-USE';

export interface ListCommand {
  readonly name: 'LIST';
  readonly selectOptions: readonly ListSelectOption[];
  /** Reference name (decoded). */
  readonly reference: string;
  /** Mailbox patterns (decoded), with `%` and `*` wildcards; one unless a pattern list. */
  readonly patterns: readonly string[];
  readonly returnOptions: readonly ListReturnOption[];
  /** RETURN (STATUS (...)) items (RFC 5819); null when not requested. */
  readonly returnStatus: readonly StatusItem[] | null;
  /** LIST-EXTENDED syntax was used: reply with extended data items (RFC 5258 §3). */
  readonly extended: boolean;
}

export interface LsubCommand {
  readonly name: 'LSUB';
  readonly reference: string;
  readonly pattern: string;
}

const SELECT_OPTIONS: readonly ListSelectOption[] = [
  'SUBSCRIBED',
  'REMOTE',
  'RECURSIVEMATCH',
  'SPECIAL-USE',
];
const RETURN_OPTIONS: readonly ListReturnOption[] = ['SUBSCRIBED', 'CHILDREN', 'SPECIAL-USE'];

export function parseList(r: ArgReader): ListCommand {
  r.sp();
  let extended = false;
  const selectOptions: ListSelectOption[] = [];
  if (r.peek() === 0x28) {
    extended = true;
    for (const word of r.list(() => r.keyword())) {
      const option = SELECT_OPTIONS.find((o) => o === word);
      if (option === undefined) syntaxError('Unknown LIST selection option');
      if (!selectOptions.includes(option)) selectOptions.push(option);
    }
    // RECURSIVEMATCH needs a base option to modify (RFC 5258 §3.1)
    if (
      selectOptions.includes('RECURSIVEMATCH') &&
      !selectOptions.includes('SUBSCRIBED') &&
      !selectOptions.includes('SPECIAL-USE')
    ) {
      syntaxError('RECURSIVEMATCH requires another selection option');
    }
    r.sp();
  }
  const reference = r.mailbox();
  r.sp();
  let patterns: string[];
  if (r.peek() === 0x28) {
    extended = true;
    patterns = r.list(() => r.listMailbox(), false);
  } else {
    patterns = [r.listMailbox()];
  }
  const returnOptions: ListReturnOption[] = [];
  let returnStatus: StatusItem[] | null = null;
  if (r.trySp()) {
    if (!r.tryKeyword('RETURN')) syntaxError('Expected RETURN');
    extended = true;
    r.sp();
    r.list(() => {
      const word = r.keyword();
      if (word === 'STATUS') {
        r.sp();
        returnStatus = parseStatusItems(r);
        return;
      }
      const option = RETURN_OPTIONS.find((o) => o === word);
      if (option === undefined) syntaxError('Unknown LIST return option');
      if (!returnOptions.includes(option)) returnOptions.push(option);
    });
  }
  r.end();
  return {
    name: 'LIST',
    selectOptions,
    reference,
    patterns,
    returnOptions,
    returnStatus,
    extended,
  };
}

export function parseLsub(r: ArgReader): LsubCommand {
  r.sp();
  const reference = r.mailbox();
  r.sp();
  const pattern = r.listMailbox();
  r.end();
  return { name: 'LSUB', reference, pattern };
}
