/**
 * The rules that make exactly-once true, one by one, with fakes for Kafka and PostgreSQL: PostgreSQL's
 * offset moves with the rows, and only where the batch continues it; a batch that does not is not stored
 * and the partition is read again from the stored offset; dead letters are acknowledged before the offset
 * passes them; nothing moves for a batch that tripped the dead-letter guard.
 */
import { FATAL_CODES, FatalError } from '@user-actions/shared';
import { describe, expect, it } from 'vitest';
import type { StoreOutcome } from '../src/loading/batch-store.js';
import { storeBatch } from '../src/loading/store-batch.js';
import { batchOf, decodedOf, fakes, running, undecodable } from './batch-fakes.js';

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
});
