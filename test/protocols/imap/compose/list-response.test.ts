import assert from 'node:assert/strict';
import { listResponse } from '../../../../src/protocols/imap/compose/list-response.ts';
import { wireText } from './wire-text.ts';

describe('imap LIST / LSUB response composition', () => {
  it('writes attributes, delimiter and the mailbox name', () => {
    assert.equal(
      wireText(listResponse({ name: 'INBOX', delimiter: '/', attributes: ['\\HasNoChildren'] })),
      '* LIST (\\HasNoChildren) "/" INBOX\r\n',
    );
    assert.equal(
      wireText(
        listResponse({
          name: 'Sent Items',
          delimiter: '/',
          attributes: ['\\HasNoChildren', '\\Sent'],
        }),
      ),
      '* LIST (\\HasNoChildren \\Sent) "/" "Sent Items"\r\n',
    );
    assert.equal(
      wireText(listResponse({ name: '', delimiter: '/', attributes: ['\\Noselect'] })),
      '* LIST (\\Noselect) "/" ""\r\n',
    );
    assert.equal(
      wireText(listResponse({ name: 'flat', delimiter: null, attributes: [] })),
      '* LIST () NIL "flat"\r\n',
    );
    assert.equal(
      wireText(listResponse({ name: 'a', delimiter: '\\', attributes: [] })),
      '* LIST () "\\\\" "a"\r\n',
    );
  });

  it('encodes names in modified UTF-7 unless UTF8=ACCEPT', () => {
    const entry = { name: 'Entwürfe', delimiter: '/', attributes: ['\\Drafts'] };
    assert.equal(wireText(listResponse(entry)), '* LIST (\\Drafts) "/" "Entw&APw-rfe"\r\n');
    assert.equal(
      wireText(listResponse(entry, { utf8: true })),
      '* LIST (\\Drafts) "/" "Entwürfe"\r\n',
    );
    assert.equal(
      wireText(listResponse({ name: 'Tom & "Jerry"', delimiter: '/', attributes: [] })),
      '* LIST () "/" "Tom &- \\"Jerry\\""\r\n',
    );
  });

  it('writes CHILDINFO and OLDNAME extended data', () => {
    assert.equal(
      wireText(
        listResponse({
          name: 'Foo',
          delimiter: '/',
          attributes: ['\\NonExistent'],
          childInfo: ['SUBSCRIBED'],
        }),
      ),
      '* LIST (\\NonExistent) "/" "Foo" ("CHILDINFO" ("SUBSCRIBED"))\r\n',
    );
    assert.equal(
      wireText(
        listResponse({
          name: 'New',
          delimiter: '/',
          attributes: [],
          oldName: 'Old',
          childInfo: ['SUBSCRIBED'],
        }),
      ),
      '* LIST () "/" "New" ("CHILDINFO" ("SUBSCRIBED") "OLDNAME" ("Old"))\r\n',
    );
  });

  it('writes LSUB', () => {
    assert.equal(
      wireText(
        listResponse({ name: 'Lists/imap', delimiter: '/', attributes: [] }, undefined, 'LSUB'),
      ),
      '* LSUB () "/" "Lists/imap"\r\n',
    );
  });
});
