/**
 * QUOTA (RFC 9208 §4): GETQUOTA, SETQUOTA (parsed; GETQUOTAROOT is a mailbox command).
 *   getquota = "GETQUOTA" SP quota-root-name
 *   setquota = "SETQUOTA" SP quota-root-name SP setquota-list
 *   setquota-list = "(" [setquota-resource *(SP setquota-resource)] ")"
 *   setquota-resource = resource-name SP resource-limit    ; limit is number64
 */

import type { ArgReader } from '../args.ts';

export interface GetQuotaCommand {
  readonly name: 'GETQUOTA';
  readonly root: string;
}

export interface QuotaLimit {
  /** Resource name, upper-cased (STORAGE, MESSAGE, MAILBOX, ANNOTATION-STORAGE, ...). */
  readonly resource: string;
  readonly limit: bigint;
}

export interface SetQuotaCommand {
  readonly name: 'SETQUOTA';
  readonly root: string;
  readonly limits: readonly QuotaLimit[];
}

export function parseGetQuota(r: ArgReader): GetQuotaCommand {
  r.sp();
  const root = r.astringText();
  r.end();
  return { name: 'GETQUOTA', root };
}

export function parseSetQuota(r: ArgReader): SetQuotaCommand {
  r.sp();
  const root = r.astringText();
  r.sp();
  const limits = r.list(() => {
    const resource = r.keyword();
    r.sp();
    return { resource, limit: r.number64() };
  });
  r.end();
  return { name: 'SETQUOTA', root, limits };
}
