import assert from 'node:assert/strict';
import {
  continuationChallenge,
  continuationResponse,
  taggedResponse,
  untaggedResponse,
} from '../../../../src/protocols/imap/compose/response-line.ts';
import { formatResponseCode } from '../../../../src/protocols/imap/compose/response-code.ts';
import { parseSequenceSet } from '../../../../src/protocols/imap/parser/sequence-set.ts';
import { wireText } from './wire-text.ts';

const set = (s: string) => parseSequenceSet(s) ?? { ranges: [], saved: false };

describe('imap status responses', () => {
  it('writes tagged and untagged status lines with response codes', () => {
    assert.equal(
      wireText(taggedResponse('a1', 'OK', 'LOGIN completed')),
      'a1 OK LOGIN completed\r\n',
    );
    assert.equal(
      wireText(taggedResponse('a2', 'OK', 'SELECT completed', 'READ-WRITE')),
      'a2 OK [READ-WRITE] SELECT completed\r\n',
    );
    assert.equal(
      wireText(taggedResponse('a3', 'NO', 'Too big', 'TOOBIG')),
      'a3 NO [TOOBIG] Too big\r\n',
    );
    assert.equal(
      wireText(untaggedResponse('OK', 'Predicted next UID', { code: 'UIDNEXT', value: 4392 })),
      '* OK [UIDNEXT 4392] Predicted next UID\r\n',
    );
    assert.equal(
      wireText(untaggedResponse('BYE', 'Server shutting down')),
      '* BYE Server shutting down\r\n',
    );
  });

  it('never lets text break the line', () => {
    assert.equal(
      wireText(taggedResponse('a', 'BAD', 'x\r\n* OK injected')),
      'a BAD x  * OK injected\r\n',
    );
    assert.equal(wireText(taggedResponse('a', 'OK', '')), 'a OK Completed\r\n');
  });

  it('formats every response code with arguments', () => {
    assert.equal(
      formatResponseCode({ code: 'CAPABILITY', capabilities: ['IMAP4rev1', 'IDLE'] }),
      'CAPABILITY IMAP4rev1 IDLE',
    );
    assert.equal(
      formatResponseCode({ code: 'PERMANENTFLAGS', flags: ['\\Seen', '\\*'] }),
      'PERMANENTFLAGS (\\Seen \\*)',
    );
    assert.equal(
      formatResponseCode({ code: 'BADCHARSET', charsets: ['UTF-8', 'US-ASCII'] }),
      'BADCHARSET (UTF-8 US-ASCII)',
    );
    assert.equal(formatResponseCode({ code: 'BADCHARSET', charsets: [] }), 'BADCHARSET');
    assert.equal(
      formatResponseCode({ code: 'UIDVALIDITY', value: 3857529045 }),
      'UIDVALIDITY 3857529045',
    );
    assert.equal(
      formatResponseCode({ code: 'HIGHESTMODSEQ', value: 715194045007n }),
      'HIGHESTMODSEQ 715194045007',
    );
    assert.equal(
      formatResponseCode({ code: 'APPENDUID', uidValidity: 38505, uids: set('3955') }),
      'APPENDUID 38505 3955',
    );
    assert.equal(
      formatResponseCode({
        code: 'COPYUID',
        uidValidity: 38505,
        source: set('304,319:320'),
        destination: set('3956:3958'),
      }),
      'COPYUID 38505 304,319:320 3956:3958',
    );
    assert.equal(formatResponseCode({ code: 'MODIFIED', set: set('7,9') }), 'MODIFIED 7,9');
    assert.equal(
      formatResponseCode({ code: 'MAILBOXID', id: 'F2212ea87-6097-4256' }),
      'MAILBOXID (F2212ea87-6097-4256)',
    );
    assert.equal(formatResponseCode('NOMODSEQ'), 'NOMODSEQ');
  });

  it('writes continuation requests and SASL challenges', () => {
    assert.equal(wireText(continuationResponse()), '+ Ready\r\n');
    assert.equal(wireText(continuationResponse('idling')), '+ idling\r\n');
    assert.equal(wireText(continuationChallenge(new Uint8Array(0))), '+ \r\n');
    assert.equal(
      wireText(continuationChallenge(new TextEncoder().encode('Username:'))),
      '+ VXNlcm5hbWU6\r\n',
    );
  });
});
