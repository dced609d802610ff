import assert from 'node:assert/strict';
import { decodeEncodedWords } from '../../../../src/storage/mail/mime/encoded-words.ts';

describe('RFC 2047 encoded words', () => {
  it('decodes B and Q words in any charset', () => {
    assert.equal(decodeEncodedWords('=?UTF-8?B?w4lsb2RpZQ==?='), 'Élodie');
    assert.equal(decodeEncodedWords('=?ISO-8859-1?Q?Keld_J=F8rn_Simonsen?='), 'Keld Jørn Simonsen');
    assert.equal(decodeEncodedWords('Caf=?ISO-8859-1?Q?=E9?= plans'), 'Café plans');
    assert.equal(decodeEncodedWords('=?iso-2022-jp?B?GyRCJEskWyRzGyhC?='), 'にほん');
  });

  it('drops whitespace between adjacent words and joins split characters', () => {
    assert.equal(
      decodeEncodedWords('=?UTF-8?B?SGVsbG8g?= =?UTF-8?B?V29ybGQg4pyT?= and more'),
      'Hello World ✓ and more',
    );
    // "✓" (e2 9c 93) split over two words.
    assert.equal(decodeEncodedWords('=?UTF-8?Q?=E2=9C?=\r\n =?UTF-8?Q?=93?='), '✓');
    assert.equal(decodeEncodedWords('=?UTF-8*en?Q?a?= b'), 'a b');
  });

  it('leaves unknown charsets, bad syntax and plain text alone', () => {
    assert.equal(decodeEncodedWords('=?x-nope?Q?abc?='), '=?x-nope?Q?abc?=');
    assert.equal(decodeEncodedWords('=?UTF-8?X?abc?='), '=?UTF-8?X?abc?=');
    assert.equal(decodeEncodedWords('plain = text ?'), 'plain = text ?');
  });
});
