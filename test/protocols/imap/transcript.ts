/**
 * Golden transcripts: a file of client lines (`C: ...`, sent with CRLF), the server lines
 * expected after them (`S: ...`, compared after `normalize` hides values that change from run
 * to run: UIDVALIDITY, MAILBOXID, EMAILID, THREADID, MODSEQ, dates of delivery) and
 * directives (`! deliver <subject>`: MailService.deliver to alice, as SMTP does). Lines
 * starting with `#` are comments.
 *
 * IMAP_TRANSCRIPT_UPDATE=1 rewrites the S lines from what the server says (review the diff).
 */

import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import type { ImapFixture } from './imap-fixture.ts';
import { RawClient, message } from './imap-fixture.ts';

/** Hide the values that differ between runs. */
export function normalize(line: string): string {
  return line
    .replace(/UIDVALIDITY \d+/g, 'UIDVALIDITY <uv>')
    .replace(/(APPENDUID|COPYUID) \d+/g, '$1 <uv>')
    .replace(/\(QRESYNC \(\d+/g, '(QRESYNC (<uv>')
    .replace(/(MAILBOXID|EMAILID|THREADID) \([\w-]+\)/g, '$1 (<id>)')
    .replace(/MODSEQ \((\d+)\)/g, 'MODSEQ (<m>)')
    .replace(/(HIGHESTMODSEQ|MODSEQ|CHANGEDSINCE|UNCHANGEDSINCE) \d+/g, '$1 <m>');
}

type Step =
  | { readonly kind: 'greeting'; readonly expect: string[] }
  | { readonly kind: 'client'; readonly line: string; readonly expect: string[] }
  | { readonly kind: 'deliver'; readonly subject: string; readonly expect: string[] };

function parse(text: string): { header: string[]; steps: Step[] } {
  const header: string[] = [];
  const steps: Step[] = [{ kind: 'greeting', expect: [] }];
  for (const line of text.split('\n')) {
    if (line.startsWith('C: ')) steps.push({ kind: 'client', line: line.slice(3), expect: [] });
    else if (line === 'C:') steps.push({ kind: 'client', line: '', expect: [] });
    else if (line.startsWith('! deliver ')) {
      steps.push({ kind: 'deliver', subject: line.slice(10), expect: [] });
    } else if (line.startsWith('S: ')) {
      steps[steps.length - 1]?.expect.push(line.slice(3));
    } else if (steps.length === 1 && steps[0]?.expect.length === 0) header.push(line);
  }
  return { header, steps };
}

/** Lines received until the server is quiet for `quietMs` (recording only). */
async function drain(client: RawClient, quietMs: number): Promise<string[]> {
  const lines: string[] = [];
  while (true) {
    try {
      const chunk = await client.until(/.*/, quietMs);
      lines.push(chunk.replace(/\r\n$/, ''));
    } catch {
      return lines;
    }
  }
}

/** Run one transcript file against a fresh connection on `port`. */
export async function runTranscript(fx: ImapFixture, path: string, port = fx.port): Promise<void> {
  const { header, steps } = parse(readFileSync(path, 'utf8'));
  const update = process.env.IMAP_TRANSCRIPT_UPDATE === '1';
  const client = await RawClient.connect(port);
  const out: string[] = [...header];
  try {
    for (const [i, step] of steps.entries()) {
      if (step.kind === 'greeting') {
        const greeting = normalize(client.greeting);
        if (update) out.push(`S: ${greeting}`);
        else assert.equal(greeting, step.expect[0], `${path}: greeting`);
        continue;
      }
      if (step.kind === 'client') {
        client.send(step.line);
        out.push(step.line === '' ? 'C:' : `C: ${step.line}`);
      } else {
        await fx.mail.deliver(fx.alice.id, message(step.subject), {
          internalDate: new Date(Date.UTC(2026, 2, 10, 12, 0, 0)),
        });
        out.push(`! deliver ${step.subject}`);
      }
      if (update) {
        const got = (await drain(client, 250)).map(normalize);
        out.push(...got.map((l) => `S: ${l}`));
        continue;
      }
      for (const expected of step.expect) {
        const got = normalize((await client.until(/.*/)).replace(/\r\n$/, ''));
        assert.equal(got, expected, `${path}: step ${i + 1} (${describe(step)})`);
      }
    }
  } finally {
    client.close();
  }
  if (update) writeFileSync(path, `${out.join('\n').replace(/\n+$/, '')}\n`);
}

function describe(step: Step): string {
  if (step.kind === 'greeting') return 'greeting';
  return step.kind === 'client' ? `C: ${step.line}` : `! deliver ${step.subject}`;
}
