/**
 * The rules that make exactly-once true, one by one, with fakes for Kafka and PostgreSQL: an offset is
 * committed only after its batch's rows are stored and its dead letters acknowledged, and never for a
 * batch that was abandoned (stopping, reassigned) or that tripped the dead-letter guard.
 */
import { FATAL_CODES, FatalError } from '@user-actions/shared';
import type { KafkaMessage } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import type { DeadLetter } from '../src/loading/dead-letter.js';
import {
  type BatchObserver,
  type BatchPorts,
  type DecodedBatch,
  type PartitionBatch,
  storeBatch,
} from '../src/loading/store-batch.js';
import { toCopyRows } from '../src/storing/copy-text.js';
import type { StoreResult } from '../src/storing/isolate-bad-rows.js';

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

/** Ports that record every call in order; each can be replaced. */
function fakes(overrides: Partial<BatchPorts> = {}) {
  const calls: string[] = [];
  const commits: string[] = [];
  const sent: DeadLetter[] = [];
  const ports: BatchPorts = {
    async store(rows) {
      calls.push('store');
      return { inserted: rows.length, deadLetters: [] };
    },
    async deadLetter(deadLetters) {
      calls.push('dead-letter');
      sent.push(...deadLetters);
    },
    async commit(_topic, _partition, offset) {
      calls.push('commit');
      commits.push(offset);
    },
    guard: { record: (messages, deadLetters) => ({ tripped: false, messages, deadLetters }) },
    ...overrides,
  };
  const observed: Record<string, unknown[]> = { stored: [], committed: [], commitFailed: [] };
  const observer: BatchObserver = {
    stored: (_batch, inserted, redelivered) => observed.stored?.push({ inserted, redelivered }),
    deadLettered: () => undefined,
    committed: (_batch, _times, next) => observed.committed?.push(next),
    commitFailed: (_batch, _next, error) => observed.commitFailed?.push(error.message),
  };
  return { ports, observer, calls, commits, sent, observed };
}

describe('storing one batch', () => {
  it('commits the offset after the last message, and only once the rows are stored', async () => {
    const { promise: stored, resolve } = Promise.withResolvers<StoreResult>();
    const { ports, observer, calls, commits } = fakes({
      store: () => {
        calls.push('store');
        return stored;
      },
    });
    const storing = storeBatch(batchOf(5), decodedOf(5), ports, observer, new AbortController().signal);
    await new Promise((done) => setTimeout(done, 20));
    expect(commits).toEqual([]);
    resolve({ inserted: 5, deadLetters: [] });
    await expect(storing).resolves.toEqual({ kind: 'committed' });
    expect(calls).toEqual(['store', 'commit']);
    expect(commits).toEqual(['105']);
  });

  it('counts the rows already stored as redelivered', async () => {
    const { ports, observer, observed } = fakes({ store: async () => ({ inserted: 3, deadLetters: [] }) });
    await storeBatch(batchOf(5), decodedOf(5), ports, observer, new AbortController().signal);
    expect(observed.stored).toEqual([{ inserted: 3, redelivered: 2 }]);
  });

  it('dead-letters undecodable messages and rows PostgreSQL refused before committing', async () => {
    const batch = batchOf(4);
    const undecodable: DeadLetter = {
      topic: 'user-actions',
      partition: 3,
      message: batch.messages[3] as KafkaMessage,
      stage: 'decode',
      reason: 'not valid JSON',
    };
    const { ports, observer, calls, sent } = fakes({
      store: async () => {
        calls.push('store');
        return { inserted: 2, deadLetters: [{ index: 1, reason: 'PostgreSQL: out of range' }] };
      },
    });
    const outcome = await storeBatch(batch, decodedOf(3, [undecodable]), ports, observer, new AbortController().signal);
    expect(outcome).toEqual({ kind: 'committed' });
    expect(calls).toEqual(['store', 'dead-letter', 'commit']);
    expect(sent.map(({ message, stage }) => [message.offset, stage])).toEqual([
      ['103', 'decode'],
      ['101', 'store'],
    ]);
  });

  it('does not commit when the dead-letter topic refuses the dead letters', async () => {
    const { ports, observer, commits } = fakes({
      store: async () => ({ inserted: 0, deadLetters: [{ index: 0, reason: 'bad' }] }),
      deadLetter: async () =>
        Promise.reject(new FatalError('the dead-letter topic refused a message', { code: FATAL_CODES.deadLetterRefused })),
    });
    const outcome = await storeBatch(batchOf(1), decodedOf(1), ports, observer, new AbortController().signal);
    expect(outcome).toMatchObject({ kind: 'failed', error: { message: 'the dead-letter topic refused a message' } });
    expect(commits).toEqual([]);
  });

  it('neither dead-letters nor commits a batch that trips the dead-letter guard', async () => {
    const { ports, observer, calls } = fakes({
      store: async () => {
        calls.push('store');
        return { inserted: 0, deadLetters: [{ index: 0, reason: 'bad' }] };
      },
      guard: { record: (messages, deadLetters) => ({ tripped: true, messages, deadLetters }) },
    });
    const outcome = await storeBatch(batchOf(1), decodedOf(1), ports, observer, new AbortController().signal);
    expect(outcome).toMatchObject({
      kind: 'failed',
      error: { code: FATAL_CODES.deadLetterGuard, message: expect.stringContaining('DLQ_MAX_RATIO') },
    });
    expect(calls).toEqual(['store']);
  });

  it('does not commit a batch whose partition went to another consumer while it was stored', async () => {
    let stale = false;
    const { ports, observer, commits } = fakes({
      store: async (rows) => {
        stale = true;
        return { inserted: rows.length, deadLetters: [] };
      },
    });
    const outcome = await storeBatch(
      batchOf(2, { stale: () => stale }),
      decodedOf(2),
      ports,
      observer,
      new AbortController().signal,
    );
    expect(outcome).toEqual({ kind: 'abandoned', why: 'partition reassigned' });
    expect(commits).toEqual([]);
  });

  it('abandons the batch uncommitted when stopping interrupts the store', async () => {
    const stopping = new AbortController();
    const { ports, observer, commits } = fakes({
      store: (_rows, _partition, signal) =>
        new Promise((_, reject) => signal.addEventListener('abort', () => reject(abortError()), { once: true })),
    });
    const storing = storeBatch(batchOf(2), decodedOf(2), ports, observer, stopping.signal);
    stopping.abort();
    await expect(storing).resolves.toEqual({ kind: 'abandoned', why: 'stopping' });
    expect(commits).toEqual([]);
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

  it('fails, uncommitted, when the rows cannot be stored', async () => {
    const { ports, observer, commits } = fakes({
      store: async () =>
        Promise.reject(
          new FatalError('PostgreSQL stayed unreachable for longer than MAX_OUTAGE_MS', { code: FATAL_CODES.outage }),
        ),
    });
    const outcome = await storeBatch(batchOf(2), decodedOf(2), ports, observer, new AbortController().signal);
    expect(outcome).toMatchObject({ kind: 'failed', error: { name: 'FatalError' } });
    expect(commits).toEqual([]);
  });

  it('reports a failed commit and leaves the batch to be redelivered', async () => {
    const { ports, observer, observed } = fakes({ commit: async () => Promise.reject(new Error('REBALANCE_IN_PROGRESS')) });
    const outcome = await storeBatch(batchOf(2), decodedOf(2), ports, observer, new AbortController().signal);
    expect(outcome).toEqual({ kind: 'abandoned', why: 'commit failed' });
    expect(observed.commitFailed).toEqual(['REBALANCE_IN_PROGRESS']);
    expect(observed.committed).toEqual([]);
  });
});
