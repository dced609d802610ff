import assert from 'node:assert/strict';
import {
  decodeModifiedUtf7,
  encodeModifiedUtf7,
} from '../../../../src/protocols/imap/parser/modified-utf7.ts';

describe('imap modified UTF-7', () => {
  const pairs: readonly (readonly [string, string])[] = [
    ['INBOX', 'INBOX'],
    ['', ''],
    ['&', '&-'],
    ['Tom & Jerry', 'Tom &- Jerry'],
    ['~peter/mail/台北/日本語', '~peter/mail/&U,BTFw-/&ZeVnLIqe-'],
    ['Entwürfe', 'Entw&APw-rfe'],
    ['Gelöschte Elemente', 'Gel&APY-schte Elemente'],
    ['Отправленные', '&BB4EQgQ,BEAEMAQyBDsENQQ9BD0ESwQ1-'],
    ['😀', '&2D3eAA-'],
    ['a😀b&c', 'a&2D3eAA-b&-c'],
    ['tab\there', 'tab&AAk-here'],
    ['ü&ü', '&APw-&-&APw-'],
  ];

  it('encodes and decodes the RFC 3501 §5.1.3 forms', () => {
    for (const [text, wire] of pairs) {
      assert.equal(encodeModifiedUtf7(text), wire, text);
      assert.equal(decodeModifiedUtf7(wire), text, wire);
    }
  });

  it('round-trips every BMP and some astral code points', () => {
    let text = '';
    for (let c = 0x20; c < 0xd800; c += 37) text += String.fromCharCode(c);
    for (let c = 0xe000; c < 0x10000; c += 41) text += String.fromCharCode(c);
    for (const c of [0x10000, 0x1f600, 0x10ffff]) text += String.fromCodePoint(c);
    assert.equal(decodeModifiedUtf7(encodeModifiedUtf7(text)), text);
  });

  it('rejects malformed input', () => {
    for (const bad of [
      '&U,BTFw', // unterminated
      '&Jjo!-', // not base64
      '&AGE-', // shifted printable ASCII ("a")
      '&AP-', // odd byte count
      '&2D0-', // truncated / unpaired high surrogate
      '&3gA-', // lone low surrogate
      '&APx-', // non-zero padding bits
      'Entwürfe', // 8-bit
      'a\nb', // control
    ]) {
      assert.equal(decodeModifiedUtf7(bad), undefined, bad);
    }
  });
});
