/**
 * Golden fixtures for DAV bodies: `fixtures/<name>.request.xml` is sent as is, the response
 * body is normalized (dates, ETags, lock and sync tokens, byte counts that depend on the disk)
 * and compared with `fixtures/<name>.response.xml`. UPDATE_GOLDEN=1 rewrites the expected
 * files (review the diff before keeping it).
 */

import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { fileURLToPath } from 'node:url';

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));

export function fixture(name: string): string {
  return readFileSync(`${FIXTURES}${name}`, 'utf8');
}

/** Replace values that change from run to run with stable placeholders. */
export function normalize(xml: string): string {
  return xml
    .replace(/(<d:(?:getlastmodified|creationdate)>)[^<]*(<)/g, '$1DATE$2')
    .replace(/(<d:getetag>)[^<]*(<)/g, '$1ETAG$2')
    .replace(/urn:uuid:[0-9a-f-]{36}/g, 'urn:uuid:TOKEN')
    .replace(/urn:commune:sync:\d+/g, 'urn:commune:sync:N')
    .replace(/Second-\d+/g, 'Second-N')
    .replace(/(<d:quota-available-bytes>)\d+(<)/g, '$1N$2');
}

export function assertGolden(name: string, actual: string): void {
  const path = `${FIXTURES}${name}.response.xml`;
  const got = normalize(actual);
  if (process.env.UPDATE_GOLDEN === '1') {
    writeFileSync(path, `${got}\n`);
    return;
  }
  assert.equal(got, readFileSync(path, 'utf8').trimEnd(), `golden ${name}`);
}

export interface RawResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** A request with the path sent exactly as given (fetch would normalize dot segments). */
export function rawRequest(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string | Buffer,
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}
