import { Writable } from 'node:stream';
import { createLogger } from '../../src/core/log.ts';
import type { Logger } from '../../src/core/log.ts';

/** A logger at error level whose lines are kept in `errors` (fuzz tests assert none). */
export function errorLog(): { log: Logger; errors: string[] } {
  const errors: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      errors.push(chunk.toString());
      done();
    },
  });
  return { log: createLogger('error', sink), errors };
}
