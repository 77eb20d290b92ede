/**
 * The PostgreSQL ports of a batch: the rows (with the partition's offset in their transaction), waiting
 * out outages with backoff (up to MAX_OUTAGE_MS) and setting the rows PostgreSQL refuses aside instead of
 * failing the batch; and the offset on its own, for a batch whose rows had to be stored in parts.
 */
import { type Logger, logRetries, type Readiness, type SummaryLog, withRetry } from '@user-actions/shared';
import { isRowDataError, postgresVerdict } from '@user-actions/shared/postgres/errors';
import type { CopyRows } from '../decoding/copy-rows.js';
import type { LoaderMetrics } from '../metrics.js';
import { CONDITIONS } from '../readiness-conditions.js';
import { type StoreResult, storeIsolatingBadRows } from './isolate-bad-rows.js';
import type { InsertResult, MoveResult, OffsetMove } from './postgres-port.js';

export interface BatchStoreOptions {
  insertRows: (rows: CopyRows, move?: OffsetMove) => Promise<InsertResult>;
  moveOffset: (move: OffsetMove) => Promise<MoveResult>;
  /** Give up (fatally) when PostgreSQL stays unreachable this long; 0 waits forever. */
  maxOutageMs: number;
  logger: Logger;
  summary: SummaryLog<'retried'>;
  metrics: Pick<LoaderMetrics, 'insertSeconds' | 'retried'>;
  /** Its `postgres` condition is unmet while inserts fail. */
  readiness: Readiness;
  /** Called when work succeeds after PostgreSQL failed it: the server that answers now may have lost commits. */
  recovered?: () => void;
}

/** What `store` did: with `move`, the offset was part of the rows' transaction (moved or not). */
export type StoreOutcome = StoreResult & { move?: MoveResult };

export function createBatchStore(options: BatchStoreOptions) {
  const { insertRows, moveOffset, metrics } = options;
  const retrying = retryingOutages(options);
  const timedInsert = async (rows: CopyRows, move?: OffsetMove) => {
    const stopTimer = metrics.insertSeconds.startTimer();
    const result = await insertRows(rows, move);
    stopTimer();
    return result;
  };
  return {
    /**
     * Stores the rows, with `withOffset` in one transaction with the offset's move; a batch with a row
     * PostgreSQL refuses is stored in parts instead, without the offset (the outcome has no `move`).
     */
    async store(rows: CopyRows, at: OffsetMove, withOffset: boolean, signal: AbortSignal): Promise<StoreOutcome> {
      if (withOffset) {
        try {
          const { inserted, expired, move } = await retrying(() => timedInsert(rows, at), at, rows.length, signal);
          return { inserted, expired, deadLetters: [], ...(move && { move }) };
        } catch (error) {
          if (!isRowDataError(error)) throw error;
        }
      }
      return storeIsolatingBadRows(rows, async (part) => {
        const { inserted, expired } = await retrying(() => timedInsert(part), at, part.length, signal);
        return { inserted, expired };
      });
    },
    moveOffset(move: OffsetMove, signal: AbortSignal): Promise<MoveResult> {
      return retrying(() => moveOffset(move), move, 0, signal);
    },
  };
}

/**
 * Runs work on PostgreSQL until it succeeds, waiting out transient failures (readiness and the summary
 * told) until MAX_OUTAGE_MS; `recovered` is called when work succeeds after a failure.
 */
function retryingOutages({ maxOutageMs, logger, summary, metrics, readiness, recovered }: BatchStoreOptions) {
  return <T>(work: () => Promise<T>, at: OffsetMove, size: number, signal: AbortSignal): Promise<T> => {
    // Each attempt at debug level: the outage itself is logged once by readiness, and in every summary line.
    const logUnavailable = logRetries(
      logger,
      'PostgreSQL unavailable; the batch will be retried and its offset is not committed',
      { partition: at.partition, rows: size },
      'debug',
    );
    let failed = false;
    return withRetry(
      async () => {
        const result = await work();
        readiness.met(CONDITIONS.postgres);
        if (failed) recovered?.();
        return result;
      },
      {
        verdictOf: postgresVerdict,
        signal,
        ...(maxOutageMs > 0 ? { maxElapsedMs: maxOutageMs, outage: { what: 'PostgreSQL', setting: 'MAX_OUTAGE_MS' } } : {}),
        onRetry: (error, attempt, delayMs) => {
          failed = true;
          summary.add('retried');
          metrics.retried.inc();
          readiness.unmetBecause(CONDITIONS.postgres, error.message);
          logUnavailable(error, attempt, delayMs);
        },
      },
    );
  };
}
