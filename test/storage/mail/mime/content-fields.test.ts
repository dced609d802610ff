import assert from 'node:assert/strict';
import {
  parseContentType,
  parseDisposition,
  parseEncoding,
  parseLanguage,
} from '../../../../src/storage/mail/mime/content-fields.ts';

describe('MIME content fields', () => {
  it('parses type, subtype and parameters, keeping case and order', () => {
    assert.deepEqual(parseContentType('TEXT/Plain; Charset="ISO-8859-1"; Foo=Bar'), {
      type: 'TEXT',
      subtype: 'Plain',
      params: [
        ['Charset', 'ISO-8859-1'],
        ['Foo', 'Bar'],
      ],
    });
    assert.deepEqual(
      parseContentType(' multipart / mixed (c) ;\r\n boundary="=_a;b" ; x=1')?.params,
      [
        ['boundary', '=_a;b'],
        ['x', '1'],
      ],
    );
  });

  it('drops empty and malformed parameters, unescapes quoted values', () => {
    assert.deepEqual(
      parseContentType('text/plain; charset=utf-8; ; empty=; "q"=x; name="a\\"b"')?.params,
      [
        ['charset', 'utf-8'],
        ['name', 'a"b'],
      ],
    );
  });

  it('refuses values that are not type/subtype', () => {
    assert.equal(parseContentType('garbage'), null);
    assert.equal(parseContentType('text'), null);
    assert.equal(parseContentType('/plain'), null);
  });

  it('joins RFC 2231 continuations like Dovecot', () => {
    assert.deepEqual(parseContentType('text/plain; name*1="-name.txt"; name*0="long"')?.params, [
      ['name', 'long-name.txt'],
    ]);
    assert.deepEqual(
      parseDisposition('attachment; filename*0*=UTF-8\'\'%E2%82%AC; filename*1=" x"'),
      {
        type: 'attachment',
        params: [['filename*', "UTF-8''%E2%82%AC x"]],
      },
    );
  });

  it('parses language lists and encodings', () => {
    assert.deepEqual(parseLanguage('(comment) en-US , fr'), ['en-US', 'fr']);
    assert.equal(parseLanguage(' '), null);
    assert.equal(parseEncoding('BASE64 (comment)'), 'BASE64');
    assert.equal(parseEncoding(null), '7bit');
    assert.equal(parseDisposition(''), null);
  });
});
