import assert from 'node:assert/strict';
import { MimeIndexer, indexMessage } from '../../../../src/storage/mail/mime/mime-indexer.ts';
import {
  resolveBody,
  resolvePart,
  sectionRange,
} from '../../../../src/storage/mail/mime/mime-part.ts';
import type { MimePart } from '../../../../src/storage/mail/mime/mime-part.ts';
import { selectHeaderFields } from '../../../../src/storage/mail/mime/header-fields.ts';
import { extractBodyText } from '../../../../src/storage/mail/mime/text-extractor.ts';
import { bodyStructureWire, envelopeWire, fixture, fixtureNames, toCrlf } from './mime-fixtures.ts';

/** A small deterministic PRNG (mulberry32), so failures reproduce from the seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TOKENS = [
  '\r\n',
  '\n',
  '--',
  '--b',
  '--b--',
  'Content-Type: multipart/mixed; boundary=b\r\n',
  'Content-Type: message/rfc822\r\n',
  'Content-Type: text/plain; charset=utf-8\r\n',
  'Content-Transfer-Encoding: base64\r\n',
  'Subject: =?UTF-8?B?w4k=?=\r\n',
  'From: "a" <b@c>, group: x@y;\r\n',
  ' folded\r\n',
  ':',
  '"',
  '(',
  '=?',
  '\u00e9',
  '\0',
];

function mutate(base: Uint8Array, rnd: () => number): Uint8Array {
  const bytes = Array.from(base);
  const edits = 1 + Math.floor(rnd() * 8);
  for (let i = 0; i < edits; i++) {
    const at = Math.floor(rnd() * (bytes.length + 1));
    const what = rnd();
    if (what < 0.3) bytes.splice(at, Math.floor(rnd() * 20));
    else if (what < 0.6)
      bytes.splice(at, 0, ...Buffer.from(TOKENS[Math.floor(rnd() * TOKENS.length)] as string));
    else if (what < 0.8 && bytes.length > 0) bytes[at % bytes.length] = Math.floor(rnd() * 256);
    else
      bytes.splice(
        at,
        0,
        ...bytes.slice(Math.floor(rnd() * bytes.length), Math.floor(rnd() * bytes.length)),
      );
  }
  return Uint8Array.from(bytes);
}

function randomMessage(rnd: () => number): Uint8Array {
  let s = '';
  const n = Math.floor(rnd() * 40);
  for (let i = 0; i < n; i++) s += TOKENS[Math.floor(rnd() * TOKENS.length)];
  return new Uint8Array(Buffer.from(s, 'latin1'));
}

function checkTree(p: MimePart, size: number): void {
  assert.ok(0 <= p.h && p.h <= p.b && p.b <= p.e && p.e <= size, JSON.stringify(p));
  for (const c of p.c ?? []) checkTree(c, size);
  if (p.m !== undefined) checkTree(p.m, size);
}

describe('MIME indexer fuzz', function () {
  this.timeout(30_000);

  it('never throws on random and mutated messages (~5 s), offsets stay in bounds', async () => {
    const seeds = fixtureNames().map((n) => toCrlf(fixture(n)));
    const rnd = prng(0xc0ffee);
    const deadline = Date.now() + 5000;
    let runs = 0;
    while (Date.now() < deadline) {
      const base = seeds[runs % seeds.length] as Uint8Array;
      const input = runs % 5 === 0 ? randomMessage(rnd) : mutate(base, rnd);
      const index =
        runs % 3 === 0
          ? indexMessage(input)
          : (() => {
              const ix = new MimeIndexer();
              for (let i = 0; i < input.length;) {
                const step = 1 + Math.floor(rnd() * 50);
                ix.write(input.subarray(i, i + step));
                i += step;
              }
              return ix.finish();
            })();
      assert.equal(index.size, input.length);
      checkTree(index.parts, input.length);
      bodyStructureWire(index.body);
      envelopeWire(index.envelope);
      for (const path of [[], [1], [2], [1, 1], [2, 1], [1, 2, 3]]) {
        assert.equal(
          resolvePart(index.parts, path) === undefined,
          resolveBody(index.body, path) === undefined,
        );
        for (const kind of ['BODY', 'MIME', 'HEADER', 'TEXT'] as const) {
          const r = sectionRange(index.parts, path, kind);
          if (r !== null) assert.ok(r.start <= r.end && r.end <= input.length);
          if (r !== null && kind === 'HEADER')
            selectHeaderFields(input.subarray(r.start, r.end), ['from'], runs % 2 === 0);
        }
      }
      if (runs % 10 === 0)
        await extractBodyText(index.body, index.parts, async (s, e) => input.subarray(s, e));
      runs++;
    }
    assert.ok(runs > 100, `only ${runs} runs`);
  });
});
