/**
 * `GET /api/user/actions/export`: a range as a download, streamed: CSV straight from PostgreSQL's
 * `COPY … TO STDOUT` (its own quoting, a header line), or NDJSON, one event's JSON per line, also by COPY.
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { exportQuery } from '../http/parameters.js';
import { reportFailure, startedStream } from '../http/streamed-text.js';
import type { EventReader } from '../reading/event-reader.js';
import { CSV_COLUMNS } from '../reading/read-sql.js';
import { eventFilter } from './event-filter.js';

export function exportRoute(app: FastifyInstance, reader: EventReader): void {
  app.withTypeProvider<ZodTypeProvider>().get(
    '/api/user/actions/export',
    {
      schema: {
        summary: 'A range as CSV or NDJSON, streamed',
        description: `csv: a header (${CSV_COLUMNS.join(',')}), then one line per event as PostgreSQL's COPY writes it; ndjson: one event per line, as in /api/user/actions. Oldest first.`,
        querystring: exportQuery,
        produces: ['text/csv', 'application/x-ndjson'],
        security: [{ bearer: [] }],
      },
    },
    async (request, reply) => {
      const { format, ...filters } = request.query;
      const filter = eventFilter(filters);
      reply.header('content-disposition', `attachment; filename="user-actions.${format}"`);
      // PostgreSQL has begun (or failed: a 503) before the status is sent.
      if (format === 'csv') {
        return reply.type('text/csv; charset=utf-8').send(reportFailure(await startedStream(await reader.csv(filter)), request));
      }
      return reply.type('application/x-ndjson').send(reportFailure(await startedStream(await reader.ndjson(filter)), request));
    },
  );
}
