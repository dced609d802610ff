/** APPEND's line-end repair: bare LF becomes CRLF, everything else is kept byte for byte. */

import assert from 'node:assert/strict';
import { toCrlf } from '../../../../src/protocols/imap/commands/append.ts';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array): string => new TextDecoder().decode(b);

describe('APPEND toCrlf', () => {
  it('turns bare LF into CRLF', () => {
    assert.equal(text(toCrlf(bytes('a\nb\r\nc\n'))), 'a\r\nb\r\nc\r\n');
    assert.equal(text(toCrlf(bytes('\n\n'))), '\r\n\r\n');
  });

  it('returns CRLF input unchanged (the same bytes)', () => {
    const input = bytes('Subject: x\r\n\r\nbody\r\n');
    assert.equal(toCrlf(input), input);
  });

  it('leaves lone CR and 8-bit bytes alone', () => {
    assert.deepEqual(
      [...toCrlf(Uint8Array.of(0x61, 0x0d, 0xff, 0x0a))],
      [0x61, 0x0d, 0xff, 0x0d, 0x0a],
    );
  });
});
