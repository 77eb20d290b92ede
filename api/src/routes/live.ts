/**
 * The live page (`/`, with its script, style and uPlot served from here: nothing from a CDN) and its
 * feed `/api/live`, Server-Sent Events carrying what live-feed.ts reads once per tick.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import type { LiveFeed } from '../live/live-feed.js';

const PUBLIC_DIR = fileURLToPath(new URL('../../public/', import.meta.url));
const UPLOT_DIR = join(dirname(createRequire(import.meta.url).resolve('uplot/package.json')), 'dist');

/** An event as SSE frames it: each line of the data on a `data:` line of its own. */
function serverSentEvent(event: string, data: string): string {
  return `event: ${event}\n${data
    .split('\n')
    .map((line) => `data: ${line}\n`)
    .join('')}\n`;
}

export async function liveRoutes(app: FastifyInstance, feed: LiveFeed): Promise<void> {
  await app.register(fastifyStatic, { root: PUBLIC_DIR, prefix: '/', index: 'index.html' });
  await app.register(fastifyStatic, {
    root: UPLOT_DIR,
    prefix: '/assets/uplot/',
    decorateReply: false,
    allowedPath: (path) => path === '/uPlot.iife.min.js' || path === '/uPlot.min.css',
  });

  /** Ends each open stream and closes its connection: a browser may hold an idle one for minutes. */
  const open = new Set<() => void>();
  app.get(
    '/api/live',
    {
      schema: {
        summary: "The live page's feed (Server-Sent Events)",
        description:
          'An event "tick" every API_LIVE_INTERVAL_MS with events per second and action over the last 5 minutes, the funnel Login → PageView → AddToCart → Purchase (events at each step, last hour), the 20 newest events (no IP address) and the newest stored timestamp; "problem" while PostgreSQL cannot be read.',
        produces: ['text/event-stream'],
      },
      config: { rateLimit: false },
    },
    (request, reply) => {
      reply.hijack();
      reply.raw.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      reply.raw.write('retry: 2000\n\n');
      const { socket } = request.raw;
      const end = () => reply.raw.end(() => socket.destroy());
      open.add(end);
      const unsubscribe = feed.subscribe(({ event, data }) => reply.raw.write(serverSentEvent(event, data)));
      request.raw.on('close', () => {
        unsubscribe();
        open.delete(end);
      });
    },
  );
  // A page's stream never ends by itself: ended here, with its connection, so that a stop does not wait
  // for the browser to let go of it.
  app.addHook('preClose', async () => {
    for (const end of open) end();
  });
}
