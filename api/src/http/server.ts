/**
 * The HTTP side: Fastify with zod schemas (validation, types and the OpenAPI document from one
 * definition), problem+json for every error, bearer tokens on what holds personal data, a rate limit
 * per client, and a request duration histogram per route.
 */
import { createHash } from 'node:crypto';
import fastifyBearerAuth from '@fastify/bearer-auth';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { Logger } from '@user-actions/shared/logger';
import type { ReadinessCheck } from '@user-actions/shared/ops-server';
import type { SummaryLog } from '@user-actions/shared/summary';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { Histogram, type Registry } from 'prom-client';
import type { LiveFeed } from '../live/live-feed.js';
import type { EventReader } from '../reading/event-reader.js';
import { actionsRoute } from '../routes/actions.js';
import { countsRoute } from '../routes/counts.js';
import { exportRoute } from '../routes/export.js';
import { liveRoutes } from '../routes/live.js';
import { operationsRoutes } from '../routes/operations.js';
import { PROBLEM_TYPE, Problem, problemFrom, sendProblem, unauthorized } from './problems.js';

/** A GET carries no body; anything larger is refused before it is read. */
const BODY_LIMIT = 1_024;

export interface ApiParts {
  reader: EventReader;
  feed: LiveFeed;
  registry: Registry;
  readiness: ReadinessCheck;
  tokens: readonly string[];
  /** Requests per client per minute; 0: no limit. */
  rateLimit: number;
  logger: Logger;
  summary: SummaryLog<'requests' | 'failed'>;
  version: string;
}

export async function buildApi(parts: ApiParts): Promise<FastifyInstance> {
  const app: FastifyInstance = Fastify({
    loggerInstance: parts.logger as FastifyBaseLogger,
    // Under load a line per request drowns the rest: the summary line counts them instead.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT,
    return503OnClosing: true,
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler((error, request, reply) => sendProblem(reply, problemFrom(error, request), request.url));
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, new Problem(404, 'Not found', `nothing at ${request.method} ${request.url.split('?')[0]}`)),
  );
  observe(app, parts);
  await limitRate(app, parts.rateLimit);
  await describe(app, parts.version);
  operationsRoutes(app, parts.registry, parts.readiness);
  await liveRoutes(app, parts.feed);
  await app.register(personalDataRoutes(parts));
  return app;
}

/** Requests per client per minute; 0: no limit. */
async function limitRate(app: FastifyInstance, perMinute: number): Promise<void> {
  if (perMinute === 0) return;
  await app.register(fastifyRateLimit, {
    max: perMinute,
    timeWindow: 60_000,
    // A client is its token where it has one (many clients may share an address behind a proxy).
    keyGenerator: (request) => {
      const header = request.headers.authorization;
      return header ? createHash('sha256').update(header).digest('base64url') : request.ip;
    },
    errorResponseBuilder: (_request, context) =>
      new Problem(429, 'Too many requests', `more than ${context.max} requests a minute; try again in ${context.after}`),
  });
}

/** `/openapi.json` and `/docs`, from the routes' zod schemas. */
async function describe(app: FastifyInstance, version: string): Promise<void> {
  await app.register(fastifySwagger, {
    openapi: {
      info: {
        title: 'User actions API',
        version,
        description: 'The stored user-action events: by time range (paged or streamed), counted, exported, live.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
    transform: jsonSchemaTransform,
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, () => app.swagger());
}

/** Events hold IP addresses, which are personal data: only a bearer of a token reads them. */
function personalDataRoutes(parts: ApiParts) {
  return async (scope: FastifyInstance) => {
    await scope.register(fastifyBearerAuth, {
      keys: new Set(parts.tokens),
      contentType: PROBLEM_TYPE,
      verifyErrorLogLevel: 'debug',
      // The plugin's types expect { error }; a problem's body is what it sends.
      errorResponse: (error) =>
        unauthorized(
          error.message.includes('missing') ? 'send Authorization: Bearer <token>' : 'the bearer token is not accepted',
        ).body() as unknown as { error: string },
    });
    actionsRoute(scope, parts.reader);
    countsRoute(scope, parts.reader);
    exportRoute(scope, parts.reader);
  };
}

function observe(app: FastifyInstance, { registry, summary }: ApiParts): void {
  const duration = new Histogram({
    name: 'user_actions_api_request_duration_seconds',
    help: 'Time to answer a request, by route, method and status (a stream: until its last byte)',
    labelNames: ['route', 'method', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  });
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    duration.observe({ route, method: request.method, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
    summary.add('requests');
    if (reply.statusCode >= 500) summary.add('failed');
  });
}
