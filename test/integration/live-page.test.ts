/**
 * The live page in a real browser (Debian's chromium-headless-shell driven by playwright-core) over the
 * real pipeline: its chart's data and its newest events grow as events are stored, and however many
 * pages are open the API reads PostgreSQL once per tick. A missing browser fails the test: it never
 * passes without having looked. `LIVE_PAGE_SCREENSHOT=path` keeps a screenshot (docs/images/live-page.png).
 */
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { expect, it, onTestFinished } from 'vitest';
import { startApi } from '../support/api.js';
import { spawnDaemon } from '../support/daemon.js';
import { waitFor } from '../support/wait.js';
import { createWorld } from '../support/world.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium-headless-shell';
const TICK_MS = 500;

interface LiveState {
  ticks: number;
  stored: number;
  newest: number[];
  behindSeconds?: number;
}

async function liveQueries(base: string): Promise<number> {
  const metrics = await (await fetch(`${base}/metrics`)).text();
  return Number(/^user_actions_api_live_queries_total\{[^}]*\} (\d+)$/m.exec(metrics)?.[1] ?? Number.NaN);
}

it('shows events per second, the funnel and the newest events growing as they are stored, one query per tick for all pages', async () => {
  expect(existsSync(CHROMIUM), `no browser at ${CHROMIUM}: apt-get install chromium-headless-shell, or set CHROMIUM_PATH`).toBe(
    true,
  );
  const world = await createWorld();
  const consumer = spawnDaemon('consumer', world.env);
  const producer = spawnDaemon('producer', { ...world.env, PRODUCER_INTERVAL_MS: '20', PRODUCER_COUNT: '100000' });
  await world.waitForRows(50, 'the first events');
  const api = await startApi(world, { API_LIVE_INTERVAL_MS: String(TICK_MS) });

  const browser = await chromium.launch({ executablePath: CHROMIUM });
  onTestFinished(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(`${api.base}/`);
  const state = () => page.evaluate(() => (globalThis as unknown as { live: LiveState }).live);

  const first = await waitFor(state, (live) => live.ticks >= 1 && live.stored > 0, { what: 'the first tick drawn' });
  const later = await waitFor(state, (live) => live.stored > first.stored && live.newest[0] !== first.newest[0], {
    what: 'the chart and the newest events growing',
  });
  expect(later.newest).toHaveLength(20);
  expect(later.behindSeconds).toBeLessThan(10);
  expect(await page.locator('#funnel li').count()).toBe(4);
  expect(await page.locator('#newest tr').count()).toBe(20);
  expect(await page.locator('#chart canvas').count()).toBeGreaterThan(0);
  expect(await page.locator('#status').textContent()).toMatch(/newest stored event .* behind now/);

  // Four pages open: still one query per tick.
  const others = await Promise.all([1, 2, 3].map(() => browser.newPage()));
  await Promise.all(others.map((other) => other.goto(`${api.base}/`)));
  const before = await liveQueries(api.base);
  const startedAt = Date.now();
  await new Promise((resolve) => setTimeout(resolve, 4_000));
  const queries = (await liveQueries(api.base)) - before;
  const ticks = (Date.now() - startedAt) / TICK_MS;
  expect(queries).toBeGreaterThan(0);
  expect(queries).toBeLessThanOrEqual(Math.ceil(ticks) + 1);

  if (process.env.LIVE_PAGE_SCREENSHOT) await page.screenshot({ path: process.env.LIVE_PAGE_SCREENSHOT, fullPage: true });
  expect(errors).toEqual([]);
  const apiExit = await api.stop();
  // Its last lines say why, should it fail.
  expect({
    code: apiExit.code,
    last: apiExit.code === 0 ? [] : [...api.daemon.logs.slice(-8), ...api.daemon.text.slice(-8)],
  }).toEqual({
    code: 0,
    last: [],
  });
  expect((await producer.stop()).code).toBe(0);
  expect((await consumer.stop()).code).toBe(0);
});
