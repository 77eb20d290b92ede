/** The producer's Prometheus metrics (besides the process metrics every daemon exports). */
import { createThreadUtilization } from '@user-actions/shared';
import { Counter, Histogram, type Registry } from 'prom-client';

export type ProducerMetrics = ReturnType<typeof createProducerMetrics>;

export function createProducerMetrics(registry: Registry) {
  const registers = [registry];
  return {
    /** The sending thread, and the generator thread once it runs. */
    threads: createThreadUtilization(registry),
    produced: new Counter({
      name: 'user_actions_events_produced_total',
      help: 'Events the broker acknowledged, by action',
      labelNames: ['action'] as const,
      registers,
    }),
    sendSeconds: new Histogram({
      name: 'user_actions_send_duration_seconds',
      help: 'From handing a batch of events to Kafka to its acknowledgement',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers,
    }),
  };
}
