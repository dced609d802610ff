import assert from 'node:assert/strict';
import { DavError } from '../../../src/protocols/dav/dav-error.ts';
import { parseIfHeader, submittedTokens } from '../../../src/protocols/dav/if-header.ts';

const is400 = (err: unknown) => err instanceof DavError && err.status === 400;

describe('If header', () => {
  it('parses untagged lists with tokens, entity tags and Not', () => {
    const lists = parseIfHeader('(<urn:uuid:a> ["etag1"]) (Not <DAV:no-lock> [W/"weak"])');
    assert.deepEqual(lists, [
      {
        resource: undefined,
        conditions: [
          { not: false, token: 'urn:uuid:a' },
          { not: false, etag: '"etag1"' },
        ],
      },
      {
        resource: undefined,
        conditions: [
          { not: true, token: 'DAV:no-lock' },
          { not: false, etag: 'W/"weak"' },
        ],
      },
    ]);
    assert.deepEqual([...submittedTokens(lists)], ['urn:uuid:a']);
  });

  it('parses tagged lists, several per resource', () => {
    const lists = parseIfHeader('<http://h/a> (<urn:uuid:1>) (["x"]) </b> (NOT <urn:uuid:2>)');
    assert.deepEqual(
      lists.map((l) => [l.resource, l.conditions.length]),
      [
        ['http://h/a', 1],
        ['http://h/a', 1],
        ['/b', 1],
      ],
    );
    assert.deepEqual([...submittedTokens(lists)], ['urn:uuid:1']);
  });

  it('refuses malformed headers', () => {
    for (const bad of [
      '',
      '()',
      '(<a>',
      '<a>',
      '(<a>) <b> (<c>)',
      '([noquotes])',
      '(foo)',
      '(<>)',
    ]) {
      assert.throws(() => parseIfHeader(bad), is400, JSON.stringify(bad));
    }
  });
});
