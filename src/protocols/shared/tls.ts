/**
 * TLS material for every listener. Configured files are used as they are; otherwise a
 * self-signed certificate for the server's host name is made once into <dataDir>/tls and reused
 * on later starts.
 */

// @peculiar/x509 needs the Reflect metadata polyfill loaded before it.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createSecureContext, type SecureContext } from 'node:tls';
import * as x509 from '@peculiar/x509';
import { CommuneError } from '../../core/errors.ts';

export interface TlsMaterial {
  readonly cert: string;
  readonly key: string;
  readonly context: SecureContext;
  /** Where the material came from: a configured path, or the generated file. */
  readonly certPath: string;
  readonly selfSigned: boolean;
}

function toPem(der: ArrayBuffer, label: string): string {
  const b64 = Buffer.from(der).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** Make a self-signed ECDSA P-256 certificate for `hostname` (+ localhost and loopback IPs). */
export async function createSelfSigned(hostname: string): Promise<{ cert: string; key: string }> {
  const crypto = webcrypto;
  type X509Crypto = Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[1];
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = (await crypto.subtle.generateKey(alg, true, [
    'sign',
    'verify',
  ])) as webcrypto.CryptoKeyPair;
  const now = Date.now();
  const names = new Set([hostname, 'localhost']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: Buffer.from(crypto.getRandomValues(new Uint8Array(16)))
        .toString('hex')
        .replace(/^[89a-f]/, '1'),
      name: `CN=${hostname}, O=Commune self-signed`,
      notBefore: new Date(now - 3600_000),
      notAfter: new Date(now + 825 * 24 * 3600_000),
      signingAlgorithm: alg,
      keys: keys as unknown as Parameters<
        typeof x509.X509CertificateGenerator.createSelfSigned
      >[0]['keys'],
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.SubjectAlternativeNameExtension([
          ...[...names].map((value) => ({ type: 'dns' as const, value })),
          { type: 'ip' as const, value: '127.0.0.1' },
          { type: 'ip' as const, value: '::1' },
        ]),
      ],
    },
    crypto as unknown as X509Crypto,
  );
  const pkcs8 = await crypto.subtle.exportKey('pkcs8', keys.privateKey);
  return { cert: cert.toString('pem') + '\n', key: toPem(pkcs8, 'PRIVATE KEY') };
}

async function writeAtomic(path: string, data: string, mode: number): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, data, { mode });
  await rename(tmp, path);
}

/** Load configured TLS files, or the generated self-signed pair (making it on first start). */
export async function loadTls(options: {
  certFile: string;
  keyFile: string;
  dataDir: string;
  hostname: string;
}): Promise<TlsMaterial> {
  let cert: string;
  let key: string;
  let certPath: string;
  let selfSigned = false;
  if (options.certFile !== '' || options.keyFile !== '') {
    if (options.certFile === '' || options.keyFile === '') {
      throw new CommuneError('config', 'tls.cert and tls.key must be set together');
    }
    try {
      cert = await readFile(options.certFile, 'utf8');
      key = await readFile(options.keyFile, 'utf8');
    } catch (err) {
      throw new CommuneError('config', `cannot read TLS files: ${(err as Error).message}`);
    }
    certPath = options.certFile;
  } else {
    const dir = join(options.dataDir, 'tls');
    certPath = join(dir, 'cert.pem');
    const keyPath = join(dir, 'key.pem');
    try {
      cert = await readFile(certPath, 'utf8');
      key = await readFile(keyPath, 'utf8');
    } catch {
      ({ cert, key } = await createSelfSigned(options.hostname));
      await mkdir(dir, { recursive: true, mode: 0o700 });
      await writeAtomic(keyPath, key, 0o600);
      await writeAtomic(certPath, cert, 0o644);
    }
    selfSigned = true;
  }
  let context: SecureContext;
  try {
    context = createSecureContext({ cert, key, minVersion: 'TLSv1.2' });
  } catch (err) {
    throw new CommuneError(
      'config',
      `TLS certificate or key unusable (${certPath}): ${(err as Error).message}`,
    );
  }
  return { cert, key, context, certPath, selfSigned };
}
