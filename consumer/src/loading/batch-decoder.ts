/**
 * Decodes batches on the decoding thread (`decoding/decode-worker.ts`), one request after another in the order
 * asked; the bytes of a batch's messages go over in one buffer and its rows come back in one, both
 * moved rather than copied.
 */
import { Worker } from 'node:worker_threads';
import { type UtilizationSource, workerReplies } from '@user-actions/shared';
import type { KafkaMessage } from 'kafkajs';
import { type DecodedRows, packMessages } from '../decoding/message-packing.js';

export interface BatchDecoder {
  decode(topic: string, partition: number, messages: readonly KafkaMessage[]): Promise<DecodedRows>;
  /** How busy the decoding thread has been. */
  utilization: UtilizationSource;
  stop(): Promise<void>;
}

export function startBatchDecoder(): BatchDecoder {
  const worker = new Worker(new URL('../decoding/decode-worker.js', import.meta.url), {
    // Everything the thread allocates dies with its batch, so a small young generation costs no speed
    // and keeps the consumer's memory down.
    resourceLimits: { maxYoungGenerationSizeMb: 4 },
  });
  // Never what keeps the process alive: the loader's sockets and timers decide that.
  worker.unref();
  const decoding = workerReplies(worker, 'decoding thread');
  return {
    decode(topic, partition, messages) {
      const packed = packMessages(topic, partition, messages);
      return decoding.request<DecodedRows>(packed, [packed.values.buffer, packed.ends.buffer]);
    },
    utilization: decoding.utilization,
    stop: () => decoding.stop(),
  };
}
