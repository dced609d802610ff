import assert from 'node:assert/strict';
import { HEADROOM, assemble, prependInPlace } from '../../../src/protocols/smtp/headroom.ts';
import { prependHeaders } from '../../../src/protocols/smtp/message-headers.ts';

/** `whole` is a view ending where `message` ends, in the same memory. */
function inPlace(whole: Uint8Array, message: Uint8Array): boolean {
  return (
    whole.buffer === message.buffer &&
    whole.byteOffset + whole.byteLength === message.byteOffset + message.byteLength
  );
}

describe('SMTP message headroom', () => {
  const chunks = [Buffer.from('Subject: a\r\n'), Buffer.from('\r\nbody\r\n')];

  it('assembles chunks and prepends into the room in front, once, without copying', () => {
    const message = assemble(chunks, 20);
    assert.equal(message.toString(), 'Subject: a\r\n\r\nbody\r\n');
    const whole = prependHeaders(['Received: x\r\n', 'X-A: b\r\n'], message);
    assert.equal(whole.toString(), 'Received: x\r\nX-A: b\r\nSubject: a\r\n\r\nbody\r\n');
    assert.ok(inPlace(whole, message), 'written in front of the message, no copy');
    // The room is given once: a second prepend copies and leaves the first intact.
    const again = prependHeaders(['Y: 1\r\n'], message);
    assert.equal(again.toString(), 'Y: 1\r\nSubject: a\r\n\r\nbody\r\n');
    assert.ok(!inPlace(again, message));
    assert.equal(whole.toString(), 'Received: x\r\nX-A: b\r\nSubject: a\r\n\r\nbody\r\n');
  });

  it('copies when the header does not fit or the message has no room', () => {
    const message = assemble(chunks, 20);
    assert.equal(prependInPlace(Buffer.alloc(HEADROOM + 1), message), undefined);
    const plain = Buffer.from('Subject: b\r\n\r\n');
    assert.equal(prependInPlace(Buffer.from('X: 1\r\n'), plain), undefined);
    assert.equal(prependHeaders(['X: 1\r\n'], plain).toString(), 'X: 1\r\nSubject: b\r\n\r\n');
  });
});
