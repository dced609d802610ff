import assert from 'node:assert/strict';
import {
  ancestorPaths,
  isWithin,
  joinPath,
  splitPath,
} from '../../../src/storage/files/file-path.ts';

describe('file paths', () => {
  it('splits paths into parent and name', () => {
    assert.deepEqual(splitPath('/'), { parent: '', name: '', collection: true });
    assert.deepEqual(splitPath('/a'), { parent: '/', name: 'a', collection: false });
    assert.deepEqual(splitPath('/a/b/'), { parent: '/a/', name: 'b', collection: true });
    assert.equal(joinPath('/a/', 'b', true), '/a/b/');
  });

  it('refuses invalid names', () => {
    for (const bad of ['a', '/a//b', '/..', '/./x', '/a\u0000b', `/${'x'.repeat(256)}`]) {
      assert.throws(() => splitPath(bad), `${JSON.stringify(bad)} accepted`);
    }
  });

  it('knows ancestry', () => {
    assert.deepEqual(ancestorPaths('/a/b/c'), ['/', '/a/', '/a/b/']);
    assert.ok(isWithin('/a/b', '/a/'));
    assert.ok(isWithin('/a/', '/a'));
    assert.ok(!isWithin('/ab', '/a/'));
    assert.ok(isWithin('/x', '/'));
  });
});
