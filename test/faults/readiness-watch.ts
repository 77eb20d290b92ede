/** What the consumers' `/readyz` said while a fault lasted: polled twice a second on every running one. */
import { LOG_EVENT, type UnmetCondition } from '@user-actions/shared';
import type { Fleet } from './fleet.js';

export interface ReadinessWatch {
  /** Stops polling; every distinct dependency and reason seen while not ready. */
  stop(): Promise<UnmetCondition[]>;
}

export function watchReadiness(fleet: Fleet): ReadinessWatch {
  const seen = new Map<string, UnmetCondition>();
  let polling = true;
  const poll = async () => {
    while (polling) {
      const ports = fleet.running
        .map((daemon) => daemon.logs.find((line) => line.event === LOG_EVENT.serving)?.port)
        .filter((port) => typeof port === 'number');
      await Promise.all(
        ports.map(async (port) => {
          try {
            const response = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(1_000) });
            if (response.status !== 503) return;
            const { unmet } = (await response.json()) as { unmet: UnmetCondition[] };
            for (const condition of unmet) seen.set(`${condition.dependency}: ${condition.reason}`, condition);
          } catch {
            // A consumer that is stopping or was killed answers nothing: not what is watched for.
          }
        }),
      );
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  };
  const polled = poll();
  return {
    async stop() {
      polling = false;
      await polled;
      return [...seen.values()];
    },
  };
}
