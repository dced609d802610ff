/**
 * PostgreSQL for tests: PG_URL names a database to use (e.g.
 * postgres://postgres@127.0.0.1:5432/postgres); each fixture gets a fresh schema, dropped
 * afterwards, so runs and tests never see each other's data. Without PG_URL the postgres
 * tests skip.
 */

import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const PG_URL = process.env['PG_URL'] ?? '';

export const SKIP_MESSAGE =
  'PG_URL is not set: postgres tests skipped (set PG_URL=postgres://user@127.0.0.1:port/db)';

/** In a describe: skip every test with a clear message when PG_URL is unset. */
export function requirePostgres(): void {
  before(function () {
    if (!PG_URL) {
      console.log(`      ${SKIP_MESSAGE}`);
      this.skip();
    }
  });
}

/** A fresh schema name and a function dropping it (with everything in it). */
export function freshSchema(): { schema: string; drop: () => Promise<void> } {
  const schema = `commune_test_${randomBytes(6).toString('hex')}`;
  return {
    schema,
    drop: async () => {
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      try {
        await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      } finally {
        await client.end();
      }
    },
  };
}

/** Run one statement on a short-lived connection. */
export async function pgQuery<R extends pg.QueryResultRow>(
  sql: string,
  params: unknown[] = [],
): Promise<R[]> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    return (await client.query<R>(sql, params)).rows;
  } finally {
    await client.end();
  }
}
