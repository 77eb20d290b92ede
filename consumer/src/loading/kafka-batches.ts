/**
 * kafkajs' `eachBatch` on top of the exactly-once core: decode the batch (on the decoding thread), queue
 * its store-and-commit behind the partition's previous batch, and return once that previous batch is
 * committed. kafkajs then fetches the next batch while this one is stored: Kafka and PostgreSQL work in
 * parallel, one batch ahead per partition and no more.
 */
import { toError } from '@user-actions/shared';
import type { EachBatchPayload, KafkaMessage } from 'kafkajs';
import { copyRowsFrom } from '../decoding/copy-rows.js';
import type { BatchDecoder } from './batch-decoder.js';
import type { LoaderObserver } from './batch-observer.js';
import { PartitionQueue } from './partition-queue.js';
import { type BatchPorts, type DecodedBatch, type PartitionBatch, storeBatch } from './store-batch.js';

export interface KafkaBatchesOptions {
  decoder: BatchDecoder;
  ports: BatchPorts;
  observer: LoaderObserver;
  /** Aborted on shutdown or after a fatal error: stop retrying and leave the batch uncommitted. */
  signal: AbortSignal;
  onFatal: (error: Error) => void;
}

export interface KafkaBatches {
  eachBatch(payload: EachBatchPayload): Promise<void>;
  /** Resolves once every batch started is committed or abandoned (after the signal aborts). */
  drain(): Promise<void>;
}

export function createKafkaBatches({ decoder, ports, observer, signal, onFatal }: KafkaBatchesOptions): KafkaBatches {
  const queue = new PartitionQueue();
  return {
    async eachBatch(payload) {
      const { batch } = payload;
      if (batch.isEmpty() || signal.aborted || payload.isStale()) return;
      let decoded: DecodedBatch;
      try {
        decoded = await decode(batch, decoder, observer);
      } catch (caught) {
        // The decoding thread failed: a defect, not the data (a message it cannot decode is a dead letter).
        onFatal(toError(caught));
        return;
      }
      // Left uncommitted: whoever consumes the partition next decodes the batch again.
      if (signal.aborted || payload.isStale()) return;
      const partitionBatch: PartitionBatch = {
        topic: batch.topic,
        partition: batch.partition,
        messages: batch.messages,
        // kafkajs has it on every batch, though its types do not declare it.
        fetchedOffset: (batch as typeof batch & { fetchedOffset: string }).fetchedOffset,
        lastOffset: () => batch.lastOffset(),
        highWatermark: batch.highWatermark,
        isStale: () => payload.isStale(),
        heartbeat: () => payload.heartbeat(),
      };
      const previous = queue.enqueue(`${batch.topic}/${batch.partition}`, async () => {
        const outcome = await storeBatch(partitionBatch, decoded, ports, observer, signal);
        if (outcome.kind === 'failed') onFatal(outcome.error);
      });
      // Only moves kafkajs' fetch position; the committed offset moves after the rows are stored.
      payload.resolveOffset(batch.lastOffset());
      await previous;
    },
    drain: () => queue.drain(),
  };
}

async function decode(batch: EachBatchPayload['batch'], decoder: BatchDecoder, observer: LoaderObserver): Promise<DecodedBatch> {
  const { topic, partition, messages } = batch;
  const { rows, sources, eventTimes, actions, deadLetters: notEvents } = await decoder.decode(topic, partition, messages);
  observer.decoded(messages.length, actions);
  const deadLetters = notEvents.map(({ index, reason }) => ({
    topic,
    partition,
    message: messages[index] as KafkaMessage,
    stage: 'decode' as const,
    reason,
  }));
  return { rows: copyRowsFrom(rows), sources, eventTimes, deadLetters };
}
