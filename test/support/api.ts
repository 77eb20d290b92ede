/** The API daemon started against a world's database, and requests to it with or without its token. */
import { LOG_EVENT } from '@user-actions/shared';
import { expect } from 'vitest';
import { type Daemon, spawnDaemon } from './daemon.js';
import type { World } from './world.js';

export const API_TOKEN = 'test-token-0123456789abcdef';

export interface RunningApi {
  readonly daemon: Daemon;
  /** `http://127.0.0.1:<port>` */
  readonly base: string;
  /** A request with the token (or `token: null` for none, or another token). */
  get(path: string, options?: { token?: string | null }): Promise<Response>;
  stop(): ReturnType<Daemon['stop']>;
}

export async function startApi(world: Pick<World, 'env'>, env: Record<string, string> = {}): Promise<RunningApi> {
  const daemon = spawnDaemon('api', {
    DATABASE_URL: world.env.DATABASE_URL as string,
    API_PORT: '0',
    API_HOST: '127.0.0.1',
    API_TOKENS: API_TOKEN,
    ...env,
  });
  const serving = await daemon.waitForLog((line) => line.event === LOG_EVENT.serving, 30_000);
  const base = `http://127.0.0.1:${serving.port}`;
  return {
    daemon,
    base,
    get(path, { token = API_TOKEN } = {}) {
      return fetch(`${base}${path}`, { headers: token === null ? {} : { authorization: `Bearer ${token}` } });
    },
    stop: () => daemon.stop(),
  };
}

/** An event as the API answers it. */
export interface ApiEvent {
  id: number;
  userid: string;
  action: string;
  timestamp: string;
  [member: string]: unknown;
}

/** Every page from `path` on, following rel="next", with how many pages it took. */
export async function allPages(api: RunningApi, path: string): Promise<{ events: ApiEvent[]; pages: number }> {
  const events: ApiEvent[] = [];
  let next: string | undefined = path;
  let pages = 0;
  while (next !== undefined) {
    const response = await api.get(next);
    expect(response.status).toBe(200);
    events.push(...((await response.json()) as ApiEvent[]));
    pages += 1;
    next = /^<([^>]+)>; rel="next"$/.exec(response.headers.get('link') ?? '')?.[1];
  }
  return { events, pages };
}
