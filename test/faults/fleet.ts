/** The consumers of one scenario: started, killed and restarted as the scenario's faults require. */

import { LOG_EVENT } from '@user-actions/shared';
import { type Daemon, type Exit, spawnDaemon } from '../support/daemon.js';

export interface Fleet {
  /** Every consumer process ever started in this scenario, running or not. */
  readonly all: Daemon[];
  readonly running: Daemon[];
  start(count?: number): Daemon[];
  /** Stops the oldest running consumer with the signal and waits for it to exit. */
  stopOne(signal: NodeJS.Signals): Promise<Exit>;
  stopAll(): Promise<(number | null)[]>;
}

export function createFleet(env: Record<string, string>): Fleet {
  const all: Daemon[] = [];
  const running: Daemon[] = [];
  return {
    all,
    running,
    start(count = 1) {
      const started = Array.from({ length: count }, () => spawnDaemon('consumer', env));
      all.push(...started);
      running.push(...started);
      return started;
    },
    async stopOne(signal) {
      const victim = running.shift();
      if (!victim) throw new Error('no consumer is running');
      return victim.stop(signal);
    },
    async stopAll() {
      const exits = await Promise.all(running.map((daemon) => daemon.stop('SIGTERM')));
      exits.forEach((exit, index) => {
        // The scenario fails on it: its last lines say why.
        if (exit.code !== 0)
          console.error(
            `a consumer exited ${exit.code} when stopped; its last lines:`,
            running[index]?.logs
              .filter((line) => line.event !== LOG_EVENT.loaderSummary)
              .slice(-25)
              .map((line) => JSON.stringify(line))
              .join('\n'),
            running[index]?.text.slice(-10).join('\n'),
          );
      });
      running.length = 0;
      return exits.map((exit) => exit.code);
    },
  };
}

/** The sum of one counter over every summary line of every consumer (killed ones lose their last interval). */
export function summed(fleet: Fleet, counter: string): number {
  return fleet.all
    .flatMap((daemon) => daemon.logs)
    .filter((line) => line.event === LOG_EVENT.loaderSummary)
    .reduce((sum, line) => sum + Number(line[counter] ?? 0), 0);
}
