/** The API daemon: wires configuration, logging, the read pool, the live feed and the HTTP server together. */
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { runDaemon, runShutdownSteps } from '@user-actions/shared/daemon';
import { startDaemonProcess } from '@user-actions/shared/daemon-start';
import { FATAL_CODES, FatalError } from '@user-actions/shared/errors';
import { LOG_EVENT } from '@user-actions/shared/log-events';
import { createMetricsRegistry, exportReadiness, Readiness } from '@user-actions/shared/ops-server';
import { startSummaryLog } from '@user-actions/shared/summary';
import { Counter } from 'prom-client';
import { apiSettings, EXAMPLE_TOKEN, loadApiConfig } from './config.js';
import { buildApi } from './http/server.js';
import { createLiveFeed } from './live/live-feed.js';
import { createEventReader } from './reading/event-reader.js';
import { POSTGRES, watchPostgres } from './reading/postgres-watch.js';
import { createReadPool } from './reading/read-pool.js';
import { readSqlFor } from './reading/read-sql.js';

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

const { config, logger } = startDaemonProcess(
  {
    name: 'api',
    summary: 'Serves the stored user actions: GET /api/user/actions (paged or streamed), counts, exports and a live page.',
    settings: apiSettings,
  },
  loadApiConfig,
);

runDaemon(
  async (signal) => {
    if (config.tokens.includes(EXAMPLE_TOKEN)) {
      logger.warn('API_TOKENS holds the example token of .env.example: anyone who has read it can read the events');
    }
    const readiness = new Readiness({ [POSTGRES]: 'PostgreSQL not read yet' }, logger);
    const registry = createMetricsRegistry('api');
    exportReadiness(registry, readiness.check);
    const pool = createReadPool(config, logger);
    const sql = readSqlFor(config.table);
    const watch = watchPostgres(pool, sql, readiness, config.table.name);
    const summary = startSummaryLog<'requests' | 'failed'>(logger, {
      intervalMs: config.summaryIntervalMs,
      message: 'api summary',
      event: LOG_EVENT.apiSummary,
      notReady: readiness.check,
    });
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
    try {
      await app.listen({ port: config.port, host: config.host }).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'EADDRINUSE') throw error;
        throw new FatalError(`API_PORT ${config.port} is already in use; choose another port (0 picks a free one)`, {
          code: FATAL_CODES.portInUse,
        });
      });
      const { port } = app.server.address() as { port: number };
      const url = `http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${port}/`;
      logger.info({ event: LOG_EVENT.serving, port, url }, `serving the API and the live page at ${url}`);
      await Promise.race([signal.aborted || once(signal, 'abort'), watch.failed]);
    } finally {
      await runShutdownSteps(logger, [
        ['stop the live feed', async () => feed.stop()],
        ['stop serving', () => app.close()],
        ['stop watching PostgreSQL', async () => watch.stop()],
        ['close the PostgreSQL pool', () => pool.end()],
        ['log the last summary', async () => summary.stop()],
      ]);
    }
  },
  { logger },
);
