/**
 * A Commune node in its own process, for the multi-node queue test (which SIGKILLs it):
 * startPgNode over the schema and channel given as JSON in argv[2] (PgNodeOptions). Prints
 * "ready <JSON: ports, data dir>" once every listener accepts; SIGTERM stops it gracefully
 * (a SIGKILLed one leaves its data dir, TLS material only, for the test to remove).
 */

import { startPgNode, type PgNodeOptions } from './pg-node.ts';

async function main(options: PgNodeOptions): Promise<void> {
  const node = await startPgNode(options);
  process.stdout.write(
    `ready ${JSON.stringify({
      imap: node.imapPort,
      submission: node.submissionPort,
      http: node.httpBase,
      dataDir: node.core.dataDir,
      owner: node.runner?.worker.owner ?? null,
    })}\n`,
  );
  process.once('SIGTERM', () => {
    void node.stop().then(() => process.exit(0));
  });
}

main(JSON.parse(process.argv[2] ?? '{}') as PgNodeOptions).catch((err: unknown) => {
  process.stderr.write(
    `node-child: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});
