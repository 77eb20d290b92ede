/**
 * `GET /api/user/actions`: the original system's endpoint and contract (its parameter names, inclusive
 * bounds, a bare JSON array of events with its five lowercase members first). Without `limit` the whole
 * range is streamed; with it, one page, and the next one's address in a `Link` header.
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { encodeCursor } from '../http/cursor.js';
import { listQuery } from '../http/parameters.js';
import { JSON_ARRAY, reportFailure, streamedText } from '../http/streamed-text.js';
import type { EventReader } from '../reading/event-reader.js';
import { eventFilter } from './event-filter.js';

export const EVENT_SCHEMA = z
  .object({
    userid: z.string(),
    action: z.string(),
    ipaddress: z.string().nullable(),
    device: z.string().nullable(),
    timestamp: z.string().describe('UTC, with microseconds'),
    id: z.number().int(),
    eventid: z.string(),
    metadata: z.record(z.string(), z.unknown()).nullable(),
  })
  .describe('A stored event: the original five members, then id, eventid and the whole metadata');

export function actionsRoute(app: FastifyInstance, reader: EventReader): void {
  app.withTypeProvider<ZodTypeProvider>().get(
    '/api/user/actions',
    {
      schema: {
        summary: 'Stored events by time range, oldest first',
        description:
          'The original system\'s endpoint. Without limit, every matching event is streamed as one JSON array. With limit, one page; a Link header with rel="next" gives the next page\'s URL until the last page.',
        querystring: listQuery,
        response: { 200: z.array(EVENT_SCHEMA) },
        security: [{ bearer: [] }],
      },
    },
    async (request, reply) => {
      const { limit, cursor, ...filters } = request.query;
      const filter = eventFilter(filters);
      reply.type('application/json; charset=utf-8');
      // Already JSON texts, streamed or whole: sent as they are, never parsed and serialised again.
      if (limit === undefined) {
        return reply.send(reportFailure(await streamedText(reader.stream(filter), JSON_ARRAY), request) as never);
      }
      const page = await reader.page(filter, cursor, limit);
      if (page.next) {
        const next = new URL(request.url, 'http://api');
        next.searchParams.set('cursor', encodeCursor(page.next));
        reply.header('link', `<${next.pathname}${next.search}>; rel="next"`);
      }
      return reply.serializer((payload) => payload as string).send(`[${page.events.join(',')}]` as never);
    },
  );
}
