/**
 * One Kafka batch (the messages of one partition from one fetch) into PostgreSQL, exactly once:
 * decode → insert every valid row in one statement → only then commit the Kafka offset past the batch.
 * A crash between the insert and the offset commit replays the batch, and the unique event id turns the
 * replay into a no-op.
 */
import { isAbortError, type Logger, type SummaryLog, withRetry } from '@user-actions/shared';
import type { EachBatchPayload } from 'kafkajs';
import { decodeMessage, type UserActionRow } from './decode.js';
import { isTransientPgError, toFatalPgError } from './pg-errors.js';

export type LoaderCounter = 'stored' | 'replayed' | 'rejected';

export interface BatchHandlerDeps {
  logger: Logger;
  /** Aborted on shutdown or after a fatal error: stop retrying and leave the batch uncommitted. */
  signal: AbortSignal;
  insertRows: (rows: readonly UserActionRow[]) => Promise<number>;
  commitOffset: (topic: string, partition: number, nextOffset: string) => Promise<void>;
  onFatal: (error: Error) => void;
  summary: SummaryLog<LoaderCounter>;
}

export function createBatchHandler(deps: BatchHandlerDeps) {
  return async function handleBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    if (batch.isEmpty() || deps.signal.aborted || payload.isStale()) return;

    const rows = decodeBatch(payload, deps);
    let inserted: number;
    try {
      inserted = await insertWithRetry(rows, payload, deps);
    } catch (error) {
      if (isAbortError(error)) return;
      deps.onFatal(toFatalPgError(error as Error));
      return;
    }
    deps.summary.add('stored', inserted);
    deps.summary.add('replayed', rows.length - inserted);

    // After a rebalance another member owns the partition and will replay the batch (harmlessly).
    if (payload.isStale()) return;
    const lastOffset = batch.lastOffset();
    payload.resolveOffset(lastOffset);
    await deps.commitOffset(batch.topic, batch.partition, (BigInt(lastOffset) + 1n).toString());
  };
}

function decodeBatch({ batch }: EachBatchPayload, { logger, summary }: BatchHandlerDeps): UserActionRow[] {
  const rows: UserActionRow[] = [];
  for (const message of batch.messages) {
    const decoded = decodeMessage({
      topic: batch.topic,
      partition: batch.partition,
      offset: message.offset,
      value: message.value,
    });
    if (decoded.ok) {
      rows.push(decoded.row);
    } else {
      summary.add('rejected');
      logger.warn(
        { topic: batch.topic, partition: batch.partition, offset: message.offset, reason: decoded.reason },
        'rejected a message that is not a valid user action',
      );
    }
  }
  return rows;
}

async function insertWithRetry(
  rows: readonly UserActionRow[],
  payload: EachBatchPayload,
  deps: BatchHandlerDeps,
): Promise<number> {
  return withRetry(() => deps.insertRows(rows), {
    isRetryable: isTransientPgError,
    signal: deps.signal,
    onRetry: async (error, attempt, delayMs) => {
      deps.logger.warn(
        {
          partition: payload.batch.partition,
          rows: rows.length,
          attempt: attempt + 1,
          retryInMs: delayMs,
          reason: error.message,
        },
        'PostgreSQL unavailable; the batch will be retried and its offset is not committed',
      );
      // Keeps the group membership alive through a long outage.
      await payload.heartbeat();
    },
  });
}
