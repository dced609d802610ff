import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Readable } from 'node:stream';
import type { BlobStore } from '../../src/storage/blob-store.ts';
import { FsBlobStore } from '../../src/storage/fs-blob-store.ts';
import { MemoryBlobStore } from '../../src/storage/memory-blob-store.ts';
import { PgBlobStore } from '../../src/storage/pg-blob-store.ts';
import { PG_URL, freshSchema, requirePostgres } from './pg-test-db.ts';

const sha256 = (data: Uint8Array | string): string =>
  createHash('sha256').update(data).digest('hex');

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

/** `total` bytes of deterministic pseudo-random data in 64 KiB chunks, generated lazily. */
async function* generated(total: number, seed: number): AsyncIterable<Uint8Array> {
  let state = seed >>> 0;
  for (let done = 0; done < total;) {
    const n = Math.min(65536, total - done);
    const chunk = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      chunk[i] = state >>> 24;
    }
    done += n;
    yield chunk;
  }
}

/** Every file under `dir`, relative paths, sorted. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

/** Every hash `blobs.list()` yields, sorted. */
async function listed(blobs: BlobStore): Promise<string[]> {
  const out: string[] = [];
  for await (const hash of blobs.list()) out.push(hash);
  return out.sort();
}

interface BlobFixture {
  readonly blobs: BlobStore;
  /** FsBlobStore only: its directory, and a way to reopen it. */
  readonly dir?: string;
  readonly reopen?: () => Promise<BlobStore>;
  readonly cleanup: () => Promise<void>;
}

function blobContract(name: string, make: () => Promise<BlobFixture>): void {
  describe(`BlobStore: ${name}`, () => {
    let fixture: BlobFixture;
    let blobs: BlobStore;
    beforeEach(async () => {
      fixture = await make();
      blobs = fixture.blobs;
    });
    afterEach(async () => {
      await fixture.cleanup();
    });

    it('stores bytes and strings under their SHA-256', async () => {
      const bytes = Uint8Array.from([0, 1, 2, 255, 254]);
      const ref = await blobs.put(bytes);
      assert.deepEqual(ref, { hash: sha256(bytes), size: 5 });
      assert.deepEqual(await blobs.getBytes(ref.hash), bytes);
      assert.equal(await blobs.size(ref.hash), 5);
      assert.equal(await blobs.has(ref.hash), true);
      assert.deepEqual(await readAll((await blobs.get(ref.hash)) as Readable), Buffer.from(bytes));

      const textRef = await blobs.put('BEGIN:VCALENDAR\r\nSUMMARY:café\r\n');
      assert.equal(textRef.hash, sha256('BEGIN:VCALENDAR\r\nSUMMARY:café\r\n'));
      assert.equal(textRef.size, Buffer.byteLength('BEGIN:VCALENDAR\r\nSUMMARY:café\r\n'));

      const empty = await blobs.put(new Uint8Array(0));
      assert.deepEqual(empty, { hash: sha256(''), size: 0 });
      assert.deepEqual(await blobs.getBytes(empty.hash), new Uint8Array(0));
    });

    it('answers undefined/false for absent content, and delete removes', async () => {
      const absent = sha256('never stored');
      assert.equal(await blobs.get(absent), undefined);
      assert.equal(await blobs.getBytes(absent), undefined);
      assert.equal(await blobs.size(absent), undefined);
      assert.equal(await blobs.has(absent), false);
      await blobs.delete(absent);
      const ref = await blobs.put('to delete');
      await blobs.delete(ref.hash);
      assert.equal(await blobs.has(ref.hash), false);
      assert.equal(await blobs.get(ref.hash), undefined);
    });

    it('lists every blob once, and deleted ones no more', async () => {
      assert.deepEqual(await listed(blobs), []);
      const refs = await Promise.all(['a', 'b', 'c'.repeat(300_000)].map((s) => blobs.put(s)));
      await blobs.put('a');
      const hashes = refs.map((r) => r.hash);
      assert.deepEqual(await listed(blobs), [...hashes].sort());
      await blobs.delete(hashes[1] as string);
      assert.deepEqual(await listed(blobs), [hashes[0], hashes[2]].sort());
    });

    it('keeps its own copy: changing the source afterwards changes nothing', async () => {
      const bytes = Uint8Array.from([1, 2, 3]);
      const ref = await blobs.put(bytes);
      bytes[0] = 9;
      assert.deepEqual(await blobs.getBytes(ref.hash), Uint8Array.from([1, 2, 3]));
    });

    it('streams a 20 MB source in and out', async function () {
      this.timeout(20000);
      const total = 20 * 1024 * 1024;
      const expected = createHash('sha256');
      for await (const chunk of generated(total, 7)) expected.update(chunk);
      const hash = expected.digest('hex');

      const ref = await blobs.put(Readable.from(generated(total, 7)));
      assert.deepEqual(ref, { hash, size: total });
      const back = createHash('sha256');
      let size = 0;
      for await (const chunk of (await blobs.get(ref.hash)) as Readable) {
        back.update(chunk as Buffer);
        size += (chunk as Buffer).byteLength;
      }
      assert.equal(size, total);
      assert.equal(back.digest('hex'), hash);
      // A plain async iterable works as well as a Readable.
      assert.deepEqual(await blobs.put(generated(total, 7)), ref);
    });

    it('accepts Readable streams in text mode', async () => {
      const ref = await blobs.put(Readable.from(['Subject: hi\r\n', '\r\n', 'body é\r\n']));
      assert.equal(ref.hash, sha256('Subject: hi\r\n\r\nbody é\r\n'));
    });

    it('deduplicates: the same content twice is stored once', async () => {
      const a = await blobs.put('same content');
      const b = await blobs.put(Readable.from([Buffer.from('same '), Buffer.from('content')]));
      assert.deepEqual(a, b);
      assert.equal(await blobs.size(a.hash), 12);
      if (fixture.dir !== undefined) {
        const hash = a.hash;
        assert.deepEqual(await filesUnder(fixture.dir), [
          join(hash.slice(0, 2), hash.slice(2, 4), hash),
        ]);
      }
    });

    it('serves byte ranges (end exclusive)', async () => {
      const ref = await blobs.put('0123456789');
      const range = async (start: number, end?: number): Promise<string> =>
        (
          await readAll(
            (await blobs.get(ref.hash, end === undefined ? { start } : { start, end })) as Readable,
          )
        ).toString();
      assert.equal(await range(0), '0123456789');
      assert.equal(await range(3), '3456789');
      assert.equal(await range(2, 5), '234');
      assert.equal(await range(9, 10), '9');
      assert.equal(await range(4, 4), '');
      assert.equal(await range(8, 100), '89');
      assert.equal(await range(10), '');
      assert.equal(await range(50), '');
      await assert.rejects(blobs.get(ref.hash, { start: -1 }), { code: 'invalid-argument' });
      await assert.rejects(blobs.get(ref.hash, { start: 5, end: 4 }), {
        code: 'invalid-argument',
      });
      await assert.rejects(blobs.get(ref.hash, { start: 0.5 }), { code: 'invalid-argument' });
    });

    it('aborts at maxSize and leaves nothing behind', async () => {
      const big = Buffer.alloc(300_000, 0x61);
      await assert.rejects(blobs.put(Readable.from(generated(300_000, 3)), { maxSize: 100_000 }), {
        name: 'CommuneError',
        code: 'too-large',
      });
      await assert.rejects(blobs.put(big, { maxSize: 299_999 }), { code: 'too-large' });
      assert.equal(await blobs.has(sha256(big)), false);
      if (fixture.dir !== undefined) assert.deepEqual(await filesUnder(fixture.dir), []);
      // Exactly at the limit is allowed.
      assert.equal((await blobs.put(big, { maxSize: 300_000 })).size, 300_000);
    });

    it('stops reading a source that is too large', async () => {
      let pulled = 0;
      async function* endless(): AsyncIterable<Uint8Array> {
        for (;;) {
          pulled++;
          yield new Uint8Array(1024);
        }
      }
      await assert.rejects(blobs.put(endless(), { maxSize: 10 * 1024 }), { code: 'too-large' });
      assert.equal(pulled, 11);
    });

    it('rejects invalid hashes, so no hash can name another path', async () => {
      const bad = [
        '',
        'abc',
        sha256('x').toUpperCase(),
        `${sha256('x')}0`,
        `../../${sha256('x').slice(6)}`,
        `${sha256('x').slice(0, 63)}/`,
        `${sha256('x').slice(0, 63)}g`,
      ];
      for (const hash of bad) {
        await assert.rejects(blobs.get(hash), { code: 'invalid-argument' }, hash);
        await assert.rejects(blobs.getBytes(hash), { code: 'invalid-argument' }, hash);
        await assert.rejects(blobs.size(hash), { code: 'invalid-argument' }, hash);
        await assert.rejects(blobs.has(hash), { code: 'invalid-argument' }, hash);
        await assert.rejects(blobs.delete(hash), { code: 'invalid-argument' }, hash);
      }
    });

    it('handles concurrent puts of the same content', async () => {
      const refs = await Promise.all(
        Array.from({ length: 10 }, () => blobs.put(Readable.from(generated(200_000, 11)))),
      );
      assert.equal(new Set(refs.map((r) => r.hash)).size, 1);
      const stored = await blobs.getBytes((refs[0] as { hash: string }).hash);
      assert.equal(sha256(stored as Uint8Array), refs[0]?.hash);
    });

    it('content survives close and reopen', async function () {
      if (!fixture.reopen) this.skip();
      const ref = await blobs.put('durable content');
      blobs = await fixture.reopen();
      assert.equal(
        Buffer.from((await blobs.getBytes(ref.hash)) as Uint8Array).toString(),
        'durable content',
      );
      assert.deepEqual(await blobs.put('durable content'), ref);
    });
  });
}

blobContract('memory', async () => {
  const blobs = new MemoryBlobStore();
  return { blobs, cleanup: () => blobs.close() };
});

blobContract('fs', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'commune-blobs-'));
  let current = await FsBlobStore.open(dir);
  return {
    blobs: current,
    dir,
    reopen: async () => {
      await current.close();
      current = await FsBlobStore.open(dir);
      return current;
    },
    cleanup: async () => {
      await current.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

describe('postgres blobs (PG_URL)', () => {
  requirePostgres();
  blobContract('postgres', async () => {
    const { schema, drop } = freshSchema();
    let current = await PgBlobStore.open({ url: PG_URL, schema });
    return {
      blobs: current,
      reopen: async () => {
        await current.close();
        current = await PgBlobStore.open({ url: PG_URL, schema });
        return current;
      },
      cleanup: async () => {
        await current.close();
        await drop();
      },
    };
  });
});

describe('postgres blob listing (PG_URL)', () => {
  requirePostgres();
  it('pages through more hashes than one round trip fetches', async function () {
    this.timeout(60_000);
    const { schema, drop } = freshSchema();
    const blobs = await PgBlobStore.open({ url: PG_URL, schema });
    try {
      const want: string[] = [];
      for (let i = 0; i < 1100; i += 50) {
        const refs = await Promise.all(
          Array.from({ length: 50 }, (_, j) => blobs.put(`blob ${i + j}`)),
        );
        want.push(...refs.map((r) => r.hash));
      }
      assert.deepEqual(await listed(blobs), want.sort());
    } finally {
      await blobs.close();
      await drop();
    }
  });
});

describe('FsBlobStore', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'commune-blobs-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('lays files out as ab/cd/<hash> and leaves no temp files', async () => {
    const blobs = await FsBlobStore.open(join(dir, 'blobs'));
    const ref = await blobs.put('layout');
    assert.deepEqual(await filesUnder(join(dir, 'blobs')), [
      join(ref.hash.slice(0, 2), ref.hash.slice(2, 4), ref.hash),
    ]);
    assert.deepEqual(await readdir(join(dir, 'blobs', 'tmp')), []);
    await blobs.close();
    await assert.rejects(blobs.put('after close'), { code: 'unavailable' });
  });

  it('stores again into a directory removed by hand, and replaces identical content', async () => {
    const blobs = await FsBlobStore.open(join(dir, 'blobs'));
    const ref = await blobs.put('again');
    await blobs.put('again'); // present: replaced by the same bytes
    assert.equal(Buffer.from((await blobs.getBytes(ref.hash)) ?? []).toString(), 'again');
    await rm(join(dir, 'blobs', ref.hash.slice(0, 2)), { recursive: true });
    assert.deepEqual(await blobs.put('again'), ref);
    assert.equal(Buffer.from((await blobs.getBytes(ref.hash)) ?? []).toString(), 'again');
    assert.deepEqual(await readdir(join(dir, 'blobs', 'tmp')), []);
  });

  it('lists only hashes filed under their own prefix, never temp files', async () => {
    const blobs = await FsBlobStore.open(join(dir, 'blobs'));
    const ref = await blobs.put('listed');
    const other = sha256('elsewhere');
    await mkdir(join(dir, 'blobs', 'ff', 'ff'), { recursive: true });
    await writeFile(join(dir, 'blobs', 'ff', 'ff', other), 'elsewhere');
    await writeFile(join(dir, 'blobs', 'tmp', `${sha256('temp')}`), 'temp');
    await writeFile(join(dir, 'blobs', ref.hash.slice(0, 2), 'stray'), 'x');
    assert.deepEqual(await listed(blobs), [ref.hash]);
  });

  it('fails to open on a file with a one-line reason naming the path', async () => {
    const blobs = await FsBlobStore.open(join(dir, 'x'));
    const ref = await blobs.put('file');
    const file = join(dir, 'x', ref.hash.slice(0, 2), ref.hash.slice(2, 4), ref.hash);
    await assert.rejects(FsBlobStore.open(file), {
      code: 'unavailable',
      message: `blob store at ${file} is not usable: not a directory`,
    });
  });
});
