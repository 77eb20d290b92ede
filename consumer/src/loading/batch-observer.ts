/**
 * The loader's metrics, summary counters and log lines, fed by what happens to each batch and by what the
 * watch on the stored offsets finds.
 */
import { LOG_EVENT, type Logger, type SummaryLog, toError } from '@user-actions/shared';
import type { LoaderMetrics } from '../metrics.js';
import type { DeadLetter } from './dead-letter.js';
import type { LagTracker } from './lag-tracker.js';
import type { BatchObserver, PartitionBatch } from './store-batch.js';
import type { StoredOffsetObserver } from './stored-offset-watch.js';

export type LoaderCounter = 'stored' | 'redelivered' | 'expired' | 'deadLettered' | 'retried';

export interface LoaderObserver extends BatchObserver {
  decoded(messages: number, actions: Iterable<[string, number]>): void;
}

export function createBatchObserver(
  logger: Logger,
  summary: SummaryLog<LoaderCounter>,
  metrics: LoaderMetrics,
  lag: LagTracker,
): LoaderObserver {
  return {
    decoded(messages, actions) {
      metrics.batchSize.observe(messages);
      for (const [action, count] of actions) metrics.consumed.inc({ action }, count);
    },
    stored(_batch, { inserted, redelivered, expired }) {
      summary.add('stored', inserted);
      summary.add('redelivered', redelivered);
      summary.add('expired', expired);
      metrics.stored.inc(inserted);
      metrics.redelivered.inc(redelivered);
      metrics.expired.inc(expired);
    },
    deadLettered(deadLetters: readonly DeadLetter[]) {
      for (const { topic, partition, message, stage, reason } of deadLetters) {
        logger.warn({ topic, partition, offset: message.offset, stage, reason }, 'dead-lettered a message that cannot be stored');
        metrics.deadLettered.inc({ stage });
      }
      summary.add('deadLettered', deadLetters.length);
    },
    committed(batch: PartitionBatch, eventTimes, nextOffset) {
      const now = Date.now();
      for (const eventTime of eventTimes) metrics.eventDelaySeconds.observe(Math.max(0, (now - eventTime) / 1000));
      lag.continuesAt(batch.partition, nextOffset, BigInt(batch.highWatermark));
    },
    kafkaCommitFailed(batch, nextOffset, error) {
      // PostgreSQL holds the offset: only lag tools reading Kafka's see it late.
      logger.warn(
        { partition: batch.partition, offset: nextOffset.toString(), err: error },
        "Kafka's copy of the offset could not be committed; PostgreSQL's is the one that counts",
      );
    },
    ...offsetGaps(logger, metrics, lag),
  };
}

/** A batch that does not continue the stored offset: read again from PostgreSQL's, or reported lost. */
function offsetGaps(logger: Logger, metrics: LoaderMetrics, lag: LagTracker): Pick<LoaderObserver, 'movedTo' | 'eventsLost'> {
  return {
    movedTo(batch, stored) {
      metrics.movedToStoredOffset.inc();
      lag.movedTo(batch.partition, stored);
      logger.warn(
        {
          event: LOG_EVENT.movedToStoredOffset,
          topic: batch.topic,
          partition: batch.partition,
          fetchedOffset: batch.fetchedOffset,
          storedOffset: stored.toString(),
        },
        "the batch does not continue PostgreSQL's table; reading the partition again from PostgreSQL's offset",
      );
    },
    eventsLost(batch, from, to) {
      metrics.lost.inc({ partition: String(batch.partition) }, Number(to - from));
      logger.error(
        {
          event: LOG_EVENT.eventsLost,
          topic: batch.topic,
          partition: batch.partition,
          fromOffset: from.toString(),
          toOffset: (to - 1n).toString(),
          events: Number(to - from),
        },
        "events missing from PostgreSQL are gone from Kafka too (deleted by the topic's retention)",
      );
    },
  };
}

export function storedOffsetObserver(
  logger: Logger,
  topic: string,
  metrics: Pick<LoaderMetrics, 'movedToStoredOffset'>,
): StoredOffsetObserver {
  return {
    startingAt(offsets) {
      logger.info(
        {
          event: LOG_EVENT.startingAtStoredOffsets,
          topic,
          offsets: Object.fromEntries([...offsets].map(([partition, offset]) => [partition, offset.toString()])),
        },
        "starting the assigned partitions at PostgreSQL's offsets",
      );
    },
    behind(partition, stored, position) {
      metrics.movedToStoredOffset.inc();
      logger.warn(
        {
          event: LOG_EVENT.storedOffsetBehind,
          topic,
          partition,
          storedOffset: stored.toString(),
          position: position.toString(),
          events: Number(position - stored),
        },
        "PostgreSQL's table lost events this consumer had stored (a failover or a restore?); reading them again",
      );
    },
    readFailed(error) {
      logger.debug({ err: toError(error) }, "could not read PostgreSQL's offsets; trying again shortly");
    },
  };
}
