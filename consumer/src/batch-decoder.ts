/**
 * Decodes batches on the decoding thread (decode-worker.ts), one request after another in the order
 * asked; the bytes of a batch's messages go over in one buffer and its rows come back in one, both
 * moved rather than copied.
 */
import { Worker } from 'node:worker_threads';
import type { UtilizationSource } from '@user-actions/shared';
import type { KafkaMessage } from 'kafkajs';
import { type DecodedRows, packMessages } from './batch-decoding.js';

export interface BatchDecoder {
  decode(topic: string, partition: number, messages: readonly KafkaMessage[]): Promise<DecodedRows>;
  /** How busy the decoding thread has been. */
  utilization: UtilizationSource;
  stop(): Promise<void>;
}

export function startBatchDecoder(): BatchDecoder {
  const worker = new Worker(new URL('./decode-worker.js', import.meta.url), {
    // Everything the thread allocates dies with its batch, so a small young generation costs no speed
    // and keeps the consumer's memory down.
    resourceLimits: { maxYoungGenerationSizeMb: 4 },
  });
  // Never what keeps the process alive: the loader's sockets and timers decide that.
  worker.unref();
  // The thread answers in the order it was asked.
  const waiting: { resolve: (rows: DecodedRows) => void; reject: (error: Error) => void }[] = [];
  let failure: Error | undefined;
  const fail = (error: Error) => {
    failure ??= error;
    for (const request of waiting.splice(0)) request.reject(failure);
  };
  worker.on('message', (rows: DecodedRows) => waiting.shift()?.resolve(rows));
  worker.on('error', (error) => fail(new Error(`the decoding thread failed: ${error.message}`, { cause: error })));
  worker.on('exit', (code) => fail(new Error(`the decoding thread stopped (exit code ${code})`)));

  return {
    decode(topic, partition, messages) {
      if (failure) return Promise.reject(failure);
      const packed = packMessages(topic, partition, messages);
      return new Promise<DecodedRows>((resolve, reject) => {
        waiting.push({ resolve, reject });
        worker.postMessage(packed, [packed.values.buffer, packed.ends.buffer]);
      });
    },
    utilization: () => worker.performance.eventLoopUtilization(),
    async stop() {
      failure ??= new Error('the decoding thread is stopped');
      await worker.terminate();
    },
  };
}
