import assert from 'node:assert/strict';
import { formatDateTime } from '../../../../src/protocols/imap/compose/date-time.ts';
import { parseDateTime } from '../../../../src/protocols/imap/parser/args.ts';

describe('imap date-time composition', () => {
  it('writes the zone it is given and pads the day with a space', () => {
    const instant = new Date('1996-07-17T09:44:25Z');
    assert.equal(formatDateTime(instant, -420), '17-Jul-1996 02:44:25 -0700');
    assert.equal(formatDateTime(instant), '17-Jul-1996 09:44:25 +0000');
    assert.equal(
      formatDateTime(new Date('2024-03-01T00:00:00Z'), 330),
      ' 1-Mar-2024 05:30:00 +0530',
    );
    assert.equal(
      formatDateTime(new Date('2024-01-01T01:00:00Z'), -120),
      '31-Dec-2023 23:00:00 -0200',
    );
  });

  it('round-trips through the parser', () => {
    for (const text of [
      '17-Jul-1996 02:44:25 -0700',
      ' 1-Mar-2024 05:30:00 +0530',
      '29-Feb-2000 23:59:59 +1400',
    ]) {
      const parsed = parseDateTime(text);
      assert.ok(parsed !== undefined);
      assert.equal(formatDateTime(parsed.date, parsed.zone), text);
    }
  });
});
