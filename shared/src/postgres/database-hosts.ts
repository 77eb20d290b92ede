/**
 * Several PostgreSQL hosts in one DATABASE_URL, as libpq takes them: `postgres://user@host1:5432,host2:5433/db`
 * with libpq's `target_session_attrs`. node-postgres connects to one host only, so each new connection of
 * the pool goes to the host that last served, checked as libpq checks it; a host that refuses, or is not
 * what was asked for, hands the turn to the next host in the list, and the pool tries each host once
 * before it reports failure (`prefer-standby`: a round for a standby, then one for any host). The
 * callers' backoff paces the rounds. Each daemon says which values make sense for it: the consumer
 * writes, the API reads.
 */
import pg from 'pg';
import { TransientError } from '../errors.js';

export const TARGET_SESSION_ATTRS = ['read-write', 'primary', 'any', 'read-only', 'standby', 'prefer-standby'] as const;
export type TargetSessionAttrs = (typeof TARGET_SESSION_ATTRS)[number];

/** What a daemon accepts, the first being its default, and why it refuses the others. */
export interface SessionAttrsPolicy {
  readonly accepted: readonly [TargetSessionAttrs, ...TargetSessionAttrs[]];
  readonly why: string;
}

/** The consumer writes: a standby will not do. */
export const WRITER_SESSIONS: SessionAttrsPolicy = {
  accepted: ['read-write', 'primary', 'any'],
  why: 'the consumer writes: a standby will not do',
};

export interface DatabaseHosts {
  /** One URL per host, in the order given, each a plain single-host URL node-postgres understands. */
  urls: string[];
  /** `host:port` of each, for logs (no credentials). */
  names: string[];
  targetSessionAttrs: TargetSessionAttrs;
}

const URL_PARTS = /^(postgres(?:ql)?:\/\/)(?:([^@/?#]*)@)?([^/?#]*)(.*)$/;

/** The hosts of a DATABASE_URL, or a sentence saying what is wrong with it. */
export function parseDatabaseHosts(databaseUrl: string, policy = WRITER_SESSIONS): DatabaseHosts | string {
  const parts = URL_PARTS.exec(databaseUrl);
  if (!parts) return 'must be a postgres:// URL';
  const [, scheme, userInfo, hostList = '', rest = ''] = parts;
  const hosts = hostList.split(',');
  const given = hosts.map((host) => `${scheme}${userInfo === undefined ? '' : `${userInfo}@`}${host}${rest}`);
  if ((hosts.length > 1 && hosts.includes('')) || !given.every((url) => URL.canParse(url))) {
    return 'must be a postgres:// URL (several hosts separated by commas: host1:5432,host2:5432)';
  }
  const asked = new URL(given[0] as string).searchParams.get('target_session_attrs') ?? policy.accepted[0];
  if (!(policy.accepted as readonly string[]).includes(asked)) {
    return `target_session_attrs must be ${policy.accepted.join(', ')} (${policy.why})`;
  }
  const urls = given.map(withoutTargetSessionAttrs);
  const names = urls.map((url) => {
    const parsed = new URL(url);
    return `${parsed.hostname || 'localhost'}:${parsed.port || '5432'}`;
  });
  return { urls, names, targetSessionAttrs: asked as TargetSessionAttrs };
}

function withoutTargetSessionAttrs(url: string): string {
  const parsed = new URL(url);
  if (!parsed.searchParams.has('target_session_attrs')) return url;
  parsed.searchParams.delete('target_session_attrs');
  return parsed.toString();
}

/** A connection to a host that is not what `target_session_attrs` asks for; the next host is tried. */
export class WrongSessionError extends TransientError {
  override readonly name = 'WrongSessionError';
}

/** What `target_session_attrs` finds wrong with a connected session, if anything (libpq's checks). */
async function sessionProblem(client: pg.Client, wanted: TargetSessionAttrs): Promise<string | undefined> {
  if (wanted === 'any') return undefined;
  if (wanted === 'primary' || wanted === 'standby' || wanted === 'prefer-standby') {
    const { rows } = await client.query<{ standby: boolean }>('SELECT pg_is_in_recovery() AS standby');
    const standby = rows[0]?.standby === true;
    if (wanted === 'primary') return standby ? 'a standby (target_session_attrs=primary)' : undefined;
    return standby ? undefined : `a primary (target_session_attrs=${wanted})`;
  }
  const { rows } = await client.query<{ transaction_read_only: string }>('SHOW transaction_read_only');
  const readOnly = rows[0]?.transaction_read_only === 'on';
  if (wanted === 'read-only') return readOnly ? undefined : 'writable (target_session_attrs=read-only)';
  return readOnly ? 'read-only (target_session_attrs=read-write)' : undefined;
}

/**
 * node-postgres' client, connecting to the host in turn: the pool creates one per connection with the
 * pool's options, so which host it goes to is decided here.
 */
export function clientForHosts(hosts: DatabaseHosts, settle: { forAny: boolean } = { forAny: false }): typeof pg.Client {
  let current = 0;
  const failed = (index: number) => {
    // Several connections failing on one host move the turn on once.
    if (current === index) current = (index + 1) % hosts.urls.length;
  };
  return class HostClient extends pg.Client {
    private readonly hostIndex: number;
    private readonly wanted: TargetSessionAttrs;

    constructor(config?: pg.ClientConfig) {
      const hostIndex = current;
      super({ ...config, connectionString: hosts.urls[hostIndex] });
      this.hostIndex = hostIndex;
      this.wanted = settle.forAny ? 'any' : hosts.targetSessionAttrs;
    }

    override connect(): Promise<pg.Client>;
    override connect(callback: ((error: Error) => void) | ((error: null, client: pg.Client) => void)): void;
    override connect(
      callback?: ((error: Error) => void) | ((error: null, client: pg.Client) => void),
    ): Promise<pg.Client> | undefined {
      // A server going away can say so in the very packet that ends the session check, before the pool
      // (or the caller) has put its own error listener on the client; unheard, that error would end the
      // process. Until then it is the client's next query's to report ("not queryable": transient).
      const early = () => undefined;
      this.on('error', early);
      const connecting = this.connectChecked().then(() => this);
      const handedOver = () => setImmediate(() => this.removeListener('error', early));
      connecting.then(handedOver, handedOver);
      if (callback === undefined) return connecting;
      connecting.then(
        (client) => (callback as (error: null, client: pg.Client) => void)(null, client),
        (error: Error) => (callback as (error: Error) => void)(error),
      );
      return undefined;
    }

    private async connectChecked(): Promise<void> {
      try {
        await super.connect();
        const problem = await sessionProblem(this, this.wanted);
        if (problem !== undefined) {
          await this.end().catch(() => undefined);
          throw new WrongSessionError(`PostgreSQL at ${hosts.names[this.hostIndex]} is ${problem}`);
        }
      } catch (error) {
        failed(this.hostIndex);
        throw error;
      }
    }
  };
}

type ConnectCallback = (error: Error | undefined, client: pg.PoolClient | undefined, done: (release?: unknown) => void) => void;

/** A pool whose connections go to the host `target_session_attrs` asks for, trying each host in a round. */
export function poolForHosts(hosts: DatabaseHosts, options: Omit<pg.PoolConfig, 'Client' | 'connectionString'>): pg.Pool {
  // prefer-standby: once a round found no standby, one more round takes any host (as libpq does).
  const settle = { forAny: false };
  const rounds = hosts.targetSessionAttrs === 'prefer-standby' ? 2 : 1;
  class HostsPool extends pg.Pool {
    override connect(): Promise<pg.PoolClient>;
    override connect(callback: ConnectCallback): void;
    override connect(callback?: ConnectCallback): Promise<pg.PoolClient> | undefined {
      const connecting = (async () => {
        for (let tried = 1; ; tried++) {
          // The pool makes its client synchronously inside connect(); the client reads the flag then.
          settle.forAny = tried > hosts.urls.length;
          const pending = super.connect();
          settle.forAny = false;
          try {
            return await pending;
          } catch (error) {
            if (tried >= hosts.urls.length * rounds) throw error;
          }
        }
      })();
      if (callback === undefined) return connecting;
      connecting.then(
        (client) => callback(undefined, client, (release) => client.release(release as boolean | Error | undefined)),
        (error: Error) => callback(error, undefined, () => undefined),
      );
      return undefined;
    }
  }
  return new HostsPool({ ...options, Client: clientForHosts(hosts, settle) });
}
