/**
 * CalDAV across two nodes on one PostgreSQL schema: a calendar object PUT through node A is
 * reported by a sync-collection REPORT (RFC 6578) on node B from the token B gave before, and
 * a tsdav client on node B sees it; a deletion through B is reported on A.
 */

import assert from 'node:assert/strict';
import { DAVClient } from 'tsdav';
import { requirePostgres } from '../storage/pg-test-db.ts';
import { DOMAIN, PASSWORD } from './pg-node.ts';
import { basicAuth, startTwoNodes, type TwoNodes } from './two-nodes.ts';

const CALENDAR = `/dav/calendars/alice@${DOMAIN}/default/`;

function event(uid: string, summary: string): string {
  return [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'PRODID:-//commune multinode test//EN',
    'BEGIN:VEVENT',
    `UID:${uid}`,
    'DTSTAMP:20260310T120000Z',
    'DTSTART:20260312T090000Z',
    'DTEND:20260312T100000Z',
    `SUMMARY:${summary}`,
    'END:VEVENT',
    'END:VCALENDAR',
    '',
  ].join('\r\n');
}

function syncCollection(token: string): string {
  return `<?xml version="1.0" encoding="utf-8"?><d:sync-collection xmlns:d="DAV:"><d:sync-token>${token}</d:sync-token><d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>`;
}

interface SyncReply {
  readonly status: number;
  readonly token: string;
  /** href -> status of its response ("200" with a getetag, "404" when gone). */
  readonly hrefs: Map<string, string>;
  readonly text: string;
}

async function sync(base: string, token: string): Promise<SyncReply> {
  const res = await fetch(`${base}${CALENDAR}`, {
    method: 'REPORT',
    headers: {
      authorization: basicAuth('alice'),
      'content-type': 'application/xml; charset=utf-8',
      depth: '0',
    },
    body: syncCollection(token),
  });
  const text = await res.text();
  const hrefs = new Map<string, string>();
  for (const m of text.matchAll(/<d:response>([\s\S]*?)<\/d:response>/g)) {
    const body = m[1] ?? '';
    const href = decodeURIComponent(/<d:href>([^<]+)<\/d:href>/.exec(body)?.[1] ?? '');
    const status = /HTTP\/1\.1 (\d{3})/.exec(body)?.[1] ?? '';
    hrefs.set(href, status);
  }
  return {
    status: res.status,
    token: /<d:sync-token>([^<]+)<\/d:sync-token>/.exec(text)?.[1] ?? '',
    hrefs,
    text,
  };
}

describe('two nodes over PostgreSQL: CalDAV', function () {
  this.timeout(60_000);
  requirePostgres();
  let fx: TwoNodes | undefined;

  beforeEach(async () => {
    fx = await startTwoNodes();
  });
  afterEach(async () => {
    await fx?.stop();
    fx = undefined;
  });

  it('a sync-collection on node B reports a PUT made on node A', async () => {
    assert.ok(fx);
    const { a, b } = fx;
    // 1. Node B: initial sync, empty calendar
    const initial = await sync(b.httpBase, '');
    assert.equal(initial.status, 207, initial.text);
    assert.match(initial.token, /^urn:commune:sync:\d+$/);
    assert.equal([...initial.hrefs.keys()].filter((h) => h.endsWith('.ics')).length, 0);

    // 2. Node A: PUT a new event
    const put = await fetch(`${a.httpBase}${CALENDAR}standup.ics`, {
      method: 'PUT',
      headers: {
        authorization: basicAuth('alice'),
        'content-type': 'text/calendar; charset=utf-8',
        'if-none-match': '*',
      },
      body: event('standup-1', 'Stand-up'),
    });
    assert.equal(put.status, 201);
    const etag = put.headers.get('etag');
    assert.ok(etag);

    // 3. Node B: the delta from B's token names it, with A's ETag, under a new token
    const delta = await sync(b.httpBase, initial.token);
    assert.equal(delta.status, 207, delta.text);
    assert.equal(delta.hrefs.get(`${CALENDAR}standup.ics`), '200', delta.text);
    assert.match(
      delta.text,
      new RegExp(`<d:getetag>${etag.replace(/"/g, '(&quot;|")')}</d:getetag>`),
    );
    assert.notEqual(delta.token, initial.token);
    const got = await fetch(`${b.httpBase}${CALENDAR}standup.ics`, {
      headers: { authorization: basicAuth('alice') },
    });
    assert.equal(got.status, 200);
    assert.match(await got.text(), /SUMMARY:Stand-up/);

    // 4. tsdav on node B lists the object
    const client = new DAVClient({
      serverUrl: `${b.httpBase}/.well-known/caldav`,
      credentials: { username: `alice@${DOMAIN}`, password: PASSWORD },
      authMethod: 'Basic',
      defaultAccountType: 'caldav',
    });
    await client.login();
    const [calendar] = (await client.fetchCalendars()).filter(
      (c) => new URL(c.url).pathname === CALENDAR,
    );
    assert.ok(calendar, 'the default calendar on node B');
    const objects = await client.fetchCalendarObjects({ calendar });
    assert.deepEqual(
      objects.map((o) => new URL(o.url, b.httpBase).pathname),
      [`${CALENDAR}standup.ics`],
    );

    // 5. And back: a DELETE on node B is a 404 in node A's delta from B's last token
    const del = await fetch(`${b.httpBase}${CALENDAR}standup.ics`, {
      method: 'DELETE',
      headers: { authorization: basicAuth('alice') },
    });
    assert.equal(del.status, 204);
    const back = await sync(a.httpBase, delta.token);
    assert.equal(back.status, 207, back.text);
    assert.equal(back.hrefs.get(`${CALENDAR}standup.ics`), '404', back.text);
  });
});
