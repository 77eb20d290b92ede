/**
 * A PostgreSQL primary and an asynchronous streaming replica that follows it through a link the suite
 * can hold, so that at a failover the replica really lacks the last commits. After a failover a new
 * replica is built from the promoted server on the old primary's port, so that failovers can follow
 * each other; `databaseUrl` names both ports throughout, as an operator's DATABASE_URL would.
 */
import {
  createPostgresServer,
  createStandbyServer,
  type PostgresServer,
  type StandbyServer,
} from '../support/postgres-server.js';
import { createTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';
import type { World } from '../support/world.js';
import { rowsOn } from './servers.js';

export interface ReplicatedPostgres {
  /** Both servers, for DATABASE_URL: `postgres://postgres@127.0.0.1:A,127.0.0.1:B/postgres`. */
  readonly databaseUrl: string;
  readonly primary: PostgresServer;
  /** From now on, commits reach the primary only (until the next failover). */
  holdReplication(): void;
  /** kill -9 of the primary, then the replica promoted; the rows of `world`'s table it lacked. */
  failover(world: World): Promise<number>;
  /** A new replica of the primary, on the port the last failover freed. */
  rebuildReplica(): Promise<void>;
  destroy(): Promise<void>;
}

export async function createReplicatedPostgres(ports: [number, number]): Promise<ReplicatedPostgres> {
  // Replication that went silent (a fault on the primary's port) is given up in seconds, not a minute:
  // a fast shutdown waits for its WAL sender, longer than pg_ctl waits. Replicas copy the setting.
  let primary: PostgresServer = createPostgresServer(ports[0], {
    settings: ['wal_sender_timeout = 10s', 'wal_receiver_timeout = 10s'],
  });
  primary.start();
  let standby: StandbyServer | undefined;
  let link: TcpProxy | undefined;
  let lost: PostgresServer | undefined;

  const follow = async (primaryPort: number, standbyPort: number) => {
    link = await createTcpProxy({ host: '127.0.0.1', port: primaryPort });
    await link.open();
    standby = createStandbyServer(standbyPort, primaryPort, { followVia: link.port });
    standby.start();
  };
  await follow(ports[0], ports[1]);

  return {
    databaseUrl: `postgres://postgres@127.0.0.1:${ports[0]},127.0.0.1:${ports[1]}/postgres`,
    get primary() {
      return primary;
    },
    holdReplication() {
      link?.hold();
    },
    async failover(world) {
      const promoted = standby;
      if (!promoted) throw new Error('no replica to fail over to: rebuild one first');
      const onPrimary = await rowsOn(primary, world);
      primary.kill();
      await link?.close();
      const onStandby = await rowsOn(promoted, world);
      promoted.promote();
      lost = primary;
      primary = promoted;
      standby = undefined;
      return onPrimary - onStandby;
    },
    async rebuildReplica() {
      if (!lost) throw new Error('the replica is still there');
      lost.destroy();
      const freed = lost.port;
      lost = undefined;
      await follow(primary.port, freed);
    },
    async destroy() {
      await link?.close();
      for (const server of [standby, primary, lost]) server?.destroy();
    },
  };
}
