import assert from 'node:assert/strict';
import { MimeIndexer, indexMessage } from '../../../../src/storage/mail/mime/mime-indexer.ts';
import type { MessageIndex } from '../../../../src/storage/mail/mime/mime-indexer.ts';
import { sectionRange } from '../../../../src/storage/mail/mime/mime-part.ts';
import type { MimePart, SectionKind } from '../../../../src/storage/mail/mime/mime-part.ts';
import { selectHeaderFields } from '../../../../src/storage/mail/mime/header-fields.ts';
import type { BodyStructure } from '../../../../src/protocols/imap/compose/body-structure.ts';
import { DOVECOT_GOLDENS } from './dovecot-goldens.ts';
import {
  bodyStructureWire,
  bytesOf,
  envelopeWire,
  fixture,
  fixtureNames,
  text,
  toCrlf,
  toLf,
} from './mime-fixtures.ts';

/** Where we knowingly differ from Dovecot: the composer writes one language as a string. */
const KNOWN_DEVIATIONS: Readonly<Record<string, (golden: string) => string>> = {
  'rfc2231-params.eml': (g) => g.replace('("fr") NIL', '"fr" NIL'),
};

/** Bytes of a golden section name such as "2.1.MIME" or "HEADER.FIELDS (FROM SUBJECT)". */
function section(bytes: Uint8Array, parts: MimePart, spec: string): string {
  const m =
    /^(?:([\d.]*\d)\.?)?(HEADER\.FIELDS\.NOT|HEADER\.FIELDS|HEADER|TEXT|MIME)?(?: \((.*)\))?$/.exec(
      spec,
    );
  assert.ok(m, spec);
  const path = m[1] === undefined ? [] : m[1].split('.').map(Number);
  const kind = m[2] ?? 'BODY';
  const range = sectionRange(
    parts,
    path,
    (kind.startsWith('HEADER') ? 'HEADER' : kind) as SectionKind,
  );
  if (range === null) return '';
  const data = bytes.subarray(range.start, range.end);
  if (!kind.startsWith('HEADER.FIELDS')) return text(data);
  return text(selectHeaderFields(data, (m[3] ?? '').split(' '), kind.endsWith('.NOT')));
}

/** The structure with sizes blanked (sizes differ between LF and CRLF storage). */
function shape(body: BodyStructure): unknown {
  if (body.kind === 'multipart') return { ...body, parts: body.parts.map(shape) };
  return {
    ...body,
    size: 0,
    message:
      body.message === null
        ? null
        : { envelope: body.message.envelope, body: shape(body.message.body) },
  };
}

function sameIndex(a: MessageIndex, b: MessageIndex): void {
  assert.deepEqual(a.parts, b.parts);
  assert.deepEqual(a.body, b.body);
  assert.deepEqual(a.envelope, b.envelope);
  assert.equal(a.size, b.size);
}

describe('MIME indexer', () => {
  describe('matches Dovecot on every fixture (CRLF)', () => {
    for (const name of fixtureNames()) {
      it(name, () => {
        const golden = DOVECOT_GOLDENS[name];
        assert.ok(golden, `no golden for ${name}`);
        const bytes = toCrlf(fixture(name));
        const index = indexMessage(bytes);
        const fix = KNOWN_DEVIATIONS[name] ?? ((g: string) => g);
        assert.equal(index.size, golden.size);
        assert.equal(bodyStructureWire(index.body), fix(golden.bodystructure));
        // Dovecot writes BODY lower-cased in places; the structure is the same.
        assert.equal(bodyStructureWire(index.body, false).toLowerCase(), golden.body.toLowerCase());
        assert.equal(envelopeWire(index.envelope), golden.envelope);
        for (const [spec, expected] of Object.entries(golden.sections)) {
          assert.equal(section(bytes, index.parts, spec), expected, `BODY[${spec}]`);
        }
      });
    }
  });

  it('indexes LF-only storage byte-exact: same structure and lines, sections map to CRLF', () => {
    for (const name of fixtureNames()) {
      const crlf = toCrlf(fixture(name));
      const lf = toLf(crlf);
      const a = indexMessage(crlf);
      const b = indexMessage(lf);
      assert.deepEqual(shape(b.body), shape(a.body), name);
      assert.deepEqual(shape(indexMessage(fixture(name)).body), shape(a.body), `${name} as stored`);
      assert.equal(b.size, lf.length);
      for (const spec of Object.keys(DOVECOT_GOLDENS[name]?.sections ?? {})) {
        assert.equal(
          text(toCrlf(bytesOf(section(lf, b.parts, spec)))),
          section(crlf, a.parts, spec),
          `${name} ${spec}`,
        );
      }
    }
  });

  it('gives the same index whatever the chunking', () => {
    for (const name of fixtureNames()) {
      const bytes = toCrlf(fixture(name));
      const whole = indexMessage(bytes);
      for (const size of [1, 2, 3, 7, 64]) {
        const indexer = new MimeIndexer();
        for (let i = 0; i < bytes.length; i += size) indexer.write(bytes.subarray(i, i + size));
        sameIndex(indexer.finish(), whole);
      }
    }
  });

  it('keeps the sizes of the utf8 (LF) fixture in stored octets', () => {
    const bytes = fixture('utf8-headers.eml');
    const index = indexMessage(bytes);
    assert.equal(index.size, bytes.length);
    assert.equal(
      bodyStructureWire(index.body),
      '("text" "plain" ("charset" "utf-8") NIL NIL "8bit" 31 2 NIL NIL NIL NIL)',
    );
    assert.equal(index.envelope.subject, 'Grüße aus Köln ✓');
    assert.deepEqual(index.envelope.from, [
      { name: 'Jürgen Müller', mailbox: 'juergen', host: 'example.test' },
    ]);
  });

  it('bounds nesting depth: deeper multiparts are opaque', () => {
    let msg = '';
    const depth = 70;
    for (let i = 0; i < depth; i++)
      msg += `Content-Type: multipart/mixed; boundary=b${i}\r\n\r\n--b${i}\r\n`;
    msg += 'Content-Type: text/plain\r\n\r\ndeep\r\n';
    for (let i = depth - 1; i >= 0; i--) msg += `--b${i}--\r\n`;
    const index = indexMessage(bytesOf(msg), { maxDepth: 50 });
    let levels = 0;
    let node: BodyStructure = index.body;
    while (node.kind === 'multipart') {
      levels++;
      node = node.parts[0] as BodyStructure;
    }
    assert.equal(levels, 50);
    assert.equal(
      node.kind === 'part' && `${node.type}/${node.subtype}`,
      'application/octet-stream',
    );
    assert.equal(index.parts.e, msg.length);
  });

  it('bounds the number of parts: the rest belongs to the last part', () => {
    let msg = 'Content-Type: multipart/mixed; boundary=x\r\n\r\n';
    for (let i = 0; i < 50; i++) msg += `--x\r\n\r\npart ${i}\r\n`;
    msg += '--x--\r\n';
    const index = indexMessage(bytesOf(msg), { maxParts: 10 });
    assert.equal(index.body.kind, 'multipart');
    assert.equal(index.body.kind === 'multipart' && index.body.parts.length, 9);
    const last = index.parts.c?.[8];
    assert.ok(last !== undefined && last.e === msg.length);
  });

  it('keeps offsets exact past the header size limit', () => {
    const big = 'X-Big: ' + 'a'.repeat(5000) + '\r\n';
    const msg = `Subject: s\r\n${big}To: t@example.test\r\n\r\nbody\r\n`;
    const index = indexMessage(bytesOf(msg), { maxHeaderBytes: 100 });
    assert.equal(index.parts.b, msg.indexOf('body'));
    assert.equal(index.envelope.subject, 's');
    assert.equal(index.envelope.to, null, 'fields past the limit are not parsed');
  });
});
