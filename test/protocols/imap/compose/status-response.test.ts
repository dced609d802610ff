import assert from 'node:assert/strict';
import { statusResponse } from '../../../../src/protocols/imap/compose/status-response.ts';
import { wireText } from './wire-text.ts';

describe('imap STATUS response composition', () => {
  it('writes items in the order given', () => {
    assert.equal(
      wireText(
        statusResponse('blurdybloop', [
          ['MESSAGES', 231],
          ['UIDNEXT', 44292],
          ['SIZE', 1234567],
          ['HIGHESTMODSEQ', 7011231777n],
          ['APPENDLIMIT', null],
          ['MAILBOXID', 'F2212ea87-6097-4256-9d51-71338625'],
        ]),
      ),
      '* STATUS "blurdybloop" (MESSAGES 231 UIDNEXT 44292 SIZE 1234567 HIGHESTMODSEQ 7011231777 ' +
        'APPENDLIMIT NIL MAILBOXID (F2212ea87-6097-4256-9d51-71338625))\r\n',
    );
  });

  it('encodes the mailbox name', () => {
    assert.equal(
      wireText(statusResponse('INBOX', [['UNSEEN', 0]])),
      '* STATUS INBOX (UNSEEN 0)\r\n',
    );
    assert.equal(
      wireText(statusResponse('Gelöscht', [['DELETED', 2]])),
      '* STATUS "Gel&APY-scht" (DELETED 2)\r\n',
    );
    assert.equal(
      wireText(statusResponse('Gelöscht', [], { utf8: true })),
      '* STATUS "Gelöscht" ()\r\n',
    );
  });
});
