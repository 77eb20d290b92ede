import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { createLogger } from '../src/logger.js';
import { createMetricsRegistry, Readiness, STOPPING, startOpsServer } from '../src/ops-server.js';
import { startSummaryLog } from '../src/summary.js';

beforeEach(() => {
  vi.useFakeTimers({ now: new Date('2026-12-01T08:00:00Z') });
});
afterEach(() => {
  vi.useRealTimers();
});

function recordingLogger() {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({ name: 'test', level: 'debug' });
  for (const level of ['info', 'warn'] as const) {
    vi.spyOn(logger, level).mockImplementation(((fields: Record<string, unknown>, msg: string) => {
      lines.push({ level, ...fields, msg });
    }) as never);
  }
  return { logger, lines };
}

it('says which dependency is missing, why, and since when; the reason changes, the time does not', () => {
  const readiness = new Readiness({ postgres: 'table not created yet' });
  readiness.met('postgres');
  vi.advanceTimersByTime(1_000);
  readiness.unmetBecause('postgres', 'PostgreSQL unavailable: refused');
  vi.advanceTimersByTime(5_000);
  readiness.unmetBecause('postgres', "PostgreSQL's disk is full: no space");
  expect(readiness.check()).toEqual([
    { dependency: 'postgres', reason: "PostgreSQL's disk is full: no space", since: '2026-12-01T08:00:01.000Z' },
  ]);
  readiness.met('postgres');
  expect(readiness.check()).toEqual([]);
});

it('logs a lost dependency once, and once more when it is back, with how long it was missing', () => {
  const { logger, lines } = recordingLogger();
  const readiness = new Readiness({ postgres: 'table not created yet' }, logger);
  readiness.met('postgres'); // the start-up condition is not news
  expect(lines).toEqual([]);
  readiness.unmetBecause('postgres', 'PostgreSQL unavailable: refused');
  readiness.unmetBecause('postgres', 'PostgreSQL unavailable: refused again');
  vi.advanceTimersByTime(7_000);
  readiness.met('postgres');
  readiness.met('postgres');
  expect(lines).toEqual([
    expect.objectContaining({
      level: 'warn',
      event: 'not-ready',
      dependency: 'postgres',
      reason: 'PostgreSQL unavailable: refused',
    }),
    expect.objectContaining({ level: 'info', event: 'ready-again', dependency: 'postgres', unmetForMs: 7_000 }),
  ]);
});

it('logs a condition that was never named before as lost too', () => {
  const { logger, lines } = recordingLogger();
  const readiness = new Readiness({}, logger);
  readiness.unmetBecause('postgres-answers', 'PostgreSQL at db:5432 has not answered for 5 s');
  expect(lines).toEqual([expect.objectContaining({ event: 'not-ready', dependency: 'postgres-answers' })]);
});

it('does not report a stop as a fault', () => {
  const { logger, lines } = recordingLogger();
  const readiness = new Readiness({}, logger);
  readiness.met('kafka');
  readiness.unmetBecause('kafka', STOPPING);
  expect(lines).toEqual([]);
  expect(readiness.check()).toHaveLength(1);
  const summary = startSummaryLog<'stored'>(logger, {
    intervalMs: 1_000,
    message: 'summary',
    event: 'loader-summary',
    notReady: readiness.check,
  });
  summary.stop();
  expect(lines).toEqual([]);
});

it('the summary line names what is missing every interval, even when nothing else happened', () => {
  const { logger, lines } = recordingLogger();
  const readiness = new Readiness({});
  const summary = startSummaryLog<'stored'>(logger, {
    intervalMs: 1_000,
    message: 'summary',
    event: 'loader-summary',
    notReady: readiness.check,
  });
  vi.advanceTimersByTime(1_000);
  expect(lines).toEqual([]); // ready, nothing happened: no line
  readiness.unmetBecause('postgres', 'PostgreSQL unavailable: refused');
  vi.advanceTimersByTime(2_000);
  expect(lines).toHaveLength(2);
  expect(lines[1]).toMatchObject({
    event: 'loader-summary',
    notReady: [{ dependency: 'postgres', reason: 'PostgreSQL unavailable: refused', since: '2026-12-01T08:00:01.000Z' }],
  });
  summary.stop();
});

it('is exported as metrics: ready or not, and which dependency, a stop blaming none', async () => {
  vi.useRealTimers();
  const readiness = new Readiness({ kafka: 'not connected to Kafka yet' });
  const registry = createMetricsRegistry('test');
  const ops = await startOpsServer({
    port: 0,
    registry,
    readiness: readiness.check,
    logger: createLogger({ name: 'test', level: 'silent' }),
  });
  const scrape = async () => {
    const text = await (await fetch(`http://127.0.0.1:${ops.port}/metrics`)).text();
    return text.split('\n').filter((line) => /^user_actions_(ready|dependency_unmet)\b/.test(line));
  };
  try {
    expect(await scrape()).toEqual([
      'user_actions_ready{daemon="test"} 0',
      'user_actions_dependency_unmet{dependency="kafka",daemon="test"} 1',
    ]);
    readiness.met('kafka');
    expect(await scrape()).toEqual([
      'user_actions_ready{daemon="test"} 1',
      'user_actions_dependency_unmet{dependency="kafka",daemon="test"} 0',
    ]);
    readiness.unmetBecause('kafka', STOPPING);
    expect(await scrape()).toEqual([
      'user_actions_ready{daemon="test"} 0',
      'user_actions_dependency_unmet{dependency="kafka",daemon="test"} 0',
    ]);
  } finally {
    await ops.stop();
  }
});
