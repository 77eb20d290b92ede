/**
 * The operator's window into a daemon, on METRICS_PORT: Prometheus metrics at `/metrics`, liveness at
 * `/healthz` (the process answers: it is not wedged) and readiness at `/readyz` (connected and working;
 * the body lists what is missing when it is not).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { FATAL_CODES, FatalError } from './errors.js';
import { LOG_EVENT } from './log-events.js';
import type { Logger } from './logger.js';

/** A registry with the process metrics (CPU, memory, event-loop lag, handles) and a `daemon` label. */
export function createMetricsRegistry(daemon: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ daemon });
  collectDefaultMetrics({ register: registry });
  return registry;
}

/** What keeps the daemon from being ready; an empty list means ready. */
export type ReadinessCheck = () => string[];

export interface OpsServer {
  readonly port: number;
  stop(): Promise<void>;
}

export async function startOpsServer(options: {
  port: number;
  registry: Registry;
  readiness: ReadinessCheck;
  logger: Logger;
}): Promise<OpsServer> {
  const { registry, readiness, logger } = options;
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET') {
      response.writeHead(405).end();
    } else if (path === '/metrics') {
      registry.metrics().then(
        (text) => response.writeHead(200, { 'content-type': registry.contentType }).end(text),
        (error: unknown) => response.writeHead(500).end(String(error)),
      );
    } else if (path === '/healthz') {
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"alive":true}');
    } else if (path === '/readyz') {
      const missing = readiness();
      response
        .writeHead(missing.length === 0 ? 200 : 503, { 'content-type': 'application/json' })
        .end(JSON.stringify({ ready: missing.length === 0, missing }));
    } else {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EADDRINUSE'
          ? new FatalError(`METRICS_PORT ${options.port} is already in use; choose another port (0 picks a free one)`, {
              code: FATAL_CODES.portInUse,
            })
          : error,
      ),
    );
    server.listen(options.port, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  logger.info(
    { event: LOG_EVENT.serving, port, paths: ['/metrics', '/healthz', '/readyz'] },
    'serving metrics and health probes',
  );
  return {
    port,
    stop: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        // A scraper's keep-alive connection would otherwise hold the shutdown open.
        server.closeAllConnections();
      }),
  };
}

/** Readiness as a set of named conditions that the daemon's parts switch on and off as they go. */
export class Readiness {
  private readonly unmet = new Map<string, string>();

  constructor(initiallyUnmet: Record<string, string>) {
    for (const [name, reason] of Object.entries(initiallyUnmet)) this.unmet.set(name, reason);
  }

  met(name: string): void {
    this.unmet.delete(name);
  }

  unmetBecause(name: string, reason: string): void {
    this.unmet.set(name, reason);
  }

  readonly check: ReadinessCheck = () => [...this.unmet.values()];
}
