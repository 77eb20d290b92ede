/** `/healthz`, `/readyz` and `/metrics` on the API's own port, answered as every daemon answers them. */
import { opsAnswer, type ReadinessCheck } from '@user-actions/shared/ops-server';
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';

export const OPERATIONS_PATHS = ['/healthz', '/readyz', '/metrics'] as const;

export function operationsRoutes(app: FastifyInstance, registry: Registry, readiness: ReadinessCheck): void {
  for (const path of OPERATIONS_PATHS) {
    app.get(path, { schema: { hide: true }, config: { rateLimit: false } }, async (_request, reply) => {
      const answer = await opsAnswer(path, registry, readiness);
      return reply
        .code(answer?.status ?? 404)
        .type(answer?.contentType ?? 'text/plain')
        .serializer((body) => body as string)
        .send(answer?.body ?? '');
    });
  }
}
