/**
 * The rules that make exactly-once true, one by one, with fakes for Kafka and PostgreSQL: PostgreSQL's
 * offset moves with the rows, and only where the batch continues it; a batch that does not is not stored
 * and the partition is read again from the stored offset; dead letters are acknowledged before the offset
 * passes them; nothing moves for a batch that was abandoned or tripped the dead-letter guard; events
 * gone from both are reported and the policy followed.
 */
import { FATAL_CODES, FatalError } from '@user-actions/shared';
import type { KafkaMessage } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { toCopyRows } from '../src/decoding/copy-rows.js';
import type { StoreOutcome } from '../src/loading/batch-store.js';
import type { DeadLetter } from '../src/loading/dead-letter.js';
import {
  type BatchObserver,
  type BatchPorts,
  type DecodedBatch,
  type PartitionBatch,
  storeBatch,
} from '../src/loading/store-batch.js';

const abortError = () => Object.assign(new Error('This operation was aborted'), { name: 'AbortError' });

function batchOf(
  count: number,
  { firstOffset = 100, stale = (): boolean => false }: { firstOffset?: number; stale?: () => boolean } = {},
): PartitionBatch {
  const messages = Array.from({ length: count }, (_, index) => ({ offset: String(firstOffset + index) }) as KafkaMessage);
  return {
    topic: 'user-actions',
    partition: 3,
    messages,
    fetchedOffset: String(firstOffset),
    lastOffset: () => String(firstOffset + count - 1),
    highWatermark: String(firstOffset + count + 10),
    isStale: stale,
    heartbeat: async () => undefined,
  };
}

function decodedOf(rows: number, deadLetters: DeadLetter[] = []): DecodedBatch {
  const row = (index: number) => ({
    eventId: `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`,
    userId: '00000000-0000-4000-8000-000000000000',
    action: 'Login',
    ipAddress: null,
    device: null,
    timestamp: '2026-01-01T00:00:00Z',
    metadata: null,
  });
  return {
    rows: toCopyRows(Array.from({ length: rows }, (_, index) => row(index))),
    sources: Uint32Array.from({ length: rows }, (_, index) => index),
    eventTimes: new Float64Array(rows),
    deadLetters,
  };
}

/**
 * Ports that record every call in order, over a fake table whose offset for the partition is `stored`
 * (none: the partition has no offset yet); each can be replaced.
 */
function fakes(overrides: Partial<BatchPorts> = {}, table: { stored?: bigint; logStart?: bigint } = { stored: 100n }) {
  const calls: string[] = [];
  const commits: string[] = [];
  const seeks: bigint[] = [];
  const sent: DeadLetter[] = [];
  const move = (from: bigint, to: bigint) => {
    if (table.stored !== undefined && table.stored !== from) return { moved: false as const, stored: table.stored };
    table.stored = to;
    return { moved: true as const };
  };
  const ports: BatchPorts = {
    async store(rows, at, withOffset) {
      calls.push(withOffset ? 'store with offset' : 'store');
      if (!withOffset) return { inserted: rows.length, expired: 0, deadLetters: [] };
      const moved = move(at.from, at.to);
      return { inserted: moved.moved ? rows.length : 0, expired: 0, deadLetters: [], move: moved };
    },
    async moveOffset(at) {
      calls.push('move');
      return move(at.from, at.to);
    },
    async deadLetter(deadLetters) {
      calls.push('dead-letter');
      sent.push(...deadLetters);
    },
    async commit(_topic, _partition, offset) {
      calls.push('commit');
      commits.push(offset);
    },
    logStart: async () => table.logStart ?? 0n,
    seek: (_topic, _partition, offset) => {
      calls.push('seek');
      seeks.push(offset);
    },
    guard: { record: (messages, deadLetters) => ({ tripped: false, messages, deadLetters, share: 0 }) },
    onLostEvents: 'stop',
    ...overrides,
  };
  const observed: Record<string, unknown[]> = { stored: [], committed: [], kafkaCommitFailed: [], movedTo: [], lost: [] };
  const observer: BatchObserver = {
    stored: (_batch, { inserted, redelivered }) => observed.stored?.push({ inserted, redelivered }),
    deadLettered: () => undefined,
    committed: (_batch, _times, next) => observed.committed?.push(next),
    kafkaCommitFailed: (_batch, _next, error) => observed.kafkaCommitFailed?.push(error.message),
    movedTo: (_batch, stored) => observed.movedTo?.push(stored),
    eventsLost: (_batch, from, to) => observed.lost?.push([from, to]),
  };
  return { ports, observer, calls, commits, seeks, sent, observed, table };
}

const running = () => new AbortController().signal;

/** The batch's message at `index`, found not to be an event. */
const undecodable = (batch: PartitionBatch, index: number): DeadLetter => ({
  topic: batch.topic,
  partition: batch.partition,
  message: batch.messages[index] as KafkaMessage,
  stage: 'decode',
  reason: 'not valid JSON',
});

describe('storing one batch', () => {
  it("moves PostgreSQL's offset in the rows' transaction, and Kafka's only once they are stored", async () => {
    const { promise: stored, resolve } = Promise.withResolvers<StoreOutcome>();
    const { ports, observer, calls, commits, table } = fakes({
      store: (_rows, _at, withOffset) => {
        calls.push(withOffset ? 'store with offset' : 'store');
        return stored;
      },
    });
    const storing = storeBatch(batchOf(5), decodedOf(5), ports, observer, running());
    await new Promise((done) => setTimeout(done, 20));
    expect(commits).toEqual([]);
    table.stored = 105n;
    resolve({ inserted: 5, expired: 0, deadLetters: [], move: { moved: true } });
    await expect(storing).resolves.toEqual({ kind: 'committed' });
    expect(calls).toEqual(['store with offset', 'commit']);
    expect(commits).toEqual(['105']);
  });

  it('asks for the offset to move from where the batch was fetched to past its last message', async () => {
    const moves: unknown[] = [];
    const { ports, observer } = fakes({
      store: async (rows, at) => {
        moves.push(at);
        return { inserted: rows.length, expired: 0, deadLetters: [], move: { moved: true } };
      },
    });
    // The fetch at 100 began with message 102 (100 and 101 were transaction markers, say).
    const batch = { ...batchOf(3, { firstOffset: 102 }), fetchedOffset: '100' };
    await storeBatch(batch, decodedOf(3), ports, observer, running());
    expect(moves).toEqual([{ topic: 'user-actions', partition: 3, from: 100n, to: 105n }]);
  });

  it('counts the rows older than the retention window as expired, not as redelivered', async () => {
    const { ports, observer } = fakes({
      store: async () => ({ inserted: 2, expired: 3, deadLetters: [], move: { moved: true } }),
    });
    const counts: unknown[] = [];
    observer.stored = (_batch, stored) => counts.push(stored);
    await storeBatch(batchOf(5), decodedOf(5), ports, observer, running());
    expect(counts).toEqual([{ inserted: 2, redelivered: 0, expired: 3 }]);
  });

  it('counts the rows already stored as redelivered', async () => {
    const { ports, observer, observed } = fakes({
      store: async () => ({ inserted: 3, expired: 0, deadLetters: [], move: { moved: true } }),
    });
    await storeBatch(batchOf(5), decodedOf(5), ports, observer, running());
    expect(observed.stored).toEqual([{ inserted: 3, redelivered: 2 }]);
  });

  it('stores a batch that does not continue the table not at all, and reads the partition again from the stored offset', async () => {
    // PostgreSQL lost the batches after 40 (a failover, a restore); Kafka's offset says 100.
    const { ports, observer, calls, commits, seeks, observed } = fakes({}, { stored: 40n });
    const outcome = await storeBatch(batchOf(5), decodedOf(5), ports, observer, running());
    expect(outcome).toEqual({ kind: 'abandoned', why: 'moved to the stored offset' });
    expect(calls).toEqual(['store with offset', 'seek']);
    expect(seeks).toEqual([40n]);
    expect(commits).toEqual([]);
    expect(observed.stored).toEqual([]);
    expect(observed.movedTo).toEqual([40n]);
  });

  it('skips ahead to the stored offset when the table is past the batch (Kafka had not followed)', async () => {
    const { ports, observer, seeks, commits } = fakes({}, { stored: 103n });
    await expect(storeBatch(batchOf(5), decodedOf(5), ports, observer, running())).resolves.toMatchObject({
      kind: 'abandoned',
    });
    expect(seeks).toEqual([103n]);
    expect(commits).toEqual([]);
  });

  it('stores the first batch of a partition without a stored offset where Kafka says (an upgrade)', async () => {
    const { ports, observer, table, commits } = fakes({}, {});
    await expect(storeBatch(batchOf(5), decodedOf(5), ports, observer, running())).resolves.toEqual({ kind: 'committed' });
    expect(table.stored).toBe(105n);
    expect(commits).toEqual(['105']);
  });

  it('sends dead letters before the offset passes them: rows first, then the dead letters, then the offset', async () => {
    const batch = batchOf(4);
    const { ports, observer, calls, sent, table } = fakes({
      store: async () => {
        calls.push('store');
        return { inserted: 2, expired: 0, deadLetters: [{ index: 1, reason: 'PostgreSQL: out of range' }] };
      },
    });
    const outcome = await storeBatch(batch, decodedOf(3, [undecodable(batch, 3)]), ports, observer, running());
    expect(outcome).toEqual({ kind: 'committed' });
    expect(calls).toEqual(['store', 'dead-letter', 'move', 'commit']);
    expect(table.stored).toBe(104n);
    expect(sent.map(({ message, stage }) => [message.offset, stage])).toEqual([
      ['103', 'decode'],
      ['101', 'store'],
    ]);
  });

  it('stores rows PostgreSQL refused in part without the offset, which moves once their dead letters are sent', async () => {
    const { ports, observer, calls } = fakes({
      store: async (_rows, _at, withOffset) => {
        calls.push(withOffset ? 'store with offset' : 'store');
        // The batch went in parts: the offset was not part of it.
        return { inserted: 1, expired: 0, deadLetters: [{ index: 1, reason: 'PostgreSQL: out of range' }] };
      },
    });
    await expect(storeBatch(batchOf(2), decodedOf(2), ports, observer, running())).resolves.toEqual({ kind: 'committed' });
    expect(calls).toEqual(['store with offset', 'dead-letter', 'move', 'commit']);
  });

  it('does not move the offset when the dead-letter topic refuses the dead letters', async () => {
    const { ports, observer, calls, table } = fakes({
      store: async () => ({ inserted: 0, expired: 0, deadLetters: [{ index: 0, reason: 'bad' }] }),
      deadLetter: async () =>
        Promise.reject(new FatalError('the dead-letter topic refused a message', { code: FATAL_CODES.deadLetterRefused })),
    });
    const outcome = await storeBatch(batchOf(1), decodedOf(1), ports, observer, running());
    expect(outcome).toMatchObject({ kind: 'failed', error: { message: 'the dead-letter topic refused a message' } });
    expect(calls).toEqual([]);
    expect(table.stored).toBe(100n);
  });

  it('neither dead-letters nor moves the offset of a batch that trips the dead-letter guard', async () => {
    const { ports, observer, calls, table } = fakes({
      store: async () => {
        calls.push('store');
        return { inserted: 0, expired: 0, deadLetters: [{ index: 0, reason: 'bad' }] };
      },
      guard: { record: (messages, deadLetters) => ({ tripped: true, messages, deadLetters, share: 1 }) },
    });
    const outcome = await storeBatch(batchOf(1), decodedOf(1), ports, observer, running());
    expect(outcome).toMatchObject({
      kind: 'failed',
      error: { code: FATAL_CODES.deadLetterGuard, message: expect.stringContaining('DLQ_MAX_RATIO') },
    });
    expect(calls).toEqual(['store']);
    expect(table.stored).toBe(100n);
  });

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
