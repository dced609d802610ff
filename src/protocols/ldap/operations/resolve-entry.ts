/**
 * Finding the entry a request names (search base, compare entry), with the errors RFC 4511
 * §4.1.9 asks for: invalidDNSyntax for a DN that does not parse, noSuchObject with the
 * closest existing superior as matchedDN. A session that may not read the directory gets
 * insufficientAccessRights for every DN below the naming contexts, whether it exists or not,
 * so nothing about the tree can be learnt without binding.
 */

import type { Dn } from '../dn.ts';
import { normalizeDn, parseDn } from '../dn.ts';
import type { LdapEntry, TreeSnapshot } from '../directory-tree.ts';
import { ResultCode } from '../result-code.ts';
import type { LdapSettings, SessionState } from './operation.ts';
import { LdapError, canReadDirectory } from './operation.ts';

export function resolveEntry(
  snapshot: TreeSnapshot,
  name: string,
  state: SessionState,
  settings: LdapSettings,
): LdapEntry {
  let dn: Dn;
  try {
    dn = parseDn(name);
  } catch (err) {
    throw new LdapError(ResultCode.invalidDNSyntax, (err as Error).message);
  }
  const ndn = normalizeDn(dn);
  const entry = snapshot.get(ndn);
  if (entry?.access === 'public') return entry;
  if (!canReadDirectory(state, settings)) {
    throw new LdapError(ResultCode.insufficientAccessRights, 'bind to read the directory');
  }
  if (entry !== undefined) return entry;
  // step: the closest superior that exists
  for (let i = 1; i < dn.length; i++) {
    const superior = snapshot.get(normalizeDn(dn.slice(i)));
    if (superior !== undefined && superior.ndn !== '') {
      throw new LdapError(ResultCode.noSuchObject, 'no such entry', superior.dn);
    }
  }
  throw new LdapError(ResultCode.noSuchObject, 'no such entry');
}
