/** The consumer's Prometheus metrics (besides the process metrics every daemon exports). */
import { createThreadUtilization } from '@user-actions/shared';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Pool } from './connecting/pool.js';
import { DEAD_LETTER_STAGES } from './loading/dead-letter.js';
import { PlainHistogram } from './plain-histogram.js';

export type LoaderMetrics = ReturnType<typeof createLoaderMetrics>;

export function createLoaderMetrics(registry: Registry, pool: Pool) {
  const registers = [registry];
  watchPool(pool, registers);
  return {
    /** The loader's thread, and the decoding thread once the loader starts it. */
    threads: createThreadUtilization(registry),
    ...eventMetrics(registers),
    ...positionMetrics(registers),
    ...deadLetterMetrics(registers),
    ...batchMetrics(registers),
  };
}

function watchPool(pool: Pool, registers: Registry[]) {
  new Gauge({
    name: 'user_actions_pg_pool_connections',
    help: 'PostgreSQL pool connections by state',
    labelNames: ['state'] as const,
    registers,
    collect() {
      this.set({ state: 'total' }, pool.totalCount);
      this.set({ state: 'idle' }, pool.idleCount);
      this.set({ state: 'waiting' }, pool.waitingCount);
    },
  });
}

/** What became of the events read: stored, skipped, lost. */
function eventMetrics(registers: Registry[]) {
  return {
    consumed: new Counter({
      name: 'user_actions_events_consumed_total',
      help: 'Valid events read from Kafka, by action (redeliveries included)',
      labelNames: ['action'] as const,
      registers,
    }),
    stored: new Counter({ name: 'user_actions_events_stored_total', help: 'Events stored as new rows', registers }),
    redelivered: new Counter({
      name: 'user_actions_events_redelivered_total',
      help: 'Redelivered events skipped because they were already stored',
      registers,
    }),
    expired: new Counter({
      name: 'user_actions_events_expired_total',
      help: 'Events older than DATABASE_RETENTION, skipped rather than stored',
      registers,
    }),
    lost: new Counter({
      name: 'user_actions_events_lost_total',
      help: 'Events missing from PostgreSQL that Kafka had already deleted, by partition',
      labelNames: ['partition'] as const,
      registers,
    }),
  };
}

/** Where the partitions stand: PostgreSQL's offsets, the lag, the table's partitions. */
function positionMetrics(registers: Registry[]) {
  return {
    movedToStoredOffset: new Counter({
      name: 'user_actions_offset_moves_total',
      help: "Times a partition was read again from PostgreSQL's offset: a batch that did not continue it, or a table found behind",
      registers,
    }),
    storedOffsetReads: new Counter({
      name: 'user_actions_stored_offset_reads_total',
      help: 'Reads of the stored offsets outside a batch: at assignment, after PostgreSQL came back, and for idle partitions',
      registers,
    }),
    lag: new Gauge({
      name: 'user_actions_consumer_lag_messages',
      help: "Messages in the partition past PostgreSQL's offset (what the table is missing), for the partitions this consumer owns",
      labelNames: ['partition'] as const,
      registers,
    }),
    partitionsCreated: new Counter({
      name: 'user_actions_partitions_created_total',
      help: 'Partitions of the table made ahead of time',
      registers,
    }),
    partitionsDropped: new Counter({
      name: 'user_actions_partitions_dropped_total',
      help: 'Partitions dropped wholly older than DATABASE_RETENTION',
      registers,
    }),
  };
}

function deadLetterMetrics(registers: Registry[]) {
  const deadLettered = new Counter({
    name: 'user_actions_events_dead_lettered_total',
    help: 'Messages sent to the dead-letter topic, by stage (decode or store)',
    labelNames: ['stage'] as const,
    registers,
  });
  // At 0 from the start, so that the first dead letters are an increase an alert can see.
  for (const stage of DEAD_LETTER_STAGES) deadLettered.inc({ stage }, 0);
  return {
    deadLettered,
    deadLetterShare: new Gauge({
      name: 'user_actions_dead_letter_share',
      help: 'Share of the last DLQ_RATIO_WINDOW messages that were dead letters (the consumer stops past DLQ_MAX_RATIO)',
      registers,
    }),
    deadLetterShareLimit: new Gauge({
      name: 'user_actions_dead_letter_share_limit',
      help: 'DLQ_MAX_RATIO: the share of dead letters that stops the consumer (1: never)',
      registers,
    }),
  };
}

/** Each batch's size and store, and each event's delay to its commit. */
function batchMetrics(registers: Registry[]) {
  return {
    retried: new Counter({
      name: 'user_actions_insert_retries_total',
      help: 'Batch inserts retried after a transient PostgreSQL failure',
      registers,
    }),
    batchSize: new Histogram({
      name: 'user_actions_batch_messages',
      help: 'Messages per Kafka batch',
      buckets: [1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000],
      registers,
    }),
    insertSeconds: new Histogram({
      name: 'user_actions_insert_duration_seconds',
      help: 'Duration of one successful batch insert',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
    eventDelaySeconds: new PlainHistogram({
      name: 'user_actions_event_delay_seconds',
      help: "From an event's Timestamp to the commit of its batch",
      buckets: [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers,
    }),
  };
}
