import assert from 'node:assert/strict';
import {
  PrivilegeSet,
  leavesOf,
  privilegesOfRights,
  rightsOfPrivileges,
} from '../../../src/protocols/dav/privileges.ts';

describe('DAV privileges', () => {
  it('aggregates as RFC 3744 §3.12 describes', () => {
    assert.deepEqual([...leavesOf('write')].sort(), [
      'bind',
      'unbind',
      'write-content',
      'write-properties',
    ]);
    const all = PrivilegeSet.all();
    assert.ok(all.has('all') && all.has('write') && all.has('read-acl'));
    const some = new PrivilegeSet(['read', 'write-content']);
    assert.ok(some.has('read') && some.has('write-content'));
    assert.ok(!some.has('write') && !some.has('all'));
    assert.deepEqual(some.expanded(), ['read', 'write-content']);
    assert.ok(PrivilegeSet.none().empty);
  });

  it('maps protocol-neutral rights both ways', () => {
    const read = privilegesOfRights(['read']);
    assert.ok(read.has('read') && !read.has('write-content'));
    const rw = privilegesOfRights(['read', 'write', 'delete']);
    assert.ok(rw.has('write') && rw.has('unlock') && !rw.has('write-acl'));
    assert.deepEqual(rightsOfPrivileges(['write']), ['write', 'delete']);
    assert.deepEqual(rightsOfPrivileges(['all']), ['read', 'write', 'delete', 'share']);
  });
});
