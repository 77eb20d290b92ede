/**
 * The read API's streams and pages against a real PostgreSQL while things happen: a consumer inserting,
 * clients going away mid-stream, a client reading slower than the query timeout, a stop with live pages open.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { Agent, get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SHUTDOWN_GRACE_MS } from '@user-actions/shared/daemon';
import { describe, expect, it, onTestFinished } from 'vitest';
import { API_TOKEN, allPages, startApi } from '../support/api.js';
import { spawnDaemon } from '../support/daemon.js';
import { idsWhere, KNOWN_EVENTS, knownWorld, storeKnownEvents } from '../support/stored-events.js';
import { createWorld } from '../support/world.js';

describe('the read API under way', () => {
  it('pages through the whole table while the consumer inserts: every row there at the start once, none twice', async () => {
    const world = await knownWorld();
    const consumer = spawnDaemon('consumer', world.env);
    const producer = spawnDaemon('producer', { ...world.env, PRODUCER_INTERVAL_MS: '1', PRODUCER_COUNT: '20000' });
    await world.waitForRows(KNOWN_EVENTS + 500, 'the consumer inserting');
    const before = await idsWhere(world, '');
    const api = await startApi(world);
    const { events, pages } = await allPages(api, '/api/user/actions?limit=200');
    const ids = events.map((event) => event.id);
    expect(new Set(ids).size, 'no row twice').toBe(ids.length);
    const seen = new Set(ids);
    expect(
      before.filter((id) => !seen.has(id)),
      'rows there at the start that were skipped',
    ).toEqual([]);
    expect(ids.length).toBeGreaterThan(before.length);
    expect(pages).toBeGreaterThan(20);
    const times = events.map((event) => event.timestamp);
    expect(times).toEqual([...times].sort());
    expect((await producer.stop()).code).toBe(0);
    expect((await consumer.stop()).code).toBe(0);
    expect((await api.stop()).code).toBe(0);
  });

  it("gives a stream's connection back when its client goes away, and takes its token from a file", async () => {
    const world = await knownWorld();
    const file = join(mkdtempSync(join(tmpdir(), 'api-token-')), 'tokens');
    writeFileSync(file, `${API_TOKEN}\n`);
    const api = await startApi(world, { API_TOKENS: '', API_TOKENS_FILE: file, API_POOL_SIZE: '2' });
    // Ten streams abandoned after their first bytes, on a pool of two connections.
    for (let stream = 0; stream < 10; stream++) {
      const controller = new AbortController();
      const response = await fetch(`${api.base}/api/user/actions`, {
        headers: { authorization: `Bearer ${API_TOKEN}` },
        signal: controller.signal,
      });
      await response.body?.getReader().read();
      controller.abort();
    }
    const response = await api.get('/api/user/actions?limit=1');
    expect(response.status).toBe(200);
    expect((await api.stop()).code).toBe(0);
  });

  it('streams a range for longer than the query timeout to a client that reads slowly, whole, as NDJSON and as an array', async () => {
    const world = await createWorld();
    await storeKnownEvents(world, 30_000);
    const api = await startApi(world, { API_QUERY_TIMEOUT_MS: '200' });
    /** Reads the answer at 3 MB a second, whatever the size of its chunks: PostgreSQL has long sent it all when it ends. */
    const readSlowly = async (path: string) => {
      const reader = (await api.get(path)).body?.getReader();
      const decoder = new TextDecoder();
      let text = '';
      const startedAt = Date.now();
      for (let chunk = await reader?.read(); chunk && !chunk.done; chunk = await reader?.read()) {
        text += decoder.decode(chunk.value, { stream: true });
        await new Promise((resolve) => setTimeout(resolve, chunk.value.length / 3_000));
      }
      expect(Date.now() - startedAt, 'the stream outlasted the query timeout').toBeGreaterThan(200);
      return text;
    };
    expect((await readSlowly('/api/user/actions/export?format=ndjson')).trimEnd().split('\n')).toHaveLength(30_000);
    expect(JSON.parse(await readSlowly('/api/user/actions'))).toHaveLength(30_000);
    expect(api.daemon.logs.filter((line) => line.level >= 40)).toEqual([]);
    expect((await api.stop()).code).toBe(0);
  });

  it('stops with exit 0 within the grace while a live page is open: its stream is ended, not waited for', async () => {
    const api = await startApi(await knownWorld(), { API_LIVE_INTERVAL_MS: '200' });
    // As a browser may: the connection is kept once the stream has ended, for the next request.
    const agent = new Agent({ keepAlive: true });
    onTestFinished(() => agent.destroy());
    const { promise: firstTick, resolve: ticked } = Promise.withResolvers<void>();
    let ended = false;
    get(`${api.base}/api/live`, { agent }, (response) => {
      response.on('data', (chunk: Buffer) => chunk.includes('event: tick') && ticked());
      response.on('end', () => {
        ended = true;
      });
    });
    await firstTick;
    const exit = await api.stop();
    expect({ code: exit.code, withinGrace: exit.ms < SHUTDOWN_GRACE_MS, ended }).toEqual({
      code: 0,
      withinGrace: true,
      ended: true,
    });
  });
});
