import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { text } from 'node:stream/consumers';
import { Readable } from 'node:stream';
import { MemoryStore } from '../../src/storage/backends/memory-store.ts';
import { MemoryBlobStore } from '../../src/storage/memory-blob-store.ts';
import { InlineBlobStore } from '../../src/storage/inline-blob-store.ts';
import { isCommuneError } from '../../src/core/errors.ts';

const sha = (s: string | Uint8Array): string => createHash('sha256').update(s).digest('hex');

describe('InlineBlobStore', () => {
  let store: MemoryStore;
  let large: MemoryBlobStore;
  let blobs: InlineBlobStore;
  beforeEach(() => {
    store = new MemoryStore();
    large = new MemoryBlobStore();
    blobs = new InlineBlobStore({ store, large, inlineMax: 16 });
  });

  it('keeps small blobs in the store and large ones in the large store', async () => {
    const small = await blobs.put('tiny');
    assert.deepEqual(small, { hash: sha('tiny'), size: 4 });
    assert.equal(await large.has(small.hash), false);
    const body = 'a'.repeat(40);
    // streamed in small chunks: the inline prefix is replayed into the large store
    const big = await blobs.put(
      Readable.from([Buffer.from(body.slice(0, 10)), Buffer.from(body.slice(10))]),
    );
    assert.deepEqual(big, { hash: sha(body), size: 40 });
    assert.equal(await large.has(big.hash), true);
    for (const [ref, content] of [
      [small, 'tiny'],
      [big, body],
    ] as const) {
      assert.equal(await blobs.has(ref.hash), true);
      assert.equal(await blobs.size(ref.hash), content.length);
      assert.equal(Buffer.from((await blobs.getBytes(ref.hash)) ?? []).toString(), content);
      const stream = await blobs.get(ref.hash, { start: 1, end: 3 });
      assert.ok(stream);
      assert.equal(await text(stream), content.slice(1, 3));
    }
  });

  it('deduplicates, deletes, and reports absent blobs', async () => {
    const a = await blobs.put('same');
    const b = await blobs.put(Buffer.from('same'));
    assert.deepEqual(a, b);
    await blobs.delete(a.hash);
    assert.equal(await blobs.has(a.hash), false);
    assert.equal(await blobs.get(a.hash), undefined);
    assert.equal(await blobs.size(sha('never')), undefined);
  });

  it('enforces maxSize on both paths and stores nothing', async () => {
    await assert.rejects(blobs.put('0123456789', { maxSize: 5 }), (e: unknown) =>
      isCommuneError(e, 'too-large'),
    );
    assert.equal(await blobs.has(sha('0123456789')), false);
    const long = 'x'.repeat(100);
    await assert.rejects(blobs.put(long, { maxSize: 50 }), (e: unknown) =>
      isCommuneError(e, 'too-large'),
    );
    assert.equal(await blobs.has(sha(long)), false);
  });

  it('lists inline and large blobs, each once', async () => {
    const small = await blobs.put('tiny');
    const big = await blobs.put('b'.repeat(40));
    // the same content in both places (e.g. after inlineMax changed) is listed once
    await large.put('tiny');
    const listed: string[] = [];
    for await (const hash of blobs.list()) listed.push(hash);
    assert.deepEqual(listed.sort(), [small.hash, big.hash].sort());
  });

  it("stages a small blob as ops of the caller's commit, a large one durably", async () => {
    const staged = await blobs.stage('tiny');
    assert.deepEqual(staged.ref, { hash: sha('tiny'), size: 4 });
    assert.equal(staged.ops.length, 1);
    assert.equal(await blobs.has(staged.ref.hash), false, 'nothing written before the commit');
    await store.commit({ ops: [...staged.ops] });
    assert.equal(Buffer.from((await blobs.getBytes(staged.ref.hash)) ?? []).toString(), 'tiny');
    assert.deepEqual((await blobs.stage('tiny')).ops, [], 'present content: nothing to write');
    const body = 'b'.repeat(40);
    const big = await blobs.stage(body);
    assert.deepEqual(big.ops, []);
    assert.equal(await large.has(big.ref.hash), true);
    await assert.rejects(blobs.stage('c'.repeat(12), { maxSize: 8 }), (err: unknown) =>
      isCommuneError(err, 'too-large'),
    );
  });

  it('refuses malformed hashes', async () => {
    await assert.rejects(blobs.get('../etc/passwd'));
    await assert.rejects(blobs.has('ABC'));
  });
});
