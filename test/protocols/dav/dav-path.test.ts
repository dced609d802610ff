import assert from 'node:assert/strict';
import { DavError } from '../../../src/protocols/dav/dav-error.ts';
import {
  ancestorsOf,
  decodePath,
  encodePath,
  isDescendant,
  lastSegment,
  parentPath,
  samePath,
} from '../../../src/protocols/dav/dav-path.ts';

const is400 = (err: unknown) => err instanceof DavError && err.status === 400;

describe('DAV paths', () => {
  it('decodes percent-encoding and keeps the collection slash', () => {
    assert.equal(decodePath('/dav/files/a@b.c/res-%e2%82%ac?x=1'), '/dav/files/a@b.c/res-€');
    assert.equal(decodePath('/dav/files/'), '/dav/files/');
    assert.equal(decodePath('/'), '/');
    assert.equal(encodePath('/dav/files/a@b.c/my file€'), '/dav/files/a@b.c/my%20file%E2%82%AC');
  });

  it('refuses what could escape or alias', () => {
    for (const bad of [
      '/a/../b',
      '/a/%2e%2E/b',
      '/a/./b',
      '/a%2Fb',
      '/a%5cb',
      '/a%00',
      '/a//b',
      '/a/%zz',
      'relative',
      '/a#frag',
    ]) {
      assert.throws(() => decodePath(bad), is400, bad);
    }
    assert.throws(() => decodePath(`/${'a'.repeat(256)}`), is400);
  });

  it('navigates paths', () => {
    assert.equal(parentPath('/a/b/'), '/a/');
    assert.equal(parentPath('/a/b'), '/a/');
    assert.equal(parentPath('/a'), '/');
    assert.equal(lastSegment('/a/b/'), 'b');
    assert.ok(samePath('/a/b/', '/a/b'));
    assert.ok(isDescendant('/a/b/c', '/a/b/'));
    assert.ok(!isDescendant('/a/bc', '/a/b'));
    assert.ok(!isDescendant('/a/b', '/a/b/'));
    assert.deepEqual(ancestorsOf('/a/b/c'), ['/', '/a/', '/a/b/']);
  });
});
