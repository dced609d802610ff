/** Test helper: typed structures from the RFC 3501 §7.4.2 / RFC 9051 §7.5.2 examples. */

import type {
  MultipartBody,
  SinglePartBody,
} from '../../../../src/protocols/imap/compose/body-structure.ts';
import type { Envelope } from '../../../../src/protocols/imap/compose/envelope.ts';

export const RFC_ENVELOPE: Envelope = {
  date: 'Wed, 17 Jul 1996 02:23:25 -0700 (PDT)',
  subject: 'IMAP4rev1 WG mtg summary and minutes',
  from: [{ name: 'Terry Gray', mailbox: 'gray', host: 'cac.washington.edu' }],
  sender: null,
  replyTo: null,
  to: [{ name: null, mailbox: 'imap', host: 'cac.washington.edu' }],
  cc: [
    { name: null, mailbox: 'minutes', host: 'CNRI.Reston.VA.US' },
    { name: 'John Klensin', mailbox: 'KLENSIN', host: 'MIT.EDU' },
  ],
  bcc: null,
  inReplyTo: null,
  messageId: '<B27397-0100000@cac.washington.edu>',
};

export const RFC_ENVELOPE_WIRE =
  '("Wed, 17 Jul 1996 02:23:25 -0700 (PDT)" "IMAP4rev1 WG mtg summary and minutes" ' +
  '(("Terry Gray" NIL "gray" "cac.washington.edu")) (("Terry Gray" NIL "gray" "cac.washington.edu")) ' +
  '(("Terry Gray" NIL "gray" "cac.washington.edu")) ((NIL NIL "imap" "cac.washington.edu")) ' +
  '((NIL NIL "minutes" "CNRI.Reston.VA.US")("John Klensin" NIL "KLENSIN" "MIT.EDU")) NIL NIL ' +
  '"<B27397-0100000@cac.washington.edu>")';

export function part(
  fields: Partial<SinglePartBody> & { type: string; subtype: string },
): SinglePartBody {
  return {
    kind: 'part',
    params: [],
    id: null,
    description: null,
    encoding: '7BIT',
    size: 0,
    lines: 0,
    md5: null,
    message: null,
    disposition: null,
    language: null,
    location: null,
    ...fields,
  };
}

export const TEXT_PLAIN = part({
  type: 'TEXT',
  subtype: 'PLAIN',
  params: [['CHARSET', 'US-ASCII']],
  size: 3028,
  lines: 92,
});

export const MIXED: MultipartBody = {
  kind: 'multipart',
  subtype: 'MIXED',
  params: [['BOUNDARY', 'xyz']],
  disposition: null,
  language: null,
  location: null,
  parts: [
    part({
      type: 'TEXT',
      subtype: 'PLAIN',
      params: [['CHARSET', 'US-ASCII']],
      size: 1152,
      lines: 23,
    }),
    part({
      type: 'TEXT',
      subtype: 'PLAIN',
      params: [
        ['CHARSET', 'US-ASCII'],
        ['NAME', 'cc.diff'],
      ],
      id: '<960723163407.20117h@cac.washington.edu>',
      description: 'Compiler diff',
      encoding: 'BASE64',
      size: 4554,
      lines: 73,
    }),
  ],
};
