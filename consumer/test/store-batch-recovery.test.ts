/**
 * The rules that make exactly-once true where the table and Kafka disagree or the consumer stops: an
 * offset found elsewhere is followed; events gone from both are reported and the policy followed; nothing
 * moves for a batch that was abandoned, stale or failed.
 */
import { FATAL_CODES, FatalError } from '@user-actions/shared';
import { describe, expect, it } from 'vitest';
import { storeBatch } from '../src/loading/store-batch.js';
import { abortError, batchOf, decodedOf, fakes, running, undecodable } from './batch-fakes.js';

describe('storing one batch where the table and Kafka disagree, or while stopping', () => {
  it('goes back to the stored offset when it is found elsewhere as the offset moves on its own', async () => {
    const batch = batchOf(2);
    const { ports, observer, calls, seeks } = fakes({}, { stored: 60n });
    const outcome = await storeBatch(batch, decodedOf(1, [undecodable(batch, 1)]), ports, observer, running());
    expect(outcome).toEqual({ kind: 'abandoned', why: 'moved to the stored offset' });
    expect(calls).toEqual(['store', 'dead-letter', 'move', 'seek']);
    expect(seeks).toEqual([60n]);
  });

  it('stops, saying which events, when the ones PostgreSQL lost are gone from Kafka too (ON_LOST_EVENTS=stop)', async () => {
    const { ports, observer, seeks, observed } = fakes({}, { stored: 40n, logStart: 70n });
    const outcome = await storeBatch(batchOf(5), decodedOf(5), ports, observer, running());
    expect(outcome).toMatchObject({
      kind: 'failed',
      error: {
        code: FATAL_CODES.eventsLost,
        message: expect.stringContaining('30 events of user-actions partition 3 (offsets 40 to 69)'),
      },
    });
    expect(observed.lost).toEqual([[40n, 70n]]);
    expect(seeks).toEqual([]);
  });

  it('records the gap and goes on from the log start with ON_LOST_EVENTS=continue', async () => {
    const { ports, observer, seeks, observed, table } = fakes({ onLostEvents: 'continue' }, { stored: 40n, logStart: 70n });
    const outcome = await storeBatch(batchOf(5), decodedOf(5), ports, observer, running());
    expect(outcome).toEqual({ kind: 'abandoned', why: 'events lost' });
    expect(observed.lost).toEqual([[40n, 70n]]);
    expect(table.stored).toBe(70n);
    expect(seeks).toEqual([70n]);
  });

  it("seeks to the stored offset even past the batch's high watermark (a new leader's lags for a while)", async () => {
    const { ports, observer, seeks } = fakes({}, { stored: 5_000n });
    const outcome = await storeBatch(batchOf(5), decodedOf(5), ports, observer, running());
    expect(outcome).toEqual({ kind: 'abandoned', why: 'moved to the stored offset' });
    expect(seeks).toEqual([5_000n]);
  });

  it('does not store a batch of a partition about to be read from elsewhere (kafkajs calls it stale)', async () => {
    const { ports, observer, calls } = fakes();
    const outcome = await storeBatch(batchOf(2, { stale: () => true }), decodedOf(2), ports, observer, running());
    expect(outcome).toEqual({ kind: 'abandoned', why: 'partition reassigned' });
    expect(calls).toEqual([]);
  });

  it('abandons the batch, its offset unmoved, when stopping interrupts the store', async () => {
    const stopping = new AbortController();
    const { ports, observer, commits, table } = fakes({
      store: (_rows, _at, _withOffset, signal) =>
        new Promise((_, reject) => signal.addEventListener('abort', () => reject(abortError()), { once: true })),
    });
    const storing = storeBatch(batchOf(2), decodedOf(2), ports, observer, stopping.signal);
    stopping.abort();
    await expect(storing).resolves.toEqual({ kind: 'abandoned', why: 'stopping' });
    expect(commits).toEqual([]);
    expect(table.stored).toBe(100n);
  });

  it('does not even store a batch once stopping has begun', async () => {
    const stopping = new AbortController();
    stopping.abort();
    const { ports, observer, calls } = fakes();
    await expect(storeBatch(batchOf(2), decodedOf(2), ports, observer, stopping.signal)).resolves.toEqual({
      kind: 'abandoned',
      why: 'stopping',
    });
    expect(calls).toEqual([]);
  });

  it('fails, its offset unmoved, when the rows cannot be stored', async () => {
    const { ports, observer, commits, table } = fakes({
      store: async () =>
        Promise.reject(
          new FatalError('PostgreSQL stayed unreachable for longer than MAX_OUTAGE_MS', { code: FATAL_CODES.outage }),
        ),
    });
    const outcome = await storeBatch(batchOf(2), decodedOf(2), ports, observer, running());
    expect(outcome).toMatchObject({ kind: 'failed', error: { name: 'FatalError' } });
    expect(commits).toEqual([]);
    expect(table.stored).toBe(100n);
  });

  it("counts the batch committed when only Kafka's copy of the offset could not follow", async () => {
    const { ports, observer, observed } = fakes({ commit: async () => Promise.reject(new Error('REBALANCE_IN_PROGRESS')) });
    const outcome = await storeBatch(batchOf(2), decodedOf(2), ports, observer, running());
    expect(outcome).toEqual({ kind: 'committed' });
    expect(observed.kafkaCommitFailed).toEqual(['REBALANCE_IN_PROGRESS']);
    expect(observed.committed).toEqual([102n]);
  });
});
