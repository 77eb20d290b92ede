/**
 * Requests to a worker thread that answers each in turn, in the order asked: the producer's generator
 * thread and the consumer's decoding thread. A thread that fails or exits fails every request waiting
 * and every one after, with `name` in the message.
 */
import type { TransferListItem, Worker } from 'node:worker_threads';
import type { UtilizationSource } from './thread-utilization.js';

export interface WorkerReplies {
  /** The thread's next message, without asking (such as a signal that it is ready). */
  next<Reply>(): Promise<Reply>;
  request<Reply>(message: unknown, transfer?: readonly TransferListItem[]): Promise<Reply>;
  /** How busy the thread has been. */
  utilization: UtilizationSource;
  stop(): Promise<void>;
}

export function workerReplies(worker: Worker, name: string): WorkerReplies {
  const waiting: { resolve: (reply: never) => void; reject: (error: Error) => void }[] = [];
  let failure: Error | undefined;
  const fail = (error: Error) => {
    failure ??= error;
    for (const request of waiting.splice(0)) request.reject(failure);
  };
  worker.on('message', (reply: unknown) => waiting.shift()?.resolve(reply as never));
  worker.on('error', (error) => fail(new Error(`the ${name} failed: ${error.message}`, { cause: error })));
  worker.on('exit', (code) => fail(new Error(`the ${name} stopped (exit code ${code})`)));

  const next = <Reply>() => {
    if (failure) return Promise.reject(failure);
    const { promise, resolve, reject } = Promise.withResolvers<Reply>();
    waiting.push({ resolve, reject });
    return promise;
  };
  return {
    next,
    request<Reply>(message: unknown, transfer: readonly TransferListItem[] = []) {
      const reply = next<Reply>();
      if (!failure) worker.postMessage(message, transfer);
      return reply;
    },
    utilization: () => worker.performance.eventLoopUtilization(),
    async stop() {
      failure ??= new Error(`the ${name} is stopped`);
      await worker.terminate();
    },
  };
}
