import { describe, expect, it, vi } from 'vitest';
import { FATAL_CODES, type Verdict } from '../src/errors.js';
import { backoffDelayMs, OutageError, withRetry } from '../src/retry.js';

const fast = { initialDelayMs: 1, maxDelayMs: 4 };
const transient = () => Object.assign(new Error('connection refused'), { code: 'ECONNREFUSED' });
const waitable: Verdict = { retryable: true, explanation: 'the server is away', code: FATAL_CODES.outage };
const refused: Verdict = { retryable: false, explanation: 'the password is wrong', code: FATAL_CODES.postgresRefused };
const retryable = () => waitable;
const signal = new AbortController().signal;

describe('backoff', () => {
  it('grows exponentially, is capped, and is jittered between half and all of the step', () => {
    const options = { initialDelayMs: 100, maxDelayMs: 1_000 };
    expect(backoffDelayMs(0, options, () => 0)).toBe(50);
    expect(backoffDelayMs(0, options, () => 1)).toBe(100);
    expect(backoffDelayMs(3, options, () => 1)).toBe(800);
    expect(backoffDelayMs(10, options, () => 1)).toBe(1_000);
    expect(backoffDelayMs(1_000, options, () => 0.5)).toBe(750);
  });
});

describe('withRetry', () => {
  it('retries retryable failures until the operation succeeds', async () => {
    const operation = vi.fn().mockRejectedValueOnce(transient()).mockRejectedValueOnce(transient()).mockResolvedValue('done');
    const onRetry = vi.fn();
    await expect(withRetry(operation, { ...fast, verdictOf: retryable, signal, onRetry })).resolves.toBe('done');
    expect(operation).toHaveBeenCalledTimes(3);
    expect(onRetry).toHaveBeenCalledTimes(2);
  });

  it('throws a non-retryable failure at once', async () => {
    const operation = vi.fn().mockRejectedValue(new Error('password authentication failed'));
    const giving = withRetry(operation, { ...fast, verdictOf: () => refused, signal });
    await expect(giving).rejects.toMatchObject({
      name: 'FatalError',
      code: FATAL_CODES.postgresRefused,
      message: 'the password is wrong (password authentication failed)',
    });
    expect(operation).toHaveBeenCalledTimes(1);
  });

  it('throws a failure its table does not know at once, as it is', async () => {
    const defect = new TypeError('x is undefined');
    await expect(withRetry(() => Promise.reject(defect), { ...fast, verdictOf: () => undefined, signal })).rejects.toBe(defect);
  });

  it('hands each retry the failure with its verdict read', async () => {
    const onRetry = vi.fn();
    await withRetry(vi.fn().mockRejectedValueOnce(transient()).mockResolvedValue('done'), {
      ...fast,
      verdictOf: retryable,
      signal,
      onRetry,
    });
    expect(onRetry.mock.calls[0]?.[0]).toMatchObject({ retryable: true, message: 'the server is away: connection refused' });
  });

  it('stops waiting as soon as the signal aborts', async () => {
    const controller = new AbortController();
    const started = Date.now();
    const retrying = withRetry(() => Promise.reject(transient()), {
      initialDelayMs: 60_000,
      maxDelayMs: 60_000,
      verdictOf: retryable,
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(), 20);
    await expect(retrying).rejects.toMatchObject({ name: 'AbortError' });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('gives up after maxElapsedMs with the last failure and its code', async () => {
    const giving = withRetry(() => Promise.reject(transient()), { ...fast, verdictOf: retryable, signal, maxElapsedMs: 30 });
    await expect(giving).rejects.toMatchObject({ name: 'FatalError', code: FATAL_CODES.outage });
    await expect(giving).rejects.toThrow('still failing after 0.03 s: the server is away: connection refused');
  });

  it('names the outage and the setting that bounds it when told what stayed unreachable', async () => {
    const outage = { what: 'PostgreSQL', setting: 'MAX_OUTAGE_MS' };
    const giving = withRetry(() => Promise.reject(transient()), {
      ...fast,
      verdictOf: retryable,
      signal,
      maxElapsedMs: 30,
      outage,
    });
    await expect(giving).rejects.toBeInstanceOf(OutageError);
    await expect(giving).rejects.toMatchObject({ code: 'outage' });
    await expect(giving).rejects.toThrow('PostgreSQL stayed unreachable for longer than MAX_OUTAGE_MS (30 ms)');
  });
});
