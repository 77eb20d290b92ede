/**
 * Brokers of the suite's own, started with scripts/kafka.sh: one, or a three-node KRaft cluster
 * (replication factor 3, min.insync.replicas 2). Any node can be stopped and started again.
 */
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { assertBrokerVersion } from '../../scripts/kafka-version.mjs';
import { processIsRunning } from '../support/processes.js';

const run = promisify(execFile);
const script = new URL('../../scripts/kafka.sh', import.meta.url).pathname;

export interface KafkaBrokers {
  /** Comma-separated host:port list of every node. */
  readonly brokers: string;
  readonly size: number;
  start(node?: number): Promise<void>;
  stop(node?: number): Promise<void>;
  /** kill -9: no goodbye to clients or controllers, nothing flushed. */
  kill(node?: number): void;
  startAll(): Promise<void>;
  destroy(): Promise<void>;
}

/** `basePort` and the next 2 × size ports are used: a client and a controller port per node. */
export function createKafkaBrokers(size: 1 | 3, basePort: number): KafkaBrokers {
  const dir = mkdtempSync(join(tmpdir(), 'user-actions-faults-kafka-'));
  const nodes = Array.from({ length: size }, (_, index) => ({
    id: index + 1,
    port: basePort + index * 2,
    controllerPort: basePort + index * 2 + 1,
  }));
  // A KRaft cluster id is 16 bytes, base64url without padding.
  const clusterId = randomBytes(16).toString('base64url');
  const voters = nodes.map((node) => `${node.id}@127.0.0.1:${node.controllerPort}`).join(',');
  const envOf = (node: (typeof nodes)[number]) => ({
    ...process.env,
    KAFKA_PORT: String(node.port),
    KAFKA_CONTROLLER_PORT: String(node.controllerPort),
    KAFKA_STATE_DIR: join(dir, `node-${node.id}`),
    KAFKA_NODE_ID: String(node.id),
    KAFKA_QUORUM_VOTERS: voters,
    KAFKA_CLUSTER_ID: clusterId,
  });
  const nodeAt = (index: number) => {
    const node = nodes[index];
    if (!node) throw new Error(`no node ${index}`);
    return node;
  };
  const kafka = async (command: 'start' | 'stop', index: number) => {
    await run('bash', [script, command], { env: envOf(nodeAt(index)) });
    // The version asked for (KAFKA_VERSION, for the compatibility set) is the one that runs.
    if (command === 'start') assertBrokerVersion(envOf(nodeAt(index)).KAFKA_STATE_DIR);
  };

  const brokers: KafkaBrokers = {
    brokers: nodes.map((node) => `127.0.0.1:${node.port}`).join(','),
    size,
    start: async (index = 0) => void (await kafka('start', index)),
    stop: async (index = 0) => void (await kafka('stop', index)),
    kill: (index = 0) => {
      const pidFile = join(envOf(nodeAt(index)).KAFKA_STATE_DIR, 'kafka.pid');
      const pid = Number(readFileSync(pidFile, 'utf8'));
      process.kill(pid, 'SIGKILL');
      for (let waited = 0; waited < 100 && processIsRunning(pid); waited++) execFileSync('sleep', ['0.05']);
      rmSync(pidFile, { force: true });
    },
    // A multi-node cluster starts only once a quorum of controllers is up: start them together.
    startAll: async () => void (await Promise.all(nodes.map((_, index) => kafka('start', index)))),
    destroy: async () => {
      await Promise.all(nodes.map((_, index) => kafka('stop', index).catch(() => undefined)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return brokers;
}
