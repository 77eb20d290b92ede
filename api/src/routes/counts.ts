/** `GET /api/user/actions/counts`: events per time bucket and action over a range, capped in buckets. */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { countsQuery, MAX_BUCKETS } from '../http/parameters.js';
import { badParameter } from '../http/problems.js';
import { reportFailure, startedStream } from '../http/streamed-text.js';
import type { EventReader } from '../reading/event-reader.js';
import type { Bucket } from '../reading/read-sql.js';
import { eventFilter } from './event-filter.js';

const BUCKET_MS: Record<Bucket, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };
/** Without bounds: the last day, up to now. */
const DEFAULT_RANGE_MS = 86_400_000;

export function countsRoute(app: FastifyInstance, reader: EventReader): void {
  app.withTypeProvider<ZodTypeProvider>().get(
    '/api/user/actions/counts',
    {
      schema: {
        summary: 'Events per time bucket and action',
        description: `Counts of stored events per UTC minute, hour or day and per action, over a range of at most ${MAX_BUCKETS} buckets (default: the last day until now).`,
        querystring: countsQuery,
        response: {
          200: z.object({
            bucket: z.string(),
            start: z.string(),
            end: z.string(),
            counts: z.array(z.object({ start: z.string(), action: z.string(), count: z.number().int() })),
          }),
        },
        security: [{ bearer: [] }],
      },
    },
    async (request, reply) => {
      const { bucket, ...filters } = request.query;
      const endMs = filters.endTimeStamp?.ms ?? Date.now();
      const startMs = filters.startTimeStamp?.ms ?? endMs - DEFAULT_RANGE_MS;
      const start = filters.startTimeStamp ?? { text: new Date(startMs).toISOString(), ms: startMs };
      const end = filters.endTimeStamp ?? { text: new Date(endMs).toISOString(), ms: endMs };
      const filter = eventFilter({ ...filters, startTimeStamp: start, endTimeStamp: end });
      const buckets = Math.floor(end.ms / BUCKET_MS[bucket]) - Math.floor(start.ms / BUCKET_MS[bucket]) + 1;
      if (buckets > MAX_BUCKETS) {
        throw badParameter(
          'bucket',
          `the range holds ${buckets} ${bucket}s, more than ${MAX_BUCKETS}: narrow the range or take a wider bucket`,
        );
      }
      // The counts are JSON text already, streamed from PostgreSQL inside the answer's object.
      const range = JSON.stringify({ bucket, start: new Date(start.ms).toISOString(), end: new Date(end.ms).toISOString() });
      const body = await startedStream(await reader.counts(filter, bucket), {
        open: `${range.slice(0, -1)},"counts":[`,
        close: ']}',
      });
      reply.type('application/json; charset=utf-8');
      return reply.send(reportFailure(body, request) as never);
    },
  );
}
