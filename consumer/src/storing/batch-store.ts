/**
 * The store port of a batch: the rows into PostgreSQL, waiting out outages with backoff (up to
 * MAX_OUTAGE_MS) and setting the rows PostgreSQL refuses aside instead of failing the batch.
 */
import { type Logger, logRetries, type Readiness, type SummaryLog, withRetry } from '@user-actions/shared';
import type { LoaderMetrics } from '../metrics.js';
import type { CopyRows } from './copy-text.js';
import { type StoreResult, storeIsolatingBadRows } from './isolate-bad-rows.js';
import { givingUp, isTransientPgError } from './pg-errors.js';

export interface BatchStoreOptions {
  insertRows: (rows: CopyRows) => Promise<number>;
  /** Give up (fatally) when PostgreSQL stays unreachable this long; 0 waits forever. */
  maxOutageMs: number;
  logger: Logger;
  summary: SummaryLog<'retried'>;
  metrics: Pick<LoaderMetrics, 'insertSeconds' | 'retried'>;
  /** Its `postgres` condition is unmet while inserts fail. */
  readiness: Readiness;
}

export function createBatchStore(options: BatchStoreOptions) {
  const { insertRows, maxOutageMs, logger, summary, metrics, readiness } = options;
  const timedInsert = async (rows: CopyRows) => {
    const stopTimer = metrics.insertSeconds.startTimer();
    const inserted = await insertRows(rows);
    stopTimer();
    readiness.met('postgres');
    return inserted;
  };
  const insertWithRetry = (rows: CopyRows, partition: number, signal: AbortSignal) => {
    const logUnavailable = logRetries(
      logger,
      'PostgreSQL unavailable; the batch will be retried and its offset is not committed',
      { partition, rows: rows.length },
    );
    return withRetry(() => timedInsert(rows), {
      isRetryable: isTransientPgError,
      signal,
      ...(maxOutageMs > 0 ? { maxElapsedMs: maxOutageMs, outage: { what: 'PostgreSQL', setting: 'MAX_OUTAGE_MS' } } : {}),
      onRetry: (error, attempt, delayMs) => {
        summary.add('retried');
        metrics.retried.inc();
        readiness.unmetBecause('postgres', `PostgreSQL unavailable: ${error.message}`);
        logUnavailable(error, attempt, delayMs);
      },
    });
  };
  return async (rows: CopyRows, partition: number, signal: AbortSignal): Promise<StoreResult> => {
    try {
      return await storeIsolatingBadRows(rows, (part) => insertWithRetry(part, partition, signal));
    } catch (error) {
      throw givingUp(error);
    }
  };
}
