/**
 * The API as one service: the read pool, the PostgreSQL watch, the summary, the live feed and the HTTP
 * server, each released in reverse order of its start (`shared/src/service.ts`).
 */
import { createRequire } from 'node:module';
import { FATAL_CODES, FatalError } from '@user-actions/shared/errors';
import { LOG_EVENT } from '@user-actions/shared/log-events';
import type { Logger } from '@user-actions/shared/logger';
import { createMetricsRegistry, exportReadiness, Readiness } from '@user-actions/shared/ops-server';
import { type Service, startService, untilAborted } from '@user-actions/shared/service';
import { startSummaryLog } from '@user-actions/shared/summary';
import { Counter } from 'prom-client';
import { type ApiConfig, EXAMPLE_TOKEN } from './config.js';
import { buildApi } from './http/server.js';
import { createLiveFeed } from './live/live-feed.js';
import { createEventReader } from './reading/event-reader.js';
import { POSTGRES, watchPostgres } from './reading/postgres-watch.js';
import { createReadPool } from './reading/read-pool.js';
import { readSqlFor } from './reading/read-sql.js';

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

export function startApi(config: ApiConfig, logger: Logger): Service {
  return startService(logger, async ({ signal, onStop }) => {
    if (config.tokens.includes(EXAMPLE_TOKEN)) {
      logger.warn('API_TOKENS holds the example token of .env.example: anyone who has read it can read the events');
    }
    const readiness = new Readiness({ [POSTGRES]: 'PostgreSQL not read yet' }, logger);
    const registry = createMetricsRegistry('api');
    exportReadiness(registry, readiness.check);
    const pool = createReadPool(config, logger);
    onStop('close the PostgreSQL pool', () => pool.end());
    const sql = readSqlFor(config.table);
    const summary = startSummaryLog<'requests' | 'failed'>(logger, {
      intervalMs: config.summaryIntervalMs,
      message: 'api summary',
      event: LOG_EVENT.apiSummary,
      notReady: readiness.check,
    });
    onStop('log the last summary', () => summary.stop());
    const watch = watchPostgres(pool, sql, readiness, config.table.name);
    onStop('stop watching PostgreSQL', () => watch.stop());
    const feed = createLiveFeed({
      pool,
      sql,
      intervalMs: config.liveIntervalMs,
      logger,
      queries: new Counter({
        name: 'user_actions_api_live_queries_total',
        help: "The live page's queries: one per tick while a page is open, however many are",
        registers: [registry],
      }),
    });
    const reader = createEventReader(pool, sql, { queryMs: config.queryTimeoutMs, exportMs: config.exportTimeoutMs });
    const app = await buildApi({
      reader,
      feed,
      registry,
      readiness: readiness.check,
      tokens: config.tokens,
      rateLimit: config.rateLimit,
      logger,
      summary,
      version,
    });
    onStop('stop serving', () => app.close());
    onStop('stop the live feed', () => feed.stop());
    await app.listen({ port: config.port, host: config.host }).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EADDRINUSE') throw error;
      throw new FatalError(`API_PORT ${config.port} is already in use; choose another port (0 picks a free one)`, {
        code: FATAL_CODES.portInUse,
      });
    });
    const { port } = app.server.address() as { port: number };
    const url = `http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${port}/`;
    logger.info({ event: LOG_EVENT.serving, port, url }, `serving the API and the live page at ${url}`);
    await Promise.race([untilAborted(signal), watch.failed]);
  });
}
