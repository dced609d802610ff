/** Shared set-up for mail service tests: memory (or given) Storage, directory, two users. */

import type { AccessContext } from '../../../src/core/principal.ts';
import { Directory } from '../../../src/storage/directory/directory.ts';
import { LocalChangeBus } from '../../../src/storage/local-change-bus.ts';
import { MemoryStore } from '../../../src/storage/backends/memory-store.ts';
import { MemoryBlobStore } from '../../../src/storage/memory-blob-store.ts';
import { Storage } from '../../../src/storage/storage.ts';
import { MailService } from '../../../src/storage/mail/mail-service.ts';
import type { MailServiceOptions } from '../../../src/storage/mail/mail-service.ts';
import { cheapHasher } from '../directory/directory-fixture.ts';

export interface MailFixture {
  readonly storage: Storage;
  readonly directory: Directory;
  readonly mail: MailService;
  /** Fake clock; tests move `ms`. */
  readonly clock: { ms: number };
  readonly alice: AccessContext;
  readonly bob: AccessContext;
  readonly aliceId: number;
  readonly bobId: number;
}

export async function makeMail(
  options: { storage?: Storage; aliceQuota?: number; service?: Partial<MailServiceOptions> } = {},
): Promise<MailFixture> {
  const storage =
    options.storage ??
    new Storage({
      store: new MemoryStore(),
      blobs: new MemoryBlobStore(),
      bus: new LocalChangeBus(),
    });
  const clock = { ms: Date.UTC(2026, 2, 10, 12, 0, 0) };
  const now = () => new Date(clock.ms);
  const directory = new Directory({
    storage,
    primaryDomain: 'example.test',
    hasher: cheapHasher(),
    now,
  });
  if ((await directory.getDomain('example.test')) === undefined)
    await directory.addDomain('example.test');
  const alice =
    (await directory.findByAddress('alice@example.test')) ??
    (await directory.createPrincipal({
      address: 'alice@example.test',
      quota: options.aliceQuota ?? 0,
    }));
  const bob =
    (await directory.findByAddress('bob@example.test')) ??
    (await directory.createPrincipal({ address: 'bob@example.test' }));
  const mail = new MailService({ storage, directory, now, ...options.service });
  return {
    storage,
    directory,
    mail,
    clock,
    alice: await directory.accessContext(alice, 'internal'),
    bob: await directory.accessContext(bob, 'internal'),
    aliceId: alice.id,
    bobId: bob.id,
  };
}

/** A small RFC 5322 message. */
export function message(
  fields: {
    subject?: string;
    from?: string;
    to?: string;
    messageId?: string;
    inReplyTo?: string;
    references?: string;
    date?: string;
    body?: string;
  } = {},
): Uint8Array {
  const lines = [
    `From: ${fields.from ?? 'Alice <alice@example.test>'}`,
    `To: ${fields.to ?? 'Bob <bob@example.test>'}`,
    `Subject: ${fields.subject ?? 'Hello'}`,
    `Date: ${fields.date ?? 'Tue, 10 Mar 2026 12:00:00 +0000'}`,
  ];
  if (fields.messageId !== undefined) lines.push(`Message-ID: <${fields.messageId}>`);
  if (fields.inReplyTo !== undefined) lines.push(`In-Reply-To: <${fields.inReplyTo}>`);
  if (fields.references !== undefined) lines.push(`References: ${fields.references}`);
  lines.push('', fields.body ?? 'Hello there.', '');
  return new Uint8Array(Buffer.from(lines.join('\r\n'), 'utf8'));
}
