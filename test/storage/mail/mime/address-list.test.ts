import assert from 'node:assert/strict';
import { parseAddressList } from '../../../../src/storage/mail/mime/address-list.ts';

describe('address lists (ENVELOPE addresses)', () => {
  it('parses names, quoted names, comments and bare addresses', () => {
    assert.deepEqual(
      parseAddressList('Terry Gray <gray@cac.washington.edu>, imap@cac.washington.edu'),
      [
        { name: 'Terry Gray', mailbox: 'gray', host: 'cac.washington.edu' },
        { name: null, mailbox: 'imap', host: 'cac.washington.edu' },
      ],
    );
    assert.deepEqual(parseAddressList('"Bob, the builder" <bob@example.test>'), [
      { name: 'Bob, the builder', mailbox: 'bob', host: 'example.test' },
    ]);
    assert.deepEqual(parseAddressList('"Quoted \\"Name\\"" <q@example.test>'), [
      { name: 'Quoted "Name"', mailbox: 'q', host: 'example.test' },
    ]);
    // A comment after a bare address is its name; one after an angle address is not.
    assert.deepEqual(parseAddressList('(comment) c@example.test (Cee), Sec <s@x.test> (boss)'), [
      { name: 'Cee', mailbox: 'c', host: 'example.test' },
      { name: 'Sec', mailbox: 's', host: 'x.test' },
    ]);
    assert.deepEqual(parseAddressList('John Q. Public <jqp@example.test>'), [
      { name: 'John Q. Public', mailbox: 'jqp', host: 'example.test' },
    ]);
  });

  it('keeps encoded words as written (clients decode them)', () => {
    assert.deepEqual(parseAddressList('=?UTF-8?Q?Andr=C3=A9?= <andre@example.test>'), [
      { name: '=?UTF-8?Q?Andr=C3=A9?=', mailbox: 'andre', host: 'example.test' },
    ]);
  });

  it('parses groups, empty groups and members', () => {
    assert.deepEqual(parseAddressList('undisclosed-recipients:;'), [
      { group: 'undisclosed-recipients', members: [] },
    ]);
    assert.deepEqual(
      parseAddressList('Team: a@example.test, "B. P" <b@example.test>;, c@example.test'),
      [
        {
          group: 'Team',
          members: [
            { name: null, mailbox: 'a', host: 'example.test' },
            { name: 'B. P', mailbox: 'b', host: 'example.test' },
          ],
        },
        { name: null, mailbox: 'c', host: 'example.test' },
      ],
    );
  });

  it('degrades broken addresses the way Dovecot shows them', () => {
    assert.deepEqual(parseAddressList('user'), [
      { name: null, mailbox: 'user', host: 'MISSING_DOMAIN' },
    ]);
    assert.deepEqual(parseAddressList('Foo Bar'), [
      { name: 'Foo Bar', mailbox: 'MISSING_MAILBOX', host: 'MISSING_DOMAIN' },
    ]);
    assert.deepEqual(parseAddressList('<>, "no addr" <>'), [
      { name: null, mailbox: 'MISSING_MAILBOX', host: 'MISSING_DOMAIN' },
      { name: 'no addr', mailbox: 'MISSING_MAILBOX', host: 'MISSING_DOMAIN' },
    ]);
    assert.deepEqual(parseAddressList('x@, @y, a@b (c) d'), [
      { name: null, mailbox: 'x', host: 'MISSING_DOMAIN' },
      { name: null, mailbox: 'MISSING_MAILBOX', host: 'y' },
      { name: 'c', mailbox: 'a', host: 'b' },
    ]);
    assert.deepEqual(parseAddressList('<bad@>'), [
      { name: null, mailbox: 'bad', host: 'SYNTAX_ERROR' },
    ]);
    assert.deepEqual(parseAddressList(''), []);
    assert.deepEqual(parseAddressList(' , ;'), []);
  });

  it('keeps the route of an obs-route address apart (the composer writes adl as NIL)', () => {
    assert.deepEqual(parseAddressList('<@route.example:a@b.example>'), [
      { name: null, mailbox: 'a', host: 'b.example', adl: '@route.example' },
    ]);
  });

  it('keeps quoted local parts quoted and domain literals', () => {
    assert.deepEqual(parseAddressList('"john doe"@[192.0.2.1]'), [
      { name: null, mailbox: '"john doe"', host: '[192.0.2.1]' },
    ]);
  });
});
