/**
 * A throwaway PostgreSQL server of a test's own (initdb + pg_ctl), so that it can be crashed, stopped,
 * restarted or configured (TLS) without touching the server other tests and developers use. As root, the server runs as
 * the `postgres` system user, since PostgreSQL refuses to run as root.
 */
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PostgresServer {
  /** A superuser URL (trust authentication on loopback). */
  readonly url: string;
  start(): void;
  /** `immediate` is a crash as far as clients can tell: no goodbye, no checkpoint. */
  stop(mode?: 'fast' | 'immediate'): void;
  destroy(): void;
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
  const bin = binDir();
  const dir = mkdtempSync(join(tmpdir(), 'user-actions-faults-pg-'));
  const dataDir = join(dir, 'data');
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString());
    chownSync(dir, uid, gid);
  }
  const run = (command: string, args: string[]) => {
    const [file, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', join(bin, command), ...args]] : [join(bin, command), args];
    // From the server's own folder: the postgres user may not enter the working directory.
    execFileSync(file, argv, { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
  };

  run('initdb', ['-D', dataDir, '-U', 'postgres', '--auth=trust', '--no-sync']);
  writeFileSync(
    join(dataDir, 'postgresql.auto.conf'),
    [
      `port = ${port}`,
      "listen_addresses = '127.0.0.1'",
      `unix_socket_directories = '${dir}'`,
      'fsync = off',
      'max_connections = 200',
      ...(options.settings ?? []),
    ].join('\n'),
  );
  const written = ['postgresql.auto.conf'];
  if (options.hba !== undefined) {
    writeFileSync(join(dataDir, 'pg_hba.conf'), options.hba);
    written.push('pg_hba.conf');
  }
  for (const [name, content] of Object.entries(options.files ?? {})) {
    writeFileSync(join(dataDir, name), content, { mode: 0o600 });
    written.push(name);
  }
  if (asRoot) execFileSync('chown', ['postgres:postgres', ...written.map((name) => join(dataDir, name))]);

  const server: PostgresServer = {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    start: () => run('pg_ctl', ['-D', dataDir, '-l', join(dir, 'server.log'), '-w', 'start']),
    stop: (mode = 'fast') => run('pg_ctl', ['-D', dataDir, '-m', mode, '-w', 'stop']),
    destroy: () => {
      try {
        server.stop('immediate');
      } catch {
        // already stopped
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return server;
}
