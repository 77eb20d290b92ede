/**
 * The operator's window into a daemon, on METRICS_PORT: Prometheus metrics at `/metrics`, liveness at
 * `/healthz` (the process answers: it is not wedged) and readiness at `/readyz` (connected and working;
 * the body lists what is missing when it is not).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { totalmem } from 'node:os';
import { getHeapStatistics } from 'node:v8';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { FATAL_CODES, FatalError } from './errors.js';
import { LOG_EVENT } from './log-events.js';
import type { Logger } from './logger.js';

/**
 * A registry with the process metrics (CPU, memory, event-loop lag, handles), the limits that memory is
 * held to, and a `daemon` label.
 */
export function createMetricsRegistry(daemon: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ daemon });
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  // Past it V8 ends the process ("heap out of memory"); compared with nodejs_heap_size_used_bytes.
  new Gauge({ name: 'user_actions_heap_limit_bytes', help: "V8's heap size limit", registers }).set(
    getHeapStatistics().heap_size_limit,
  );
  // A container's memory limit (cgroup), past which the kernel kills the process; absent when unlimited.
  const limit = process.constrainedMemory();
  if (limit > 0 && limit < totalmem()) {
    new Gauge({ name: 'user_actions_memory_limit_bytes', help: "The process's memory limit (cgroup)", registers }).set(limit);
  }
  return registry;
}

export interface OpsAnswer {
  status: number;
  contentType: string;
  body: string;
}

/** The answer to `/metrics`, `/healthz` or `/readyz`; none for any other path. */
export function opsAnswer(path: string, registry: Registry, readiness: ReadinessCheck): Promise<OpsAnswer> | undefined {
  if (path === '/metrics') {
    return registry.metrics().then((body) => ({ status: 200, contentType: registry.contentType, body }));
  }
  if (path === '/healthz') return Promise.resolve({ status: 200, contentType: 'application/json', body: '{"alive":true}' });
  if (path === '/readyz') {
    const unmet = readiness();
    const body = JSON.stringify({ ready: unmet.length === 0, missing: unmet.map((condition) => condition.reason), unmet });
    return Promise.resolve({ status: unmet.length === 0 ? 200 : 503, contentType: 'application/json', body });
  }
  return undefined;
}

/** A dependency the daemon is waiting for, why, and since when. */
export interface UnmetCondition {
  dependency: string;
  reason: string;
  /** ISO time the condition became unmet. */
  since: string;
}

/** What keeps the daemon from being ready; an empty list means ready. */
export type ReadinessCheck = () => UnmetCondition[];

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
  exportReadiness(registry, readiness);
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0] ?? '/';
    const answer = request.method === 'GET' ? opsAnswer(path, registry, readiness) : undefined;
    if (answer === undefined) {
      response.writeHead(request.method === 'GET' ? 404 : 405).end();
      return;
    }
    answer.then(
      ({ status, contentType, body }) => response.writeHead(status, { 'content-type': contentType }).end(body),
      (error: unknown) => response.writeHead(500).end(String(error)),
    );
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

/**
 * Readiness as metrics, for alerts: `user_actions_ready` (1 when /readyz answers 200) and
 * `user_actions_dependency_unmet{dependency}` (1 while that dependency is unmet, 0 once it is met again).
 * A daemon that is stopping is not ready, but no dependency is at fault.
 */
export function exportReadiness(registry: Registry, readiness: ReadinessCheck): void {
  const registers = [registry];
  const seen = new Set<string>();
  new Gauge({
    name: 'user_actions_ready',
    help: 'Whether the daemon is ready (1) or not (0), as /readyz answers',
    registers,
    collect() {
      this.set(readiness().length === 0 ? 1 : 0);
    },
  });
  new Gauge({
    name: 'user_actions_dependency_unmet',
    help: 'Whether a dependency keeps the daemon from being ready (1) or not (0); /readyz says why',
    labelNames: ['dependency'] as const,
    registers,
    collect() {
      const unmet = new Set(readiness().flatMap(({ dependency, reason }) => (reason === STOPPING ? [] : [dependency])));
      for (const dependency of unmet) seen.add(dependency);
      for (const dependency of seen) this.set({ dependency }, unmet.has(dependency) ? 1 : 0);
    },
  });
}

/**
 * Readiness as a set of named conditions that the daemon's parts switch on and off as they go. A
 * condition that was met and is lost is logged once, and once more when it is met again (with how long
 * it lasted); while it lasts, `/readyz` and the summary log say which dependency, why and since when.
 */
export class Readiness {
  private readonly unmet = new Map<string, { reason: string; since: number }>();
  /** The start-up conditions not met yet: those are not news; any other condition lost is. */
  private readonly starting = new Set<string>();

  constructor(
    initiallyUnmet: Record<string, string>,
    private readonly logger?: Logger,
  ) {
    for (const [name, reason] of Object.entries(initiallyUnmet)) {
      this.unmet.set(name, { reason, since: Date.now() });
      this.starting.add(name);
    }
  }

  isMet(name: string): boolean {
    return !this.unmet.has(name);
  }

  met(name: string): void {
    const condition = this.unmet.get(name);
    const startingUp = this.starting.delete(name);
    if (condition === undefined) return;
    this.unmet.delete(name);
    if (this.logger && !startingUp && condition.reason !== STOPPING) {
      const unmetForMs = Date.now() - condition.since;
      this.logger.info({ event: LOG_EVENT.readyAgain, dependency: name, unmetForMs }, `${name}: ready again`);
    }
  }

  unmetBecause(name: string, reason: string): void {
    const condition = this.unmet.get(name);
    if (condition !== undefined) {
      condition.reason = reason;
      return;
    }
    this.unmet.set(name, { reason, since: Date.now() });
    if (this.logger && !this.starting.has(name) && reason !== STOPPING) {
      this.logger.warn({ event: LOG_EVENT.notReady, dependency: name, reason }, `${name}: not ready`);
    }
  }

  readonly check: ReadinessCheck = () =>
    [...this.unmet].map(([dependency, { reason, since }]) => ({
      dependency,
      reason,
      since: new Date(since).toISOString(),
    }));
}

/** The reason a daemon gives while it shuts down: not a fault, so not logged as one. */
export const STOPPING = 'stopping';
