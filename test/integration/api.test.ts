/**
 * The read API against a real PostgreSQL: the original system's contract, paging, filters, counts,
 * exports byte for byte, every bad input, tokens, a SELECT-only role, its own health and metrics.
 */

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { API_TOKEN, type ApiEvent, allPages, startApi } from '../support/api.js';
import { FIRST_EVENT_AT, idsWhere, KNOWN_EVENTS, knownWorld, minutesAfterFirst } from '../support/stored-events.js';

const ORIGINAL_MEMBERS = ['userid', 'action', 'ipaddress', 'device', 'timestamp'];

/** CSV as PostgreSQL writes it: quoted only where a value needs it, NULL as nothing. */
function csvField(value: string | null): string {
  if (value === null) return '';
  return /[",\n\r]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

describe('the read API', () => {
  it("answers a request copied from the original's README: a bare array, its five members, inclusive bounds, by time", async () => {
    const world = await knownWorld();
    const api = await startApi(world);
    // Bounds without a zone are UTC, as the original reads them; both ends are included.
    const response = await api.get('/api/user/actions?startTimeStamp=2026-11-01T00:10:00&endTimeStamp=2026-11-01T00:20:00');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const events = (await response.json()) as ApiEvent[];
    expect(events.map((event) => event.id)).toEqual(
      await idsWhere(world, `WHERE "timestamp" BETWEEN '2026-11-01T00:10:00Z' AND '2026-11-01T00:20:00Z'`),
    );
    expect(events).toHaveLength(33);
    expect(Object.keys(events[0] as object).slice(0, 5)).toEqual(ORIGINAL_MEMBERS);
    expect(events[0]).toMatchObject({ timestamp: '2026-11-01T00:10:00.000000Z', metadata: { Browser: 'Chrome' } });
    // No bounds: everything; a bound with a zone or a date alone reads the same instant.
    expect((await (await api.get('/api/user/actions')).json()) as unknown[]).toHaveLength(KNOWN_EVENTS);
    const zoned = await api.get(
      '/api/user/actions?startTimeStamp=2026-11-01T01:10:00%2B01:00&endTimeStamp=2026-11-01T00:10:00.000Z',
    );
    expect(((await zoned.json()) as ApiEvent[]).map((event) => event.timestamp)).toEqual(
      Array(3).fill('2026-11-01T00:10:00.000000Z'),
    );
    const day = await api.get('/api/user/actions?startTimeStamp=2026-11-01&endTimeStamp=2026-11-01');
    expect((await day.json()) as unknown[]).toHaveLength(3);
    expect((await api.stop()).code).toBe(0);
  });

  it('pages by keyset through a range with Link headers, every row once, and filters by user and actions', async () => {
    const world = await knownWorld();
    const api = await startApi(world);
    const range = `startTimeStamp=${FIRST_EVENT_AT}&endTimeStamp=${minutesAfterFirst(500)}`;
    const { events, pages } = await allPages(api, `/api/user/actions?${range}&limit=100`);
    expect(pages).toBe(16); // 1,503 events (501 minutes of three), 100 a page
    expect(events.map((event) => event.id)).toEqual(
      await idsWhere(world, `WHERE "timestamp" BETWEEN $1 AND $2`, [FIRST_EVENT_AT, minutesAfterFirst(500)]),
    );

    const user = '00000000-0000-4000-8000-000000000003';
    const filtered = await allPages(api, `/api/user/actions?userId=${user}&action=Login,Purchase&action=Like&limit=7`);
    expect(filtered.events.map((event) => event.id)).toEqual(
      await idsWhere(world, `WHERE userid = $1 AND action IN ('Login', 'Purchase', 'Like')`, [user]),
    );
    expect(new Set(filtered.events.map((event) => event.action))).toEqual(new Set(['Login', 'Purchase', 'Like']));
    expect((await api.stop()).code).toBe(0);
  });

  it('counts events per minute, hour and day and action exactly as SQL does, whatever the bounds and after a DELETE, and caps the buckets', async () => {
    const world = await knownWorld();
    const api = await startApi(world);
    for (const bucket of ['minute', 'hour', 'day'] as const) {
      const response = await api.get(
        `/api/user/actions/counts?bucket=${bucket}&startTimeStamp=${FIRST_EVENT_AT}&endTimeStamp=2026-11-02T00:00:00Z&action=Login,Search`,
      );
      expect(response.status).toBe(200);
      const body = (await response.json()) as { counts: { start: string; action: string; count: number }[] };
      const { rows } = await world.db.query(
        `SELECT to_char(date_trunc($1, "timestamp", 'UTC') AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS start,
                action, count(*)::int AS count
         FROM useractions WHERE "timestamp" BETWEEN $2 AND '2026-11-02T00:00:00Z' AND action IN ('Login', 'Search')
         GROUP BY 1, 2 ORDER BY 1, 2`,
        [bucket, FIRST_EVENT_AT],
      );
      expect(body.counts).toEqual(rows);
      expect(body.counts.reduce((sum, row) => sum + row.count, 0)).toBeGreaterThan(0);
    }
    // Bounds inside a minute (its events are on the minute): the tally's whole minutes and the events at the ends.
    await world.db.query(`DELETE FROM useractions WHERE userid = '00000000-0000-4000-8000-000000000003'`);
    for (const [start, end, userId] of [
      ['2026-11-01T01:00:00.000001Z', '2026-11-01T02:00:00Z'],
      ['2026-11-01T01:00:30+01:00', '2026-11-01T00:59:59.999999Z'],
      ['2026-11-01T03:00:00Z', '2026-11-01T03:00:00Z'],
      ['2026-11-01T03:00:00Z', '2026-11-01T05:30:00Z', '00000000-0000-4000-8000-000000000002'],
    ] as const) {
      const user = userId === undefined ? '' : `&userId=${userId}`;
      const response = await api.get(
        `/api/user/actions/counts?bucket=minute&startTimeStamp=${encodeURIComponent(start)}&endTimeStamp=${encodeURIComponent(end)}${user}`,
      );
      const body = (await response.json()) as { counts: { start: string; action: string; count: number }[] };
      const { rows } = await world.db.query(
        `SELECT to_char(date_trunc('minute', "timestamp", 'UTC') AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS start,
                action, count(*)::int AS count
         FROM useractions WHERE "timestamp" BETWEEN $1 AND $2 AND ($3::uuid IS NULL OR userid = $3)
         GROUP BY 1, 2 ORDER BY 1, 2`,
        [start, end, userId ?? null],
      );
      expect(body.counts, `${start} to ${end}`).toEqual(rows);
    }
    const tooMany = await api.get('/api/user/actions/counts?bucket=minute&startTimeStamp=2026-01-01&endTimeStamp=2026-12-01');
    expect(tooMany.status).toBe(400);
    expect(await tooMany.json()).toMatchObject({ parameter: 'bucket' });
    expect((await api.stop()).code).toBe(0);
  });

  it('exports a range as CSV and as NDJSON, byte for byte', async () => {
    const world = await knownWorld();
    const api = await startApi(world);
    const range = `startTimeStamp=${minutesAfterFirst(100)}&endTimeStamp=${minutesAfterFirst(400)}`;
    const { rows } = await world.db.query(
      `SELECT id::text, event_id::text, userid::text, action, ipaddress, device,
              to_char("timestamp" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS ts, metadata::text
       FROM useractions WHERE "timestamp" BETWEEN $1 AND $2 ORDER BY "timestamp", id`,
      [minutesAfterFirst(100), minutesAfterFirst(400)],
    );
    expect(rows).toHaveLength(903);

    const csv = await api.get(`/api/user/actions/export?format=csv&${range}`);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(csv.headers.get('content-disposition')).toBe('attachment; filename="user-actions.csv"');
    const expectedCsv = [
      'id,eventid,userid,action,ipaddress,device,timestamp,metadata',
      ...rows.map((row) =>
        [row.id, row.event_id, row.userid, row.action, row.ipaddress, row.device, row.ts, row.metadata].map(csvField).join(','),
      ),
    ].join('\n');
    expect(await csv.text()).toBe(`${expectedCsv}\n`);

    const ndjson = await api.get(`/api/user/actions/export?format=ndjson&${range}`);
    expect(ndjson.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    const expectedNdjson = rows.map(
      (row) =>
        `{"userid":"${row.userid}","action":"${row.action}","ipaddress":${JSON.stringify(row.ipaddress)},"device":${JSON.stringify(row.device)},"timestamp":"${row.ts}","id":${row.id},"eventid":"${row.event_id}","metadata":${row.metadata}}`,
    );
    expect(await ndjson.text()).toBe(`${expectedNdjson.join('\n')}\n`);
    // The same events, the same bytes, as the streamed array.
    const array = await (await api.get(`/api/user/actions?${range}`)).text();
    expect(array).toBe(`[${expectedNdjson.join(',')}]`);
    // Nothing in range: an empty file, an empty array.
    expect(await (await api.get('/api/user/actions/export?startTimeStamp=2001-01-01&endTimeStamp=2001-01-02')).text()).toBe('');
    expect(await (await api.get('/api/user/actions?startTimeStamp=2001-01-01&endTimeStamp=2001-01-02')).text()).toBe('[]');
    expect((await api.stop()).code).toBe(0);
  });

  it('answers every bad input with a 400 problem naming the parameter, never a 500', async () => {
    const world = await knownWorld();
    const api = await startApi(world);
    const cases: [string, string][] = [
      ['/api/user/actions?startTimeStamp=2026-12-02&endTimeStamp=2026-12-01', 'startTimeStamp'],
      ['/api/user/actions?startTimeStamp=yesterday', 'startTimeStamp'],
      ['/api/user/actions?endTimeStamp=2026-02-30T00:00:00', 'endTimeStamp'],
      ['/api/user/actions?cursor=bm90IGEgY3Vyc29y', 'cursor'],
      ['/api/user/actions?action=Login,Jump', 'action'],
      ['/api/user/actions?userId=not-a-uuid', 'userId'],
      ['/api/user/actions?limit=0', 'limit'],
      [`/api/user/actions?limit=1001`, 'limit'],
      ['/api/user/actions?limit=ten', 'limit'],
      ['/api/user/actions/counts?bucket=week', 'bucket'],
      ['/api/user/actions/counts?bucket=minute&startTimeStamp=2020-01-01&endTimeStamp=2026-01-01', 'bucket'],
      ['/api/user/actions/export?format=xml', 'format'],
    ];
    for (const [path, parameter] of cases) {
      const response = await api.get(path);
      expect(response.status, path).toBe(400);
      expect(response.headers.get('content-type'), path).toMatch(/^application\/problem\+json/);
      expect(await response.json(), path).toMatchObject({ status: 400, parameter, title: 'Bad parameter' });
    }
    expect(api.daemon.logs.filter((line) => line.level >= 50)).toEqual([]);
    expect((await api.stop()).code).toBe(0);
  });

  it('reads only for a bearer of a listed token (two, so that one can be rotated); its page and reference need none', async () => {
    const world = await knownWorld();
    const second = 'second-token-fedcba9876543210';
    const api = await startApi(world, { API_TOKENS: `${API_TOKEN},${second}` });
    for (const path of ['/api/user/actions?limit=1', '/api/user/actions/counts', '/api/user/actions/export']) {
      for (const token of [null, 'wrong-token-0000000000000000']) {
        const refused = await api.get(path, { token });
        expect(refused.status, `${path} with ${token}`).toBe(401);
        expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      }
      expect((await api.get(path, { token: second })).status).toBe(200);
    }
    for (const path of ['/', '/openapi.json', '/docs', '/healthz', '/readyz', '/metrics']) {
      expect((await api.get(path, { token: null })).status, path).toBe(200);
    }
    expect((await api.stop()).code).toBe(0);
  });

  it('reads as a role that may only SELECT the table, as docs/api.md grants it', async () => {
    const world = await knownWorld();
    const role = `reader_${world.groupId.replace(/\W/g, '_')}`.slice(0, 60);
    await world.db.query(`CREATE ROLE ${role} LOGIN`);
    const grants = readFileSync(new URL('../../docs/api.md', import.meta.url), 'utf8').match(
      /^\s*GRANT .* TO user_actions_reader;$/gm,
    );
    expect(grants).toHaveLength(1);
    for (const grant of grants ?? []) await world.db.query(grant.trim().replace('user_actions_reader', role));
    const url = new URL(world.databaseUrl);
    url.username = role;
    const api = await startApi({ env: { ...world.env, DATABASE_URL: url.toString() } });
    const events = (await (await api.get('/api/user/actions?limit=5')).json()) as ApiEvent[];
    expect(events).toHaveLength(5);
    expect((await api.stop()).code).toBe(0);
    // The role can read, and nothing else.
    const write = world.db.query(`SET ROLE ${role}; DELETE FROM useractions`);
    await expect(write).rejects.toMatchObject({ code: '42501' });
    await world.db.query('RESET ROLE');
  });

  it('serves /healthz, /readyz, /metrics with request durations per route, and stops with exit 0 on SIGTERM', async () => {
    const world = await knownWorld();
    const api = await startApi(world);
    expect(await (await api.get('/readyz')).json()).toMatchObject({ ready: true });
    await api.get('/api/user/actions?limit=3');
    await api.get('/api/user/actions/counts');
    const metrics = await (await api.get('/metrics')).text();
    for (const route of ['/api/user/actions', '/api/user/actions/counts']) {
      expect(metrics).toContain(
        `user_actions_api_request_duration_seconds_count{daemon="api",route="${route}",method="GET",status="200"} 1`,
      );
    }
    // docs/api.md describes every path and parameter of the OpenAPI document.
    const openapi = (await (await api.get('/openapi.json')).json()) as {
      paths: Record<string, { get: { parameters?: { name: string }[] } }>;
    };
    expect(Object.keys(openapi.paths)).toEqual(
      expect.arrayContaining(['/api/user/actions', '/api/user/actions/counts', '/api/user/actions/export', '/api/live']),
    );
    const reference = readFileSync(new URL('../../docs/api.md', import.meta.url), 'utf8');
    for (const [path, { get }] of Object.entries(openapi.paths)) {
      expect(reference, path).toContain(`GET ${path}`);
      for (const { name } of get.parameters ?? []) expect(reference, `${path} ${name}`).toContain(`\`${name}\``);
    }
    expect((await api.stop()).code).toBe(0);
  });
});
