import assert from 'node:assert/strict';
import { renderEnvelope, writeEnvelope } from '../../../../src/protocols/imap/compose/envelope.ts';
import type { Envelope } from '../../../../src/protocols/imap/compose/envelope.ts';
import { ResponseWriter } from '../../../../src/protocols/imap/compose/response-writer.ts';
import { RFC_ENVELOPE, RFC_ENVELOPE_WIRE } from './fixtures.ts';
import { wireText } from './wire-text.ts';

function envelopeWire(envelope: Envelope, utf8 = false): string {
  const w = new ResponseWriter({ utf8 });
  writeEnvelope(w, envelope);
  return wireText(w.parts());
}

describe('imap ENVELOPE composition', () => {
  it('matches the RFC example, with sender and reply-to defaulting to from', () => {
    assert.equal(envelopeWire(RFC_ENVELOPE), RFC_ENVELOPE_WIRE);
  });

  it('writes NIL for absent fields and empty address lists', () => {
    const empty: Envelope = {
      date: null,
      subject: null,
      from: [],
      sender: null,
      replyTo: null,
      to: null,
      cc: null,
      bcc: null,
      inReplyTo: null,
      messageId: null,
    };
    assert.equal(envelopeWire(empty), '(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)');
  });

  it('writes groups with start and end markers', () => {
    const wire = envelopeWire({
      ...RFC_ENVELOPE,
      to: [
        { group: 'Team', members: [{ name: null, mailbox: 'a', host: 'x.org' }] },
        { group: 'Empty', members: [] },
      ],
    });
    assert.ok(
      wire.includes(
        '((NIL NIL "Team" NIL)(NIL NIL "a" "x.org")(NIL NIL NIL NIL)(NIL NIL "Empty" NIL)(NIL NIL NIL NIL))',
      ),
      wire,
    );
  });

  it('sends 8-bit header text as a literal unless UTF8=ACCEPT', () => {
    const envelope = { ...RFC_ENVELOPE, subject: 'Grüße "aus" Köln' };
    assert.ok(envelopeWire(envelope).includes(' {19}\r\nGrüße "aus" Köln ('));
    assert.ok(envelopeWire(envelope, true).includes(' "Grüße \\"aus\\" Köln" ('));
  });

  it('renders an envelope as reusable text unless it needs a literal', () => {
    const rendered = (envelope: Envelope, utf8: boolean): string | undefined => {
      const wire = renderEnvelope(envelope, { utf8 });
      return wire === undefined ? undefined : wireText(wire);
    };
    assert.equal(rendered(RFC_ENVELOPE, false), RFC_ENVELOPE_WIRE);
    const accented = { ...RFC_ENVELOPE, subject: 'Café' };
    assert.equal(rendered(accented, false), undefined);
    assert.equal(rendered(accented, true), envelopeWire(accented, true));
    assert.equal(renderEnvelope({ ...RFC_ENVELOPE, subject: 'a\r\nb' }, { utf8: true }), undefined);
  });
});
