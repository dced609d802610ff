/**
 * The SMTP bench's load generator, run in a worker thread (see smtp.ts): CONNECTIONS
 * nodemailer SMTP connections (PIPELINING) send messages of `size` bytes, one recipient each,
 * until the time or count bound; posts {rate, errors} or {error}.
 */

import { parentPort, workerData } from 'node:worker_threads';
import SMTPConnection from 'nodemailer/lib/smtp-connection';

interface LoadParams {
  readonly port: number;
  readonly size: number;
  readonly max: number;
  readonly seconds: number;
  readonly connections: number;
}

/** A plain-text message of `size` bytes (headers included), CRLF lines of 78 bytes. */
function messageOf(size: number, n: number): Buffer {
  const head =
    `From: load@remote.test\r\nTo: bench@example.test\r\nSubject: bench ${n}\r\n` +
    `Message-ID: <bench-${n}-${Date.now()}@remote.test>\r\nDate: ${new Date().toUTCString()}\r\n\r\n`;
  const line = `${'The quick brown fox jumps over the lazy dog. '.repeat(2).slice(0, 76)}\r\n`;
  let body = '';
  while (head.length + body.length + line.length <= size) body += line;
  body += 'x'.repeat(Math.max(0, size - head.length - body.length - 2)) + '\r\n';
  return Buffer.from(head + body);
}

function step<T>(
  conn: SMTPConnection,
  start: (done: (err: Error | null, v?: T) => void) => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    conn.once('error', onError);
    start((err, v) => {
      conn.off('error', onError);
      if (err) reject(err);
      else resolve(v as T);
    });
  });
}

/** Send messages of `size` on CONNECTIONS connections until the time or count bound. */
async function measure({
  port,
  size,
  max,
  seconds,
  connections,
}: LoadParams): Promise<{ rate: number; errors: number }> {
  const conns = Array.from(
    { length: connections },
    () =>
      new SMTPConnection({
        host: '127.0.0.1',
        port,
        name: 'client.remote.test',
        ignoreTLS: true,
        socketTimeout: 120_000,
        logger: false,
      }),
  );
  await Promise.all(conns.map((c) => step<void>(c, (done) => c.connect(() => done(null)))));
  const payloads = Array.from({ length: 8 }, (_, i) => messageOf(size, i));
  let done = 0;
  let errors = 0;
  let firstError: unknown;
  const started = performance.now();
  const end = started + seconds * 1000;
  await Promise.all(
    conns.map(async (c, lane) => {
      let i = lane;
      while (performance.now() < end && done < max) {
        try {
          await step(c, (cb) =>
            c.send(
              { from: 'load@remote.test', to: ['bench@example.test'] },
              payloads[i++ % payloads.length] as Buffer,
              cb,
            ),
          );
          done++;
        } catch (err) {
          errors++;
          firstError ??= err;
          if (errors > 100) throw err;
        }
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  for (const c of conns) c.quit();
  if (done === 0) throw firstError ?? new Error('nothing was accepted');
  return { rate: done / elapsed, errors };
}

measure(workerData as LoadParams).then(
  (result) => parentPort?.postMessage(result),
  (err: unknown) => parentPort?.postMessage({ error: String(err) }),
);
