import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { isCommuneError } from '../../../src/core/errors.ts';
import { MemoryStore } from '../../../src/storage/backends/memory-store.ts';
import { FilesService } from '../../../src/storage/files/files-service.ts';
import { LocalChangeBus } from '../../../src/storage/local-change-bus.ts';
import { MemoryBlobStore } from '../../../src/storage/memory-blob-store.ts';
import { Storage } from '../../../src/storage/storage.ts';

async function text(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.from(c as Uint8Array));
  return Buffer.concat(chunks).toString('utf8');
}

const bytes = (s: string): Uint8Array => Buffer.from(s, 'utf8');

function setup(quotas: Record<number, number> = {}): { files: FilesService; storage: Storage } {
  const storage = new Storage({
    store: new MemoryStore(),
    blobs: new MemoryBlobStore(),
    bus: new LocalChangeBus(),
  });
  let clock = Date.UTC(2026, 0, 1);
  const files = new FilesService({
    storage,
    quotaOf: async (id) => quotas[id] ?? 0,
    now: () => (clock += 1000),
  });
  return { files, storage };
}

const rejectsWith = (code: string) => (err: unknown) => isCommuneError(err) && err.code === code;

describe('FilesService', () => {
  it('has a virtual root and stores files with streamed content and a stamped version', async () => {
    const { files } = setup();
    const root = await files.stat(1, '/');
    assert.equal(root?.record.kind, 'collection');
    assert.equal(root?.raw, undefined);
    const { node, created } = await files.put(
      1,
      '/a.txt',
      Readable.from([bytes('hello '), bytes('world')]),
      {
        contentType: 'text/plain',
      },
    );
    assert.equal(created, true);
    assert.ok(node.version > 0n);
    const stored = await files.stat(1, '/a.txt');
    assert.equal(stored?.record.size, 11);
    assert.equal(stored?.record.contentType, 'text/plain');
    assert.equal(stored?.version, node.version);
    assert.equal(await text(await files.open(stored!)), 'hello world');
    assert.equal(await text(await files.open(stored!, { start: 6, end: 9 })), 'wor');
    assert.equal(await files.used(1), 11);
  });

  it('replaces content with a new version and keeps creation time and properties', async () => {
    const { files } = setup();
    const first = (await files.put(1, '/a', bytes('one'), { contentType: 'text/plain' })).node;
    await files.patchProperties(1, '/a', {
      set: new Map([['{x:}p', '<p xmlns="x:"/>']]),
      remove: new Set(),
    });
    const { node, created } = await files.put(1, '/a', bytes('three'), { contentType: 'text/x' });
    assert.equal(created, false);
    assert.ok(node.version > first.version);
    const now = await files.stat(1, '/a');
    assert.equal(now?.record.created, first.record.created);
    assert.deepEqual(now?.record.props, { '{x:}p': '<p xmlns="x:"/>' });
    assert.equal(await files.used(1), 5);
  });

  it('refuses a file without a parent collection, and a file over a collection', async () => {
    const { files } = setup();
    await assert.rejects(
      files.put(1, '/no/x', bytes('x'), { contentType: 'a/b' }),
      rejectsWith('conflict'),
    );
    await files.mkcol(1, '/d/');
    await assert.rejects(
      files.put(1, '/d', bytes('x'), { contentType: 'a/b' }),
      rejectsWith('conflict'),
    );
    await assert.rejects(files.mkcol(1, '/d/'), rejectsWith('already-exists'));
    await assert.rejects(files.mkcol(1, '/x/y/'), rejectsWith('conflict'));
  });

  it('lists members in name order with canonical paths', async () => {
    const { files } = setup();
    await files.mkcol(1, '/b/');
    await files.put(1, '/a', bytes('1'), { contentType: 't/p' });
    await files.put(1, '/b/c', bytes('2'), { contentType: 't/p' });
    assert.deepEqual(
      (await files.list(1, '/')).map((n) => n.path),
      ['/a', '/b/'],
    );
    assert.deepEqual(
      (await files.list(1, '/b/')).map((n) => n.path),
      ['/b/c'],
    );
    assert.equal((await files.find(1, '/b'))?.path, '/b/');
  });

  it('removes a subtree and gives its bytes back', async () => {
    const { files } = setup();
    await files.mkcol(1, '/d/');
    await files.mkcol(1, '/d/e/');
    await files.put(1, '/d/e/f', bytes('12345'), { contentType: 't/p' });
    await files.put(1, '/g', bytes('12'), { contentType: 't/p' });
    await files.remove(1, '/d/');
    assert.equal(await files.find(1, '/d/e/f'), undefined);
    assert.deepEqual(
      (await files.list(1, '/')).map((n) => n.path),
      ['/g'],
    );
    assert.equal(await files.used(1), 2);
    await assert.rejects(files.remove(1, '/'), rejectsWith('forbidden'));
    await assert.rejects(files.remove(1, '/nope'), rejectsWith('not-found'));
  });

  it('copies shallow and deep, overwrites on request, and moves across accounts', async () => {
    const { files } = setup();
    await files.mkcol(1, '/src/');
    await files.put(1, '/src/a', bytes('aaa'), { contentType: 't/p' });
    await files.patchProperties(1, '/src/', {
      set: new Map([['{x:}k', '<k xmlns="x:">v</k>']]),
      remove: new Set(),
    });
    assert.deepEqual(
      await files.copy(
        { account: 1, path: '/src/' },
        { account: 1, path: '/shallow/' },
        { depth: 0, overwrite: false },
      ),
      { created: true },
    );
    assert.deepEqual((await files.list(1, '/shallow/')).length, 0);
    assert.deepEqual((await files.find(1, '/shallow/'))?.record.props, {
      '{x:}k': '<k xmlns="x:">v</k>',
    });
    await files.copy(
      { account: 1, path: '/src/' },
      { account: 1, path: '/deep/' },
      { depth: 'infinity', overwrite: false },
    );
    assert.equal((await files.list(1, '/deep/')).length, 1);
    assert.equal(await files.used(1), 6);
    await assert.rejects(
      files.copy(
        { account: 1, path: '/src/' },
        { account: 1, path: '/deep/' },
        { depth: 'infinity', overwrite: false },
      ),
      rejectsWith('already-exists'),
    );
    assert.deepEqual(
      await files.copy(
        { account: 1, path: '/src/a' },
        { account: 1, path: '/deep/' },
        { depth: 'infinity', overwrite: true },
      ),
      { created: false },
    );
    assert.equal((await files.find(1, '/deep'))?.record.kind, 'file');
    assert.equal(await files.used(1), 6);
    await assert.rejects(
      files.copy(
        { account: 1, path: '/src/' },
        { account: 1, path: '/src/inner/' },
        { depth: 'infinity', overwrite: false },
      ),
      rejectsWith('forbidden'),
    );
    // Move to another account: quota follows the bytes
    await files.move(
      { account: 1, path: '/src/' },
      { account: 2, path: '/moved/' },
      { overwrite: false },
    );
    assert.equal(await files.find(1, '/src/'), undefined);
    assert.equal((await files.list(2, '/moved/')).length, 1);
    assert.equal(await files.used(1), 3);
    assert.equal(await files.used(2), 3);
  });

  it('keeps the version (ETag) when moving within an account', async () => {
    const { files } = setup();
    const { node } = await files.put(1, '/a', bytes('x'), { contentType: 't/p' });
    await files.move({ account: 1, path: '/a' }, { account: 1, path: '/b' }, { overwrite: false });
    assert.equal((await files.find(1, '/b'))?.version, node.version);
  });

  it('enforces quota before and after streaming', async () => {
    const { files } = setup({ 1: 10 });
    await files.put(1, '/a', bytes('12345678'), { contentType: 't/p' });
    await assert.rejects(
      files.put(1, '/b', bytes('123'), { contentType: 't/p', expectedSize: 3 }),
      rejectsWith('over-quota'),
    );
    await assert.rejects(
      files.put(1, '/b', Readable.from([bytes('123')]), { contentType: 't/p' }),
      rejectsWith('over-quota'),
    );
    // Replacing counts the old size as free
    await files.put(1, '/a', bytes('1234567890'), { contentType: 't/p' });
    assert.equal(await files.used(1), 10);
    await assert.rejects(
      files.copy(
        { account: 1, path: '/a' },
        { account: 1, path: '/c' },
        { depth: 0, overwrite: false },
      ),
      rejectsWith('over-quota'),
    );
  });

  it('runs the caller check before streaming and inside the commit', async () => {
    const { files } = setup();
    let calls = 0;
    await assert.rejects(
      files.put(1, '/a', bytes('x'), {
        contentType: 't/p',
        check: () => {
          calls++;
          throw new Error('precondition');
        },
      }),
      /precondition/,
    );
    assert.equal(calls, 1);
    assert.equal(await files.find(1, '/a'), undefined);
  });

  it('logs changes per account with collection files', async () => {
    const { files } = setup();
    const start = await files.currentVersion(1);
    await files.mkcol(1, '/d/');
    await files.put(1, '/d/x', bytes('x'), { contentType: 't/p' });
    await files.remove(1, '/d/');
    const { changes } = await files.changesSince(1, start);
    assert.deepEqual(
      changes.map((c) => [c.path, c.kind]),
      [
        ['/d/', 'created'],
        ['/d/x', 'created'],
        ['/d/', 'destroyed'],
        ['/d/x', 'destroyed'],
      ],
    );
    assert.equal(await files.currentVersion(1), (await files.changesSince(1, 0n)).last);
  });

  it('stores grants and shows them in the lineage', async () => {
    const { files } = setup();
    await files.mkcol(1, '/shared/');
    await files.put(1, '/shared/doc', bytes('x'), { contentType: 't/p' });
    await files.setGrants(1, '/shared/', [{ principal: 7, rights: ['read'] }]);
    const lineage = await files.lineage(1, '/shared/doc');
    assert.deepEqual(
      lineage.map((n) => n?.path),
      ['/', '/shared/', '/shared/doc'],
    );
    assert.deepEqual(lineage[1]?.record.grants, [{ principal: 7, rights: ['read'] }]);
    await files.setGrants(1, '/shared/', []);
    assert.equal((await files.find(1, '/shared/'))?.record.grants, undefined);
  });

  it('serializes concurrent writers on one collection without losing members', async () => {
    const { files } = setup();
    await files.mkcol(1, '/c/');
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        files.put(1, `/c/f${i}`, bytes(String(i)), { contentType: 't/p' }),
      ),
    );
    assert.equal((await files.list(1, '/c/')).length, 20);
    assert.equal(await files.used(1), 30);
  });

  it('never leaves an orphan when a collection is removed while a member is created', async () => {
    const { files } = setup();
    for (let round = 0; round < 20; round++) {
      await files.mkcol(1, '/c/');
      const [removed, created] = await Promise.allSettled([
        files.remove(1, '/c/'),
        files.put(1, '/c/x', bytes('x'), { contentType: 't/p' }),
      ]);
      assert.equal(removed.status, 'fulfilled');
      const dir = await files.find(1, '/c/');
      const member = await files.find(1, '/c/x');
      // Either the file landed before the removal (and went with it) or it was refused
      assert.equal(dir, undefined);
      assert.equal(member, undefined);
      if (created.status === 'rejected') assert.ok(rejectsWith('conflict')(created.reason));
      assert.equal(await files.used(1), 0);
    }
  });
});
