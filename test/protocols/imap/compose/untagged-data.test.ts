import assert from 'node:assert/strict';
import {
  capabilityResponse,
  enabledResponse,
  existsResponse,
  expungeResponse,
  flagsResponse,
  idResponse,
  namespaceResponse,
  quotaResponse,
  quotaRootResponse,
  recentResponse,
  searchResponse,
} from '../../../../src/protocols/imap/compose/untagged-data.ts';
import { wireText } from './wire-text.ts';

describe('imap untagged data responses', () => {
  it('writes mailbox size and flag updates', () => {
    assert.equal(wireText(existsResponse(23)), '* 23 EXISTS\r\n');
    assert.equal(wireText(recentResponse(0)), '* 0 RECENT\r\n');
    assert.equal(wireText(expungeResponse(3)), '* 3 EXPUNGE\r\n');
    assert.equal(
      wireText(flagsResponse(['\\Answered', '\\Flagged', '\\Deleted', '\\Seen', '\\Draft'])),
      '* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n',
    );
  });

  it('writes CAPABILITY and ENABLED', () => {
    assert.equal(
      wireText(capabilityResponse(['IMAP4rev1', 'IMAP4rev2', 'AUTH=PLAIN', 'LITERAL+'])),
      '* CAPABILITY IMAP4rev1 IMAP4rev2 AUTH=PLAIN LITERAL+\r\n',
    );
    assert.equal(wireText(enabledResponse(['CONDSTORE'])), '* ENABLED CONDSTORE\r\n');
    assert.equal(wireText(enabledResponse([])), '* ENABLED\r\n');
  });

  it('writes SEARCH, with MODSEQ only when something matched', () => {
    assert.equal(wireText(searchResponse([2, 84, 882])), '* SEARCH 2 84 882\r\n');
    assert.equal(wireText(searchResponse([])), '* SEARCH\r\n');
    assert.equal(
      wireText(searchResponse([2, 5], 917162500n)),
      '* SEARCH 2 5 (MODSEQ 917162500)\r\n',
    );
    assert.equal(wireText(searchResponse([], 917162500n)), '* SEARCH\r\n');
  });

  it('writes NAMESPACE', () => {
    assert.equal(
      wireText(
        namespaceResponse([{ prefix: '', delimiter: '/' }], null, [
          { prefix: 'Öffentlich/', delimiter: '/' },
        ]),
      ),
      '* NAMESPACE (("" "/")) NIL (("&ANY-ffentlich/" "/"))\r\n',
    );
  });

  it('writes ID', () => {
    assert.equal(
      wireText(
        idResponse([
          { field: 'name', value: 'Commune' },
          { field: 'support-url', value: null },
        ]),
      ),
      '* ID ("name" "Commune" "support-url" NIL)\r\n',
    );
    assert.equal(wireText(idResponse(null)), '* ID NIL\r\n');
  });

  it('writes QUOTA and QUOTAROOT', () => {
    assert.equal(
      wireText(
        quotaResponse('', [
          { name: 'STORAGE', usage: 10, limit: 512 },
          { name: 'MESSAGE', usage: 3n, limit: 1000n },
        ]),
      ),
      '* QUOTA "" (STORAGE 10 512 MESSAGE 3 1000)\r\n',
    );
    assert.equal(wireText(quotaRootResponse('INBOX', [''])), '* QUOTAROOT INBOX ""\r\n');
    assert.equal(wireText(quotaRootResponse('Entwürfe', [])), '* QUOTAROOT "Entw&APw-rfe"\r\n');
  });
});
