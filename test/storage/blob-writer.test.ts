import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlobWriter, blobPath } from '../../src/storage/blob-writer.ts';

const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

describe('BlobWriter (the blob writer thread)', () => {
  let dir: string;
  let writer: BlobWriter;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'commune-blob-writer-'));
    await mkdir(join(dir, 'tmp'));
    writer = new BlobWriter(dir);
  });
  afterEach(async () => {
    await writer.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('writes shared-memory and ordinary chunks, in order, under their hash', async () => {
    const shared = Buffer.from(new SharedArrayBuffer(300_000));
    shared.fill('s');
    const plain = Buffer.alloc(70_000, 'p');
    const whole = Buffer.concat([shared, plain, shared]);
    const ref = await writer.put(
      (async function* () {
        yield shared;
        yield plain;
        yield shared;
      })(),
      undefined,
    );
    assert.deepEqual(ref, { hash: sha256(whole), size: whole.length });
    assert.ok((await readFile(blobPath(dir, ref.hash))).equals(whole));
    assert.deepEqual(await readdir(join(dir, 'tmp')), []);
  });

  it('streams 40 MB in 1 MB chunks (one buffer, reused by the source)', async () => {
    const chunk = Buffer.alloc(1 << 20, 'z');
    const ref = await writer.put(
      (async function* () {
        for (let i = 0; i < 40; i++) {
          chunk[0] = i;
          yield chunk;
        }
      })(),
      undefined,
    );
    assert.equal(ref.size, 40 << 20);
    const file = await readFile(blobPath(dir, ref.hash));
    assert.equal(file.length, 40 << 20);
    // Each chunk was copied when handed over, before the source changed it.
    for (let i = 0; i < 40; i++) assert.equal(file[i << 20], i);
  });

  it('fails a put whose file cannot be written, with the error code, and goes on', async () => {
    await rm(join(dir, 'tmp'), { recursive: true });
    await assert.rejects(writer.put(Buffer.alloc(10, 1), undefined), { code: 'ENOENT' });
    await mkdir(join(dir, 'tmp'));
    const ref = await writer.put(Buffer.from('after'), undefined);
    assert.equal(ref.hash, sha256(Buffer.from('after')));
  });

  it('stops at maxSize, leaving no temp file', async () => {
    await assert.rejects(
      writer.put(
        (async function* () {
          for (let i = 0; i < 10; i++) yield Buffer.alloc(1000, i);
        })(),
        4500,
      ),
      { code: 'too-large' },
    );
    // The thread removes the temp file before it answers the abort.
    assert.deepEqual(await readdir(join(dir, 'tmp')), []);
  });

  it('fails a put in progress when the thread is stopped, instead of leaving it hanging', async () => {
    let sent!: () => void;
    const firstSent = new Promise<void>((resolve) => {
      sent = resolve;
    });
    const pending = writer.put(
      (async function* () {
        yield Buffer.alloc(1000, 1);
        sent();
        await new Promise((r) => setTimeout(r, 200));
        yield Buffer.alloc(1000, 2);
      })(),
      undefined,
    );
    const rejected = assert.rejects(pending, { code: 'unavailable' });
    await firstSent;
    await writer.close();
    await rejected;
  });

  it('starts a new thread after close', async () => {
    await writer.put(Buffer.from('one'), undefined);
    await writer.close();
    const ref = await writer.put(Buffer.from('two'), undefined);
    assert.equal(ref.size, 3);
  });
});
