/**
 * Authentication of inbound mail end to end: signed, unsigned and forged messages over the
 * MX get the right Authentication-Results (DNS from a fixed table), and the DMARC policy
 * rejects or files into Junk.
 */

import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { dkimSign } from 'mailauth';
import nodemailer from 'nodemailer';
import { dmarcPolicy } from '../../../src/protocols/smtp/hooks/dmarc-policy.ts';
import type { HookServices } from '../../../src/protocols/smtp/hooks/smtp-hook.ts';
import { SMTP_DEFAULTS } from '../../../src/protocols/smtp/smtp-settings.ts';
import type { SessionState, Transaction } from '../../../src/protocols/smtp/smtp-session.ts';
import { startSmtp } from './smtp-fixture.ts';
import type { SmtpFixture } from './smtp-fixture.ts';

const { privateKey, publicKey } = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  publicKeyEncoding: { type: 'spki', format: 'der' },
});

async function signed(message: string, domain: string): Promise<string> {
  const data = { signingDomain: domain, selector: 's1', privateKey, algorithm: 'rsa-sha256' };
  const result = await dkimSign(Buffer.from(message), { ...data, signatureData: [data] });
  assert.deepEqual(result.errors, []);
  return result.signatures + message;
}

function text(from: string, subject: string, body = 'Quarterly numbers attached.\r\n'): string {
  return [
    `From: ${from}`,
    'To: bob@example.test',
    `Subject: ${subject}`,
    'Date: Mon, 01 Jan 2024 10:00:00 +0000',
    `Message-ID: <${subject}@sender.test>`,
    '',
    body,
  ].join('\r\n');
}

/** The Authentication-Results field of a delivered message, unfolded. */
function authResults(message: string): string {
  const m = /^Authentication-Results: ([^\r\n]*(?:\r\n[ \t][^\r\n]*)*)/m.exec(message);
  return (m?.[1] ?? '').replace(/\r\n[ \t]+/g, ' ');
}

describe('inbound mail authentication', function () {
  this.timeout(20000);
  let fx: SmtpFixture;

  before(async () => {
    fx = await startSmtp();
    const key = `v=DKIM1; k=rsa; p=${Buffer.from(publicKey).toString('base64')}`;
    fx.resolver.set('s1._domainkey.remote.test', { TXT: [key] });
    fx.resolver.set('remote.test', { TXT: ['v=spf1 ip4:127.0.0.1 -all'] });
    fx.resolver.set('_dmarc.remote.test', { TXT: ['v=DMARC1; p=reject'] });
    fx.resolver.set('strict.test', { TXT: ['v=spf1 ip4:192.0.2.1 -all'] });
    fx.resolver.set('_dmarc.strict.test', { TXT: ['v=DMARC1; p=reject'] });
    fx.resolver.set('soft.test', { TXT: ['v=spf1 ip4:192.0.2.1 -all'] });
    fx.resolver.set('_dmarc.soft.test', { TXT: ['v=DMARC1; p=quarantine'] });
  });
  after(() => fx?.stop());

  const send = (from: string, raw: string) =>
    nodemailer
      .createTransport({
        host: '127.0.0.1',
        port: fx.mxPort,
        tls: { rejectUnauthorized: false },
        name: 'mail.remote.test',
      })
      .sendMail({ envelope: { from, to: ['bob@example.test'] }, raw });

  const delivered = async (subject: string, role: 'inbox' | 'junk' = 'inbox') => {
    const all = await fx.messages(fx.accounts.bob, role);
    const found = all.find((m) => m.includes(`Subject: ${subject}\r\n`));
    assert.ok(found, `${subject} is in ${role}`);
    return found;
  };

  it('signed: dkim=pass, spf=pass, dmarc=pass', async () => {
    await send('news@remote.test', await signed(text('news@remote.test', 'signed'), 'remote.test'));
    const ar = authResults(await delivered('signed'));
    assert.match(ar, /^mx\.example\.test;/);
    assert.match(ar, /dkim=pass[^;]*header\.i=@remote\.test header\.s=s1/);
    assert.match(ar, /spf=pass[^;]*smtp\.mailfrom=(news@)?remote\.test/);
    assert.match(ar, /dmarc=pass[^;]*header\.from=remote\.test/);
  });

  it('unsigned: dkim=none, and SPF alone aligns for DMARC', async () => {
    await send('news@remote.test', text('news@remote.test', 'unsigned'));
    const ar = authResults(await delivered('unsigned'));
    assert.match(ar, /dkim=none/);
    assert.match(ar, /spf=pass/);
    assert.match(ar, /dmarc=pass/);
  });

  it('forged: a changed header fails the signature; a changed body fails its hash', async () => {
    const original = await signed(text('news@remote.test', 'forged'), 'remote.test');
    await send('news@remote.test', original.replace('Subject: forged', 'Subject: forged-header'));
    const header = authResults(await delivered('forged-header'));
    assert.match(header, /dkim=fail \(bad signature\)[^;]*header\.i=@remote\.test/);
    const body = await signed(text('news@remote.test', 'forged-body'), 'remote.test');
    await send('news@remote.test', body.replace('Quarterly numbers attached.', 'Wire the money.'));
    // a body that no longer matches its hash: "neutral", as mailauth (and Gmail) report it
    const bodyAr = authResults(await delivered('forged-body'));
    assert.match(bodyAr, /dkim=neutral \(body hash did not verify\)[^;]*header\.i=@remote\.test/);
    assert.doesNotMatch(bodyAr, /dkim=pass/);
  });

  it('forged DKIM cannot rescue a spoofed p=reject domain', async () => {
    const forged = (await signed(text('ceo@strict.test', 'forged-dmarc'), 'remote.test')).replace(
      'd=remote.test',
      'd=strict.test',
    );
    await assert.rejects(send('ceo@strict.test', forged), (err) => {
      assert.match((err as { response?: string }).response ?? '', /^550 5\.7\.1 /);
      return true;
    });
  });

  it('a DMARC failure of a p=reject domain is refused (550 5.7.1)', async () => {
    await assert.rejects(send('ceo@strict.test', text('ceo@strict.test', 'spoofed')), (err) => {
      assert.match((err as { response?: string }).response ?? '', /^550 5\.7\.1 .*strict\.test/);
      return true;
    });
    assert.equal(
      (await fx.messages(fx.accounts.bob)).filter((m) => m.includes('spoofed')).length,
      0,
    );
  });

  it('a DMARC failure of a p=quarantine domain goes to Junk with its results', async () => {
    await send('info@soft.test', text('info@soft.test', 'quarantined'));
    const ar = authResults(await delivered('quarantined', 'junk'));
    assert.match(ar, /spf=fail/);
    assert.match(ar, /dmarc=fail/);
    const inbox = await fx.messages(fx.accounts.bob);
    assert.equal(inbox.filter((m) => m.includes('quarantined')).length, 0);
  });
});

describe('dmarc-policy hook', () => {
  const state = {} as SessionState;
  const tx = (policy: 'none' | 'quarantine' | 'reject', result = 'fail'): Transaction => ({
    id: 't',
    sender: 'a@x.test',
    declaredSize: undefined,
    ret: null,
    envid: null,
    local: [],
    remote: [],
    junk: false,
    headers: [],
    auth: {
      headers: [],
      spf: 'fail',
      dkim: ['none'],
      arc: 'none',
      dmarc: { result, domain: 'x.test', policy },
    },
  });
  const services = (dmarcAction: 'enforce' | 'junk' | 'ignore') =>
    ({ settings: { ...SMTP_DEFAULTS, dmarcAction } }) as unknown as HookServices;
  const run = (t: Transaction, action: 'enforce' | 'junk' | 'ignore') =>
    dmarcPolicy.run({ state, tx: t, message: new Uint8Array(), fields: [] }, services(action));

  it('enforce: reject for p=reject, Junk for p=quarantine', async () => {
    const v = await run(tx('reject'), 'enforce');
    assert.equal(v.kind, 'reject');
    const q = tx('quarantine');
    assert.equal((await run(q, 'enforce')).kind, 'next');
    assert.equal(q.junk, true);
  });

  it('junk: never rejects, files both into Junk', async () => {
    const r = tx('reject');
    assert.equal((await run(r, 'junk')).kind, 'next');
    assert.equal(r.junk, true);
  });

  it('ignore, p=none, and passing mail change nothing', async () => {
    for (const [t, action] of [
      [tx('reject'), 'ignore'],
      [tx('none'), 'enforce'],
      [tx('reject', 'pass'), 'enforce'],
    ] as const) {
      assert.equal((await run(t, action)).kind, 'next');
      assert.equal(t.junk, false);
    }
  });
});
