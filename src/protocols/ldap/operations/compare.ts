/**
 * Compare (RFC 4511 §4.10): the assertion is evaluated with the attribute's equality rule,
 * exactly as an equalityMatch filter item would be. compareTrue / compareFalse when the entry
 * holds the attribute; noSuchAttribute when it does not; undefinedAttributeType for a type we
 * do not know (userPassword among them: no password ever leaves the server).
 */

import { ControlOid } from '../controls.ts';
import { matchFilter } from '../filter.ts';
import { ResultCode } from '../result-code.ts';
import type { LdapOperation } from './operation.ts';
import { LdapError } from './operation.ts';
import { resolveEntry } from './resolve-entry.ts';

export const compareOperation: LdapOperation<'compareRequest'> = {
  name: 'compare',
  request: 'compareRequest',
  states: ['anonymous', 'bound'],
  controls: [ControlOid.manageDsaIT],
  tracked: true,
  logLevel: 'debug',
  async run(ctx) {
    const { entry: name, attributeDesc, assertionValue } = ctx.message.protocolOp;
    const { tree, settings } = ctx.server;
    const snapshot = await tree.snapshot();
    const entry = resolveEntry(snapshot, name, ctx.session.state, settings);
    ctx.note({ dn: entry.dn, attribute: attributeDesc });
    const type = attributeDesc.split(';')[0] ?? '';
    const info = tree.schema.attribute(type);
    if (info === undefined) {
      throw new LdapError(ResultCode.undefinedAttributeType, `unknown attribute ${type}`);
    }
    if (type.length !== attributeDesc.length || !entry.attributes.has(info.key)) {
      throw new LdapError(ResultCode.noSuchAttribute, `the entry has no ${attributeDesc}`);
    }
    const verdict = matchFilter(
      { type: 'equalityMatch', attribute: type, value: assertionValue },
      entry.match,
      tree.schema.filter,
    );
    if (verdict === 'UNDEFINED') {
      throw new LdapError(ResultCode.inappropriateMatching, `${type} cannot be compared`);
    }
    return { resultCode: verdict === 'TRUE' ? ResultCode.compareTrue : ResultCode.compareFalse };
  },
};
