/**
 * Response codes (RFC 9051 §7.1, RFC 5530, RFC 4315 UIDPLUS, RFC 7162 CONDSTORE/QRESYNC,
 * RFC 8474 OBJECTID, RFC 6154 USEATTR), written inside brackets of a status response.
 */

import { formatSequenceSet } from '../parser/sequence-set.ts';
import type { SequenceSet } from '../parser/sequence-set.ts';

export type BareResponseCode =
  | 'ALERT'
  | 'PARSE'
  | 'READ-ONLY'
  | 'READ-WRITE'
  | 'TRYCREATE'
  | 'UIDNOTSTICKY'
  | 'NOMODSEQ'
  | 'CLOSED'
  | 'TOOBIG'
  | 'OVERQUOTA'
  | 'LIMIT'
  | 'NONEXISTENT'
  | 'ALREADYEXISTS'
  | 'AUTHENTICATIONFAILED'
  | 'AUTHORIZATIONFAILED'
  | 'EXPIRED'
  | 'PRIVACYREQUIRED'
  | 'CONTACTADMIN'
  | 'NOPERM'
  | 'INUSE'
  | 'EXPUNGEISSUED'
  | 'CORRUPTION'
  | 'SERVERBUG'
  | 'CLIENTBUG'
  | 'CANNOT'
  | 'UNAVAILABLE'
  | 'HASCHILDREN'
  | 'USEATTR'
  | 'NOTSAVED'
  | 'UNKNOWN-CTE';

export type ResponseCode =
  | BareResponseCode
  | { readonly code: 'CAPABILITY'; readonly capabilities: readonly string[] }
  | { readonly code: 'PERMANENTFLAGS'; readonly flags: readonly string[] }
  | { readonly code: 'BADCHARSET'; readonly charsets: readonly string[] }
  | { readonly code: 'UIDNEXT' | 'UIDVALIDITY' | 'UNSEEN'; readonly value: number }
  | { readonly code: 'HIGHESTMODSEQ'; readonly value: bigint }
  | { readonly code: 'APPENDUID'; readonly uidValidity: number; readonly uids: SequenceSet }
  | {
      readonly code: 'COPYUID';
      readonly uidValidity: number;
      readonly source: SequenceSet;
      readonly destination: SequenceSet;
    }
  | { readonly code: 'MODIFIED'; readonly set: SequenceSet }
  | { readonly code: 'MAILBOXID'; readonly id: string };

/** The code's text between the brackets, e.g. "UIDNEXT 4392". */
export function formatResponseCode(code: ResponseCode): string {
  if (typeof code === 'string') return code;
  switch (code.code) {
    case 'CAPABILITY':
      return ['CAPABILITY', ...code.capabilities].join(' ');
    case 'PERMANENTFLAGS':
      return `PERMANENTFLAGS (${code.flags.join(' ')})`;
    case 'BADCHARSET':
      return code.charsets.length > 0 ? `BADCHARSET (${code.charsets.join(' ')})` : 'BADCHARSET';
    case 'UIDNEXT':
    case 'UIDVALIDITY':
    case 'UNSEEN':
    case 'HIGHESTMODSEQ':
      return `${code.code} ${code.value.toString()}`;
    case 'APPENDUID':
      return `APPENDUID ${String(code.uidValidity)} ${formatSequenceSet(code.uids)}`;
    case 'COPYUID':
      return `COPYUID ${String(code.uidValidity)} ${formatSequenceSet(code.source)} ${formatSequenceSet(code.destination)}`;
    case 'MODIFIED':
      return `MODIFIED ${formatSequenceSet(code.set)}`;
    case 'MAILBOXID':
      return `MAILBOXID (${code.id})`;
  }
}
