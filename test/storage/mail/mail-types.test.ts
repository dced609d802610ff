import assert from 'node:assert/strict';
import { roleOfSpecialUse, specialUseOf } from '../../../src/storage/mail/mail-types.ts';

describe('mailbox roles and special-use attributes (RFC 6154)', () => {
  it('maps roles to attributes and back', () => {
    assert.equal(specialUseOf('sent'), '\\Sent');
    assert.equal(specialUseOf('all'), '\\All');
    assert.equal(specialUseOf('inbox'), null);
    assert.equal(specialUseOf(null), null);
    assert.equal(roleOfSpecialUse('\\JUNK'), 'junk');
    assert.equal(roleOfSpecialUse('\\Flagged'), 'flagged');
    assert.equal(roleOfSpecialUse('\\Inbox'), undefined);
    assert.equal(roleOfSpecialUse('\\Important'), undefined);
  });
});
