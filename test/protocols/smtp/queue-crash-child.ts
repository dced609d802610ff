/**
 * Child process of queue-crash.test.ts: a Commune mail node on the level store in argv[2]
 * (submission on an ephemeral port, the queue runner delivering remote.test to the sink on
 * port argv[3]). Prints "ready <submission port>" once it accepts; SIGTERM stops it
 * gracefully; the test SIGKILLs it mid-queue.
 */

import { loadConfig } from '../../../src/core/config.ts';
import { silentLogger } from '../../../src/core/log.ts';
import { assembleCore, type Core } from '../../../src/main.ts';
import { createQueueRunner } from '../../../src/protocols/smtp/queue-runner.ts';
import { StaticResolver } from '../../../src/protocols/smtp/resolver.ts';
import { createSmtpServers } from '../../../src/protocols/smtp/smtp-server.ts';
import { loadTls } from '../../../src/protocols/shared/tls.ts';
import { Directory } from '../../../src/storage/directory/directory.ts';
import { Argon2idHasher } from '../../../src/storage/directory/password-hasher.ts';
import { openStorage } from '../../../src/storage/open-storage.ts';

// Keep in step with queue-crash.test.ts.
const CHILD_PASSWORD = 'crash-test-password';

async function main(dir: string, sinkPort: number): Promise<void> {
  const config = loadConfig({
    env: {
      COMMUNE_DATA_DIR: dir,
      COMMUNE_LOG_LEVEL: 'silent',
      COMMUNE_SERVER_HOSTNAME: 'mx.example.test',
      COMMUNE_SMTP_ENABLED: 'false',
      COMMUNE_SUBMISSION_PORT: '0',
      COMMUNE_SUBMISSIONS_ENABLED: 'false',
    },
  });
  const storage = await openStorage({ backend: 'level', dataDir: dir });
  const directory = new Directory({
    storage,
    primaryDomain: 'example.test',
    hasher: new Argon2idHasher({ memoryCost: 64, timeCost: 1, parallelism: 1 }),
  });
  if ((await directory.getDomain('example.test')) === undefined) {
    await directory.addDomain('example.test');
    await directory.createPrincipal({ address: 'alice@example.test', password: CHILD_PASSWORD });
  }
  const tls = await loadTls({
    certFile: '',
    keyFile: '',
    dataDir: dir,
    hostname: 'mx.example.test',
  });
  const log = silentLogger();
  const core: Core = assembleCore({
    config,
    log,
    dataDir: dir,
    storage,
    directory,
    tls,
    adminToken: 'x',
  });
  const { mail, queue } = core;
  const resolver = new StaticResolver({
    'remote.test': { MX: [{ exchange: 'mx.remote.test', priority: 10 }] },
    'mx.remote.test': { A: ['127.0.0.1'] },
  });
  const runner = createQueueRunner(core, {
    queue,
    resolver,
    mail,
    // one delivery at a time: when message n+1 reaches the sink, message n is committed
    settings: {
      mxPort: sinkPort,
      leaseTime: 1,
      pollInterval: 0.05,
      retryBase: 0.1,
      concurrency: 1,
    },
  });
  const smtp = createSmtpServers(core, { mail, queue, resolver });
  const endpoints = await smtp.start();
  await runner.start();
  process.stdout.write(`ready ${endpoints[0]?.port ?? 0}\n`);
  process.once('SIGTERM', () => {
    void (async () => {
      await smtp.stop(Date.now() + 1000);
      await runner.stop(Date.now() + 1000);
      await storage.close();
      process.exit(0);
    })();
  });
}

main(process.argv[2] ?? '', Number(process.argv[3])).catch((err: unknown) => {
  process.stderr.write(`queue-crash-child: ${String(err)}\n`);
  process.exit(1);
});
