/**
 * Add, modify, delete and modify DN (RFC 4511 §4.6 - §4.9): the directory is managed through
 * Commune's own tools, never over LDAP, so every update is refused with unwillingToPerform.
 */

import { ResultCode } from '../result-code.ts';
import type { LdapOperation, RequestType } from './operation.ts';
import { LdapError } from './operation.ts';

function refuse<T extends RequestType>(name: string, request: T): LdapOperation<T> {
  return {
    name,
    request,
    states: ['anonymous', 'bound'],
    controls: [],
    tracked: true,
    logLevel: 'info',
    run() {
      return Promise.reject(
        new LdapError(ResultCode.unwillingToPerform, 'the directory is read-only over LDAP'),
      );
    },
  };
}

export const addOperation = refuse('add', 'addRequest');
export const modifyOperation = refuse('modify', 'modifyRequest');
export const deleteOperation = refuse('delete', 'delRequest');
export const modifyDnOperation = refuse('modifyDN', 'modDNRequest');
