/**
 * A throwaway PostgreSQL server of a test's own (initdb + pg_ctl), so that it can be crashed, stopped,
 * restarted or configured (TLS) without touching the server other tests and developers use. As root, the server runs as
 * the `postgres` system user, since PostgreSQL refuses to run as root.
 */

import { execFileSync } from 'node:child_process';
import { appendFileSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { processIsRunning } from './processes.js';

export interface PostgresServer {
  /** A superuser URL (trust authentication on loopback). */
  readonly url: string;
  readonly port: number;
  start(): void;
  /** `immediate` is a crash as far as clients can tell: no goodbye, no checkpoint. */
  stop(mode?: 'fast' | 'immediate'): void;
  /** kill -9 of the server and every process of it: the machine is gone. */
  kill(): void;
  destroy(): void;
}

/** A streaming replica: read-only until promoted. */
export interface StandbyServer extends PostgresServer {
  promote(): void;
}

function binDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  const found = versions.map((version) => join(root, version, 'bin')).find((dir) => existsSync(join(dir, 'initdb')));
  if (!found) throw new Error('initdb not found under /usr/lib/postgresql; install the postgresql package');
  return found;
}

export interface PostgresServerOptions {
  /** Files to put in the data directory (certificates, keys), readable only by the server. */
  files?: Record<string, string>;
  /** More postgresql.conf lines. */
  settings?: string[];
  /** pg_hba.conf in full, instead of trust on loopback. */
  hba?: string;
}

export function createPostgresServer(port: number, options: PostgresServerOptions = {}): PostgresServer {
  const { dir, dataDir, run, chownToServer } = serverDirectory();
  run('initdb', ['-D', dataDir, '-U', 'postgres', '--auth=trust', '--no-sync']);
  writeFileSync(join(dataDir, 'postgresql.auto.conf'), serverSettings(port, dir, options.settings));
  const written = ['postgresql.auto.conf'];
  if (options.hba !== undefined) {
    writeFileSync(join(dataDir, 'pg_hba.conf'), options.hba);
    written.push('pg_hba.conf');
  }
  for (const [name, content] of Object.entries(options.files ?? {})) {
    writeFileSync(join(dataDir, name), content, { mode: 0o600 });
    written.push(name);
  }
  chownToServer(written.map((name) => join(dataDir, name)));
  return serverIn({ dir, dataDir, run }, port);
}

/**
 * A streaming replica of the primary on `primaryPort` (a base backup of it, following its WAL), through
 * `followVia` if given (a proxy's port, say, to hold replication back); asynchronous unless the primary
 * names it in `synchronous_standby_names`.
 */
export function createStandbyServer(
  port: number,
  primaryPort: number,
  { followVia }: { followVia?: number } = {},
): StandbyServer {
  const { dir, dataDir, run } = serverDirectory();
  const from = ['-h', '127.0.0.1', '-p', String(primaryPort), '-U', 'postgres'];
  // A fast checkpoint: the default spreads it over minutes on a server that has been written to.
  run('pg_basebackup', [
    ...from,
    '-D',
    dataDir,
    '--write-recovery-conf',
    '--wal-method=stream',
    '--checkpoint=fast',
    '--no-sync',
  ]);
  // After the primary's settings, which the backup copied: the later line wins.
  const follow = followVia === undefined ? [] : [`primary_conninfo = 'host=127.0.0.1 port=${followVia} user=postgres'`];
  // Promoted, it has no replica of its own to wait for: a synchronous primary's setting would hang every commit.
  const settings = ["cluster_name = 'standby'", "synchronous_standby_names = ''", ...follow];
  appendFileSync(join(dataDir, 'postgresql.auto.conf'), `\n${serverSettings(port, dir, settings)}`);
  const server = serverIn({ dir, dataDir, run }, port);
  return { ...server, promote: () => run('pg_ctl', ['-D', dataDir, '-w', 'promote']) };
}

/**
 * A primary and its streaming replica for the tests of one file: started before them, destroyed after.
 * The servers are there once the file's tests run.
 */
export function primaryWithStandby(
  primaryPort: number,
  standbyPort: number,
): { primary: PostgresServer; standby: StandbyServer } {
  const servers = {} as { primary: PostgresServer; standby: StandbyServer };
  beforeAll(() => {
    servers.primary = createPostgresServer(primaryPort);
    servers.primary.start();
    servers.standby = createStandbyServer(standbyPort, primaryPort);
    servers.standby.start();
  });
  afterAll(() => {
    servers.standby?.destroy();
    servers.primary?.destroy();
  });
  return servers;
}

function serverSettings(port: number, dir: string, settings: string[] = []): string {
  return [
    `port = ${port}`,
    "listen_addresses = '127.0.0.1'",
    `unix_socket_directories = '${dir}'`,
    'fsync = off',
    'max_connections = 200',
    ...settings,
    '',
  ].join('\n');
}

type Run = (command: string, args: string[]) => void;

const DIRECTORY_PREFIX = 'user-actions-faults-pg-';

/**
 * Frees `port` of a server that an interrupted test run left behind (one of ours: its data directory
 * is in a folder of ours), with a line saying so, rather than failing with pg_ctl's opaque error;
 * anything else on the port stops the test with a line naming it.
 */
export function claimPort(port: number, ownDataDir?: string): void {
  const pid = listenerOn(port);
  if (pid === undefined) return;
  const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  const dataDir = command[command.indexOf('-D') + 1];
  const leftOver =
    command.includes('-D') &&
    dataDir !== undefined &&
    dataDir !== ownDataDir &&
    dirname(dataDir).startsWith(join(tmpdir(), DIRECTORY_PREFIX));
  if (!leftOver) {
    throw new Error(
      `port ${port} is taken by pid ${pid} (${command.join(' ')}); a test's PostgreSQL server needs it: stop that process`,
    );
  }
  console.error(`port ${port}: stopping the PostgreSQL server an interrupted test run left there (${dataDir})`);
  process.kill(pid, 'SIGQUIT'); // PostgreSQL's immediate shutdown
  for (let waited = 0; waited < 200 && processIsRunning(pid); waited++) execFileSync('sleep', ['0.05']);
  rmSync(dirname(dataDir), { recursive: true, force: true });
}

/** The pid of the process listening on TCP `port` of the loopback address, if any. */
function listenerOn(port: number): number | undefined {
  const line = execFileSync('ss', ['-Hltnp', `sport = :${port}`], { encoding: 'utf8' });
  const pid = /pid=(\d+)/.exec(line)?.[1];
  return pid === undefined ? undefined : Number(pid);
}

function serverDirectory(): { dir: string; dataDir: string; run: Run; chownToServer: (paths: string[]) => void } {
  const bin = binDir();
  const dir = mkdtempSync(join(tmpdir(), DIRECTORY_PREFIX));
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString());
    chownSync(dir, uid, gid);
  }
  const run: Run = (command, args) => {
    const [file, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', join(bin, command), ...args]] : [join(bin, command), args];
    // From the server's own folder: the postgres user may not enter the working directory.
    execFileSync(file, argv, { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
  };
  const chownToServer = (paths: string[]) => {
    if (asRoot && paths.length > 0) execFileSync('chown', ['postgres:postgres', ...paths]);
  };
  return { dir, dataDir: join(dir, 'data'), run, chownToServer };
}

function serverIn({ dir, dataDir, run }: { dir: string; dataDir: string; run: Run }, port: number): PostgresServer {
  const server: PostgresServer = {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    start: () => {
      claimPort(port, dataDir);
      run('pg_ctl', ['-D', dataDir, '-l', join(dir, 'server.log'), '-w', 'start']);
    },
    stop: (mode = 'fast') => run('pg_ctl', ['-D', dataDir, '-m', mode, '-w', 'stop']),
    kill: () => {
      const pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
      const children = execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' })
        .split('\n')
        .filter(Boolean);
      for (const process_ of [pid, ...children.map(Number)]) {
        try {
          process.kill(process_, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      // The next start must not find the killed server's pid file in use.
      for (let waited = 0; waited < 100 && processIsRunning(pid); waited++) execFileSync('sleep', ['0.05']);
    },
    destroy: () => {
      if (existsSync(join(dataDir, 'postmaster.pid'))) {
        try {
          server.stop('immediate');
        } catch {
          // already stopped
        }
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return server;
}
