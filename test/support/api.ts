/** The API daemon started against a world's database, and requests to it with or without its token. */
import { LOG_EVENT } from '@user-actions/shared';
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
